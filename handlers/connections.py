"""Connection lifecycle in Slack: connect, reconnect, disconnect, settings, and their buttons.

Every button, select and form that acts checks again that the user is an admin (the shared
`handlers.guards.admins_only`) and that what it names belongs to the user's own workspace; a
forged or stale payload changes nothing.
"""

from __future__ import annotations

import functools

from handlers import connection_messages as msgs
from handlers import ids, messages
from handlers.deps import Deps
from handlers.grammar import Command
from handlers.guards import admins_only, reply
from handlers.home import publish_home
from handlers.payloads import parse_id, team_and_user
from handlers.settings import open_settings
from handlers.settings import register as register_settings
from store import OAuthState

ADMIN_ACTION = "manage the accounting connection"


# -- /integrations subcommands ----------------------------------------------------------------


def connect(parsed: Command, command: dict, client, deps: Deps) -> dict:
    provider = parsed.args[0]
    team_id = command["team_id"]
    if provider not in deps.providers:
        return msgs.not_configured(provider, deps.config.public_url)
    current = deps.store.current_connection(team_id)
    if current is not None:
        return msgs.already_connected(
            current, provider, deps.clock.now(), can_switch=provider in deps.providers
        )
    url = deps.connections.login_url(
        OAuthState(
            team_id=team_id,
            user_id=command["user_id"],
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            provider=provider,
            purpose="connect",
        )
    )
    return msgs.login_link(provider, url, purpose="connect")


def reconnect(parsed: Command, command: dict, client, deps: Deps) -> dict:
    current = deps.store.current_connection(command["team_id"])
    return _reconnect_link(
        current,
        deps,
        user_id=command["user_id"],
        channel_id=command.get("channel_id"),
        response_url=command.get("response_url"),
    )


def disconnect(parsed: Command, command: dict, client, deps: Deps) -> dict:
    current = deps.store.current_connection(command["team_id"])
    if current is None:
        return messages.status_message(None, deps.clock.now())
    return msgs.disconnect_prompt(current)


def settings(parsed: Command, command: dict, client, deps: Deps) -> None:
    open_settings(client, deps, command["team_id"], command["user_id"], command["trigger_id"])


def warn_new_supplier(parsed: Command, command: dict, client, deps: Deps) -> dict:
    team_id, on = command["team_id"], parsed.args[0] == "on"
    current = deps.store.settings(team_id)
    deps.store.save_settings(
        team_id, type(current)(**{**current.__dict__, "warn_new_supplier": on})
    )
    deps.store.audit(team_id, command["user_id"], "setting_changed", warn_new_supplier=on)
    return msgs.warn_setting_changed(on)


SUBCOMMANDS = {
    "connect": connect,
    "reconnect": reconnect,
    "disconnect": disconnect,
    "settings": settings,
    "warn-new-supplier": warn_new_supplier,
}


def _reconnect_link(
    connection, deps: Deps, *, user_id: str, channel_id: str | None, response_url: str | None
) -> dict:
    if connection is None:
        return msgs.nothing_to_reconnect()
    if connection.provider not in deps.providers:
        return msgs.not_configured(connection.provider, deps.config.public_url)
    url = deps.connections.login_url(
        OAuthState(
            team_id=connection.team_id,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            provider=connection.provider,
            purpose="reconnect",
            connection_id=connection.id,
        )
    )
    return msgs.login_link(connection.provider, url, purpose="reconnect")


# -- buttons and selects ----------------------------------------------------------------------


def _own_current_connection(value: str, team_id: str, deps: Deps):
    """The connection a button names, only if it is this team's current connection."""
    connection_id = parse_id(value)
    connection = None if connection_id is None else deps.store.connection(connection_id)
    current = deps.store.current_connection(team_id)
    if connection is None or current is None or connection.id != current.id:
        return None
    return connection


def _button_connection(body, action, client, respond, deps: Deps):
    """(team_id, user_id, connection) for a button on this team's current connection; the
    connection is None, and the user was told the button is stale, when it names another."""
    team_id, user_id = team_and_user(body)
    connection = _own_current_connection(action.get("value"), team_id, deps)
    if connection is None:
        reply(body, client, respond, msgs.stale_action())
    return team_id, user_id, connection


