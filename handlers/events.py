"""Events: the App Home tab, and uninstall / token revocation."""

from __future__ import annotations

import functools
import logging
import secrets

from slack_bolt.listener.builtins import TokenRevocationListeners

from handlers.deps import Deps
from handlers.home import publish_home

log = logging.getLogger("ledgerlink.events")

# Slack redelivers an unanswered event three times within about five minutes.
EVENT_MEMORY_SECONDS = 6 * 3600


def handle_app_home_opened(event, client, context, *, deps: Deps) -> None:
    if event.get("tab", "home") != "home":
        return
    deps.store.ensure_workspace(context.team_id)
    publish_home(client, deps, context.team_id, event["user"])


def first_delivery(body: dict, deps: Deps) -> bool:
    """False for an event already handled: Slack delivers an event again (X-Slack-Retry-Num)
    when it did not see the answer in time, and its `event_id` stays the same."""
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return True
    owner = secrets.token_hex(8)
    if deps.store.claim_lease(f"slack-event:{event_id}", owner, EVENT_MEMORY_SECONDS):
        return True
    log.info("event %s was delivered again; it was already handled", event_id)
    return False


def handle_app_uninstalled(
    body, context, *, deps: Deps, revocation: TokenRevocationListeners | None
):
    if not first_delivery(body, deps):
        return
    deps.store.mark_uninstalled(context.team_id)
    deps.store.audit(context.team_id, "slack", "app_uninstalled")
    if revocation is not None:
        revocation.handle_app_uninstalled_events(context)


def handle_tokens_revoked(
    body, event, context, *, deps: Deps, revocation: TokenRevocationListeners | None
):
    if not first_delivery(body, deps):
        return
    deps.store.audit(context.team_id, "slack", "tokens_revoked")
    if revocation is not None:
        revocation.handle_tokens_revoked_events(event, context)


def register(app, deps: Deps) -> None:
    # After a connect or reconnect, the admin who did it sees the new status on their Home tab.
    deps.events.on_restored(
        lambda connection: publish_home(
            deps.clients.for_team(connection.team_id),
            deps,
            connection.team_id,
            connection.connected_by,
        )
    )
    # In multi-workspace mode Slack's installation store must forget revoked tokens; these are
    # Bolt's own revocation listeners, called from ours so the workspace is marked too.
    store = app.installation_store
    revocation = TokenRevocationListeners(store) if store is not None else None
    app.event("app_home_opened")(functools.partial(handle_app_home_opened, deps=deps))
    app.event("app_uninstalled")(
        functools.partial(handle_app_uninstalled, deps=deps, revocation=revocation)
    )
    app.event("tokens_revoked")(
        functools.partial(handle_tokens_revoked, deps=deps, revocation=revocation)
    )
