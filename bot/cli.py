"""The `ledgerlink` command line (also `python -m bot`).

Exit codes: 0 ok, 2 bad usage or configuration (one line on stderr saying why).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import datetime

from slack_bolt.error import BoltError

from bot import logsetup
from bot.clock import FixedClock, SystemClock
from bot.config import Config, ConfigError
from bot.manifest import ManifestError, render_manifest
from bot.runtime import Runtime
from bot.scheduler import SchedulerThread, run_due
from bot.socket_mode import close_socket_mode, socket_mode_handler
from store import DatabaseError, SecretKeyError, open_store

log = logging.getLogger("ledgerlink")


class UsageFailure(Exception):
    """Bad usage or configuration: print the message and exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerlink",
        description="Run your Xero or QuickBooks Online connection from Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve Slack and OAuth endpoints and run the scheduler"
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)",
    )
    _port_option(serve, "port")
    serve.add_argument(
        "--socket-mode",
        action="store_true",
        help="receive Slack requests over Socket Mode (needs SLACK_APP_TOKEN)",
    )

    tick = commands.add_parser("tick", help="run the scheduled jobs that are due, once")
    tick.add_argument(
        "--now", type=_iso_datetime, help="the time to run at (ISO 8601; default: now)"
    )

    token = commands.add_parser("token", help="manage API tokens for POST /api/items")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("--team", required=True, help="Slack team ID, like T012AB3CD")
    create.add_argument("--name", default="api", help="what the token is for")
    listing = token_commands.add_parser("list", help="list tokens (never their values)")
    listing.add_argument("--team", help="only this team's tokens")
    revoke = token_commands.add_parser("revoke", help="revoke a token by its ID")
    revoke.add_argument("id", type=int)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL (default: LEDGERLINK_PUBLIC_URL)")

    demo = commands.add_parser(
        "demo", help="the offline playground: a local chat page and a sandbox ledger"
    )
    _port_option(demo, "port on 127.0.0.1")
    demo.add_argument(
        "--db",
        default="./ledgerlink-demo.db",
        help="demo database (default ./ledgerlink-demo.db; the sandbox's data goes beside it)",
    )
    return parser


def _port_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--port", type=int, default=3000, help=f"{what} (default 3000; 0 picks a free one)"
    )


def main(argv: list[str] | None = None, environ=None) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # The demo makes up all its settings: a malformed variable it would ignore anyway must
        # not stop it.
        config = None if args.command in READS_NO_SETTINGS else Config.from_env(environ)
        return COMMANDS[args.command](args, config)
    except (UsageFailure, ConfigError, SecretKeyError, DatabaseError, ManifestError) as error:
        print(f"ledgerlink: {error}", file=sys.stderr)
        return 2


def cmd_serve(args, config: Config) -> int:
    config.check_serve(socket_mode=args.socket_mode)
    logsetup.configure(_secrets(config))
    runtime = Runtime.open(config)
    try:
        try:
            runtime.start_app()
        except BoltError as error:
            raise UsageFailure(f"SLACK_BOT_TOKEN: Slack did not accept it ({error})") from None
        from bot.server import Server  # imported late: waitress is only needed to serve

        server = Server(runtime.wsgi(), host=args.host, port=args.port)
        socket_mode = None
        if args.socket_mode:
            socket_mode = socket_mode_handler(runtime.app, config.slack_app_token)
            socket_mode.connect()
        sender, jobs = runtime.start_sender()
        scheduler = SchedulerThread(jobs, runtime.clock)
        scheduler.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: server.stop())
        log.info(
            "ledgerlink listening on %s (%s); data in %s",
            server.url,
            "Socket Mode" if socket_mode else "HTTP",
            runtime.store.database.describe(),
        )
        server.serve()
        if socket_mode is not None:
            close_socket_mode(socket_mode)
        scheduler.stop()
        sender.stop()
        log.info("stopping: waiting for background work to finish (any sync in progress)")
    finally:
        runtime.close()
    log.info("stopped")
    return 0


def cmd_tick(args, config: Config) -> int:
    logsetup.configure(_secrets(config))
    clock = FixedClock(args.now) if args.now else SystemClock()
    runtime = Runtime.open(config, clock=clock)
    try:
        try:
            runtime.start_jobs()
        except BoltError as error:
            raise UsageFailure(f"SLACK_BOT_TOKEN: Slack did not accept it ({error})") from None
        results = run_due(runtime.jobs, clock)
    finally:
        runtime.close()
    for result in results:
        print(f"{result.name}: {result.error or f'{result.done} done'}")
    print(f"ran {len(results)} job(s) at {clock.now().isoformat()}")
    return 1 if any(result.error for result in results) else 0


def cmd_token(args, config: Config) -> int:
    store = open_store(config.database, secret_key=config.secret_key)
    try:
        if args.token_command == "create":
            team = args.team.strip()
            if not (team[:1] in "TE" and team.isalnum()):
                raise UsageFailure(f"--team: not a Slack team ID (like T012AB3CD): {team!r}")
            store.ensure_workspace(team)
            record, token = store.create_api_token(team, args.name)
            print(f"Created API token #{record.id} ({record.name}) for team {team}.")
            print("Send it as 'Authorization: Bearer <token>'. It is shown only once:")
            print(token)
        elif args.token_command == "list":
            tokens = store.api_tokens(args.team)
            if not tokens:
                print("No API tokens.")
            for t in tokens:
                state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
                print(
                    f"#{t.id}\t{t.team_id}\t{t.name}\t…{t.hint}\tcreated {t.created_at}\t"
                    f"{state}\tlast used {t.last_used_at or 'never'}"
                )
        else:
            if not store.revoke_api_token(args.id):
                raise UsageFailure(f"no active API token #{args.id}")
            print(f"Revoked API token #{args.id}.")
    finally:
        store.close()
    return 0


def cmd_manifest(args, config: Config) -> int:
    sys.stdout.write(render_manifest(args.url or config.public_url))
    return 0


def cmd_demo(args, config: None) -> int:
    """The playground never reads the environment's Slack, provider or ledgerlink settings: it
    makes up its own, so it cannot reach a real workspace or accounting system."""
    from playground import demo  # imported late: the product itself never needs the playground

    try:
        return demo.run(port=args.port, db_path=args.db)
    except demo.PortUnavailable as error:
        raise UsageFailure(str(error)) from None


COMMANDS = {
    "serve": cmd_serve,
    "tick": cmd_tick,
    "token": cmd_token,
    "manifest": cmd_manifest,
    "demo": cmd_demo,
}
READS_NO_SETTINGS = frozenset({"demo"})


def _iso_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, like {value}Z or {value}+00:00")
    return moment


def _secrets(config: Config) -> list[str]:
    values = [
        config.slack_bot_token,
        config.slack_signing_secret,
        config.slack_app_token,
        config.slack_client_secret,
        config.secret_key,
    ]
    for credentials in (config.xero, config.quickbooks):
        if credentials:
            values.append(credentials.client_secret)
    return [v for v in values if v]