@admins_only(ADMIN_ACTION)
def on_reconnect(body, action, client, respond, *, deps: Deps) -> None:
    _, user_id, connection = _button_connection(body, action, client, respond, deps)
    if connection is None:
        return
    reply(
        body,
        client,
        respond,
        _reconnect_link(
            connection,
            deps,
            user_id=user_id,
            channel_id=(body.get("channel") or {}).get("id"),
            response_url=body.get("response_url"),
        ),
    )


@admins_only(ADMIN_ACTION)
def on_connect_provider(body, action, client, respond, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    provider = action.get("value")
    if provider not in msgs.PROVIDER_NAMES:
        reply(body, client, respond, msgs.stale_action())
        return
    command = {
        "team_id": team_id,
        "user_id": user_id,
        "channel_id": None,
        "response_url": body.get("response_url"),
    }
    reply(body, client, respond, connect(Command("connect", (provider,)), command, client, deps))


@admins_only(ADMIN_ACTION)
def on_switch_provider(body, action, client, respond, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    provider = action.get("value")
    if provider not in deps.providers or deps.store.current_connection(team_id) is None:
        reply(body, client, respond, msgs.stale_action())
        return
    url = deps.connections.login_url(
        OAuthState(
            team_id=team_id,
            user_id=user_id,
            channel_id=(body.get("channel") or {}).get("id"),
            response_url=body.get("response_url"),
            provider=provider,
            purpose="switch",
        )
    )
    reply(body, client, respond, msgs.login_link(provider, url, purpose="connect"), replace=True)


@admins_only(ADMIN_ACTION)
def on_choose_tenant(body, action, client, respond, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    grant_id, _, index = ((action.get("selected_option") or {}).get("value") or "").partition("|")
    tenant_index = parse_id(index)
    if tenant_index is None:
        reply(body, client, respond, msgs.stale_action())
        return
    result = deps.connections.choose_tenant(
        grant_id, tenant_index, team_id=team_id, user_id=user_id
    )
    _reply_result(body, client, respond, result)


def _reply_result(body, client, respond, result) -> None:
    """Replace the choice that was made with its outcome."""
    reply(
        body, client, respond, result.slack or messages.plain_message(result.message), replace=True
    )


@admins_only(ADMIN_ACTION)
def on_tenant_switch(body, action, client, respond, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    result = deps.connections.confirm_tenant_switch(
        action.get("value") or "",
        team_id=team_id,
        user_id=user_id,
        confirmed=action["action_id"] == ids.CONFIRM_TENANT_SWITCH,
    )
    _reply_result(body, client, respond, result)


@admins_only(ADMIN_ACTION)
def on_disconnect(body, action, client, respond, *, deps: Deps) -> None:
    team_id, user_id, connection = _button_connection(body, action, client, respond, deps)
    if connection is None:
        return
    try:
        problem = deps.connections.disconnect(connection, actor=user_id)
    except LookupError:  # bot.connections.AlreadyDisconnected: another click was first
        reply(body, client, respond, msgs.stale_action())
        return
    reply(
        body,
        client,
        respond,
        msgs.disconnected(connection, user_id, problem),
        replace=bool(body.get("response_url")),
    )
    publish_home(client, deps, team_id, user_id)


def on_link_opened(ack) -> None:
    """Link buttons also send an action; there is nothing to do but acknowledge it."""
    ack()


def register(app, deps: Deps) -> None:
    bind = functools.partial
    app.action(ids.CONNECT_LINK)(on_link_opened)
    app.action(ids.RECONNECT)(bind(on_reconnect, deps=deps))
    app.action(ids.CONNECT_PROVIDER)(bind(on_connect_provider, deps=deps))
    app.action(ids.SWITCH_PROVIDER)(bind(on_switch_provider, deps=deps))
    app.action(ids.CHOOSE_TENANT)(bind(on_choose_tenant, deps=deps))
    app.action(ids.CONFIRM_TENANT_SWITCH)(bind(on_tenant_switch, deps=deps))
    app.action(ids.CANCEL_TENANT_SWITCH)(bind(on_tenant_switch, deps=deps))
    app.action(ids.DISCONNECT)(bind(on_disconnect, deps=deps))
    register_settings(app, deps)
