"""The app factory: `create_app` builds the Bolt `App` and registers every listener.

Nothing is built at import time; `bot.cli` reads the environment and calls this.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import Executor, ThreadPoolExecutor
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

import handlers
from bot.clock import Clock
from bot.config import DEFAULT_SLACK_API_URL, Config
from bot.errors import UserFacingError
from bot.services import build_deps
from bot.slack_clients import web_client
from handlers import messages
from handlers.deps import Deps
from store.installations import EncryptedInstallationStore, slack_state_store

log = logging.getLogger("ledgerlink")

# The smallest set of bot scopes; README.md explains each one.
BOT_SCOPES = ("commands", "chat:write", "users:read", "im:write")
SLACK_INSTALL_STATE_SECONDS = 600


class _SameToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and, as ledgerlink hands it a
    client, warns at every start that the token goes unused: the client carries that same
    token (`web_client(config.slack_api_url, config.slack_bot_token)`), so the warning only
    alarms whoever reads the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOG = logging.getLogger("ledgerlink.bolt")
BOLT_LOG.addFilter(_SameToken())


class LedgerlinkApp(App):
    """Bolt's App, carrying the services its listeners were registered with."""

    deps: Deps


def create_app(
    config: Config,
    *,
    store,
    providers: dict,
    clock: Clock,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    work_executor: Executor | None = None,
) -> LedgerlinkApp:
    """`listener_executor` runs Bolt's listeners, `work_executor` (by default the same) the
    slow work they start (publishing, syncs): kept apart, slow providers cannot hold up the
    acknowledgements Slack wants within 3 seconds."""
    given = client  # a client passed in (playground, tests) also delivers the outbox
    client = client or web_client(config.slack_api_url, config.slack_bot_token)
    executor = listener_executor or ThreadPoolExecutor(
        max_workers=16, thread_name_prefix="ledgerlink-work"
    )
    app = LedgerlinkApp(
        name="ledgerlink",
        client=client,
        signing_secret=config.slack_signing_secret or "",
        oauth_settings=_oauth_settings(config, store) if config.multi_workspace else None,
        process_before_response=False,
        logger=BOLT_LOG,
        listener_executor=executor,
    )
    app.deps = build_deps(
        config,
        store=store,
        providers=providers,
        clock=clock,
        executor=work_executor or executor,
        client=given,
        installation_store=app.installation_store,
    )
    handlers.register_all(app, app.deps)
    app.error(_handle_error)
    return app


def _oauth_settings(config: Config, store) -> OAuthSettings:
    return OAuthSettings(
        client_id=config.slack_client_id,
        client_secret=config.slack_client_secret,
        scopes=list(BOT_SCOPES),
        # Workspaces' bot tokens are encrypted with the provider tokens' key.
        installation_store=EncryptedInstallationStore(
            database=store.database, client_id=config.slack_client_id, cipher=store.cipher
        ),
        state_store=slack_state_store(store.database, SLACK_INSTALL_STATE_SECONDS),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        redirect_uri=f"{config.public_url}/slack/oauth_redirect",
        authorization_url=slack_authorize_url(config.slack_api_url),
    )


def slack_authorize_url(api_url: str) -> str:
    """Slack's install page, on the same host as the Web API (a test double in tests)."""
    if api_url == DEFAULT_SLACK_API_URL:
        return "https://slack.com/oauth/v2/authorize"
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"


def _handle_error(error, body, respond, logger):
    """The one error handler: log with the traceback, tell the user something short."""
    if isinstance(error, UserFacingError):
        log.warning("user-facing error: %s", error)
        text = str(error)
    else:
        reference = secrets.token_hex(3)
        log.error("unhandled error (ref %s) for %s", reference, _describe(body), exc_info=error)
        text = (
            f"Something went wrong on ledgerlink's side (reference `{reference}`). "
            "Please try again; if it keeps happening, tell your ledgerlink admin."
        )
    if respond is not None and isinstance(body, dict) and body.get("response_url"):
        respond(**messages.error_message(text))


def _describe(body) -> str:
    if not isinstance(body, dict):
        return "request"
    kind = body.get("type") or (
        "command " + str(body.get("command")) if "command" in body else "request"
    )
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    return f"{kind} from team {team}"
