"""The settings modal: editable for admins, read-only for everyone else."""

from __future__ import annotations

import functools
import logging

from bot import categories
from handlers import connection_messages as msgs
from handlers import ids
from handlers.deps import Deps
from handlers.payloads import team_and_user
from store.workspaces import BILL_STATUSES, Settings

log = logging.getLogger("ledgerlink.settings")


def bill_statuses(deps: Deps, connection) -> tuple[str, ...]:
    """The bill statuses the connected provider supports (all of ours when not connected)."""
    provider = deps.providers.get(connection.provider) if connection else None
    if provider is None:
        return BILL_STATUSES
    return tuple(s for s in BILL_STATUSES if s in provider.capabilities.bill_statuses)


def expense_accounts(deps: Deps, connection) -> list[tuple[str, str]]:
    """(code, name) of the synced active expense accounts (all accounts if the provider's
    types are unknown), for the default purchases account and the item form."""
    return expense_accounts_of(deps.store, connection)


def expense_accounts_of(store, connection) -> list[tuple[str, str]]:
    if connection is None:
        return []
    records = categories.expense_accounts(store.active_records(connection.id, "account"))
    return sorted((r.code or r.remote_id, r.name) for r in records)


def default_account_problem(store, connection, value: str | None) -> str | None:
    """Why `value` cannot be the default purchases account, resolved as an item's category
    is (code, name or id; archived and non-expense accounts refused); None when it can."""
    if value is None or connection is None:
        return None
    resolution = categories.resolve_category(store.all_records(connection.id, "account"), value)
    return resolution.error


def open_settings(client, deps: Deps, team_id: str, user_id: str, trigger_id: str) -> None:
    connection = deps.store.current_connection(team_id)
    view = msgs.settings_view(
        deps.store.settings(team_id),
        accounts=expense_accounts(deps, connection),
        bill_statuses=bill_statuses(deps, connection),
        editable=deps.admins.is_admin(client, team_id, user_id),
    )
    client.views_open(trigger_id=trigger_id, view=view)


def parse_submission(
    values: dict, *, statuses: tuple[str, ...], account_codes: set[str]
) -> tuple[Settings | None, dict[str, str]]:
    """The settings a submitted modal asks for, or per-block errors. Pure."""
    errors = {}

    def element(block_id: str, action_id: str) -> dict:
        return (values.get(block_id) or {}).get(action_id) or {}

    warn = element(ids.SETTINGS_WARN_BLOCK, ids.SETTINGS_WARN).get("selected_options") or []
    channel = element(ids.SETTINGS_CHANNEL_BLOCK, ids.SETTINGS_CHANNEL).get("selected_conversation")
    status = (
        element(ids.SETTINGS_STATUS_BLOCK, ids.SETTINGS_STATUS).get("selected_option") or {}
    ).get("value")
    account = (
        element(ids.SETTINGS_ACCOUNT_BLOCK, ids.SETTINGS_ACCOUNT).get("selected_option") or {}
    ).get("value")
    if status not in statuses:
        errors[ids.SETTINGS_STATUS_BLOCK] = "Choose one of the listed statuses."
    if channel is not None and not (
        isinstance(channel, str) and channel[:1] in "CGD" and channel.isalnum()
    ):
        errors[ids.SETTINGS_CHANNEL_BLOCK] = "Choose a channel."
    if account is not None and account not in account_codes:
        errors[ids.SETTINGS_ACCOUNT_BLOCK] = "That account is not in the synced chart of accounts."
    if errors:
        return None, errors
    return Settings(
        warn_new_supplier=any(option.get("value") == "on" for option in warn),
        notification_channel=channel,
        bill_status=status,
        default_account_code=account,
    ), {}


def on_open_settings(ack, body, client, *, deps: Deps) -> None:
    ack()
    team_id, user_id = team_and_user(body)
    open_settings(client, deps, team_id, user_id, body["trigger_id"])


def on_submit(ack, body, view, client, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    if not deps.admins.is_admin(client, team_id, user_id):
        ack(
            response_action="errors",
            errors={ids.SETTINGS_STATUS_BLOCK: "Only ledgerlink admins can change settings."},
        )
        return
    connection = deps.store.current_connection(team_id)
    settings, errors = parse_submission(
        view["state"]["values"],
        statuses=bill_statuses(deps, connection),
        account_codes={code for code, _ in expense_accounts(deps, connection)},
    )
    problem = settings and default_account_problem(
        deps.store, connection, settings.default_account_code
    )
    if problem:
        errors = {ids.SETTINGS_ACCOUNT_BLOCK: problem[:150]}
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    deps.store.save_settings(team_id, settings)
    deps.store.audit(team_id, user_id, "settings_saved", **settings.__dict__)
    deps.notifier.direct(team_id, user_id, msgs.settings_saved(settings))


def register(app, deps: Deps) -> None:
    app.action(ids.OPEN_SETTINGS)(functools.partial(on_open_settings, deps=deps))
    app.view(ids.SETTINGS_VIEW)(functools.partial(on_submit, deps=deps))
