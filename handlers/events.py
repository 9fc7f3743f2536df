"""Events: the App Home tab, and uninstall / token revocation."""

from __future__ import annotations

import functools

from slack_bolt.listener.builtins import TokenRevocationListeners

from handlers import messages
from handlers.deps import Deps


def handle_app_home_opened(event, client, context, *, deps: Deps) -> None:
    if event.get("tab", "home") != "home":
        return
    team_id, user_id = context.team_id, event["user"]
    deps.store.ensure_workspace(team_id)
    view = messages.home_view(
        connection=deps.store.current_connection(team_id),
        now=deps.clock.now(),
        is_admin=deps.admins.is_admin(client, team_id, user_id),
    )
    client.views_publish(user_id=user_id, view=view)


def handle_app_uninstalled(context, *, deps: Deps, revocation: TokenRevocationListeners | None):
    deps.store.mark_uninstalled(context.team_id)
    deps.store.audit(context.team_id, "slack", "app_uninstalled")
    if revocation is not None:
        revocation.handle_app_uninstalled_events(context)


def handle_tokens_revoked(
    event, context, *, deps: Deps, revocation: TokenRevocationListeners | None
):
    deps.store.audit(context.team_id, "slack", "tokens_revoked")
    if revocation is not None:
        revocation.handle_tokens_revoked_events(event, context)


def register(app, deps: Deps) -> None:
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
