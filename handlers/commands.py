"""`/integrations`: parse, check, acknowledge at once, then reply privately via response_url."""

from __future__ import annotations

import functools
from collections.abc import Callable

from handlers import connections, ids, items, messages, refresh
from handlers.deps import Deps
from handlers.grammar import ADMIN_SUBCOMMANDS, Command, UsageError, parse

ADMIN_ACTIONS = {
    "connect": "connect accounting software",
    "reconnect": "reconnect the accounting software",
    "disconnect": "disconnect the accounting software",
    "warn-new-supplier": "change the new-supplier warning",
    "admins": "add or remove ledgerlink admins",
}


def handle_integrations(ack, command, respond, client, *, deps: Deps) -> None:
    ack()
    team_id, user_id = command["team_id"], command["user_id"]
    deps.store.ensure_workspace(team_id, team_name=command.get("team_domain"))
    try:
        parsed = parse(command.get("text"))
    except UsageError as error:
        respond(**messages.usage_error_message(error))
        return
    needs_admin = parsed.name in ADMIN_SUBCOMMANDS or (
        parsed.name == "admins" and parsed.args[0] != "list"
    )
    if needs_admin and not deps.admins.is_admin(client, team_id, user_id):
        roster = deps.admins.roster(team_id)
        respond(**messages.refusal_message(ADMIN_ACTIONS[parsed.name], roster.named))
        return
    # Subcommands whose capability has not shipped yet answer honestly instead of pretending.
    reply = SUBCOMMANDS.get(parsed.name, _not_available)(parsed, command, client, deps)
    if reply is not None:  # None: the subcommand answered another way (e.g. opened a modal)
        respond(**reply)


def _overview(parsed: Command, command: dict, client, deps: Deps) -> dict:
    return messages.overview_message(
        deps.store.current_connection(command["team_id"]), deps.clock.now()
    )


def _status(parsed: Command, command: dict, client, deps: Deps) -> dict:
    return messages.status_message(
        deps.store.current_connection(command["team_id"]), deps.clock.now()
    )


def _help(parsed: Command, command: dict, client, deps: Deps) -> dict:
    return messages.help_message()


def _admins(parsed: Command, command: dict, client, deps: Deps) -> dict:
    team_id, actor = command["team_id"], command["user_id"]
    action = parsed.args[0]
    if action == "list":
        return messages.admins_message(deps.admins.roster(team_id).named)
    target = parsed.args[1]
    if action == "add":
        changed = deps.store.add_admin(team_id, target, added_by=actor)
    else:
        if target in deps.config.admins:
            return messages.error_message(
                f"<@{target}> is an admin through the LEDGERLINK_ADMINS setting; remove them there."
            )
        if changed := deps.store.is_listed_admin(team_id, target):
            if deps.admins.roster(team_id).named == (target,):
                return messages.error_message(
                    f"<@{target}> is the last ledgerlink admin, so they can't be removed. "
                    "Add another admin first."
                )
            changed = deps.store.remove_admin(team_id, target)
    if changed:
        deps.store.audit(team_id, actor, f"admin_{action}", user=target)
    deps.admins.forget(team_id, target)
    return messages.admin_changed_message(action, target, changed)


def _not_available(parsed: Command, command: dict, client, deps: Deps) -> dict:
    return messages.not_available_message(parsed.name)


SUBCOMMANDS: dict[str, Callable[[Command, dict, object, Deps], dict | None]] = {
    "overview": _overview,
    "status": _status,
    "help": _help,
    "admins": _admins,
    "refresh": refresh.handle_refresh,
    "submit": items.submit_command,
    **connections.SUBCOMMANDS,
}


def register(app, deps: Deps) -> None:
    app.command(ids.COMMAND)(functools.partial(handle_integrations, deps=deps))
