"""Block Kit for the connection lifecycle: pure functions, no I/O."""

from __future__ import annotations

from bot.wording import PROVIDER_NAMES, provider_name  # noqa: F401  (handlers.connections)
from handlers import ids
from handlers.messages import day, help_lines, section, status_text
from handlers.text import escape, plain_text

REDIRECT_PATH = "/oauth/{}/callback"
CREDENTIAL_VARIABLES = {
    "xero": ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET"),
    "quickbooks": ("QBO_CLIENT_ID", "QBO_CLIENT_SECRET"),
}
BILL_STATUS_LABELS = {
    "DRAFT": "Draft",
    "SUBMITTED": "Awaiting approval",
    "AUTHORISED": "Approved (awaiting payment)",
}


def _message(text: str, *extra: dict) -> dict:
    return {"text": text, "blocks": [section(text), *extra]}


def _button(
    text: str,
    action_id: str,
    value: str = "",
    *,
    style: str | None = None,
    url: str | None = None,
    confirm: dict | None = None,
) -> dict:
    button = {"type": "button", "text": plain_text(text), "action_id": action_id}
    if value:
        button["value"] = value
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str, yes: str, no: str = "Cancel", *, danger: bool = False) -> dict:
    dialog = {
        "title": plain_text(title),
        "text": {"type": "mrkdwn", "text": text},
        "confirm": plain_text(yes),
        "deny": plain_text(no),
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def actions(*elements: dict, block_id: str | None = None) -> dict:
    block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def reconnect_button(connection_id: int, provider: str) -> dict:
    return _button(
        f"Reconnect {provider_name(provider)}", ids.RECONNECT, str(connection_id), style="primary"
    )


def not_configured(provider: str, public_url: str) -> dict:
    if provider not in CREDENTIAL_VARIABLES:  # the sandbox: no setting turns it on
        return _message(
            f"{provider_name(provider)} is the demo ledger of the offline playground; "
            "it is only there in `ledgerlink demo`."
        )
    client_id, secret = CREDENTIAL_VARIABLES[provider]
    redirect = public_url + REDIRECT_PATH.format(provider)
    return _message(
        f"{provider_name(provider)} isn't set up on this ledgerlink server yet. Whoever runs "
        f"ledgerlink needs to set `{client_id}` and `{secret}`, and register the redirect URI "
        f"`{redirect}` in the {provider_name(provider)} developer app."
    )


def login_link(provider: str, url: str, *, purpose: str) -> dict:
    verb = "Reconnect to" if purpose == "reconnect" else "Connect to"
    text = (
        f"Log in to {provider_name(provider)} and choose the organisation to connect. "
        "The link works once, within 10 minutes."
    )
    return _message(
        text,
        actions(
            _button(f"{verb} {provider_name(provider)}", ids.CONNECT_LINK, url=url, style="primary")
        ),
    )


def already_connected(connection, requested: str, now, *, can_switch: bool) -> dict:
    current = provider_name(connection.provider)
    text = (
        f"This workspace is already connected to {current} — "
        f"*{escape(connection.tenant_name)}*.\n{status_text(connection, now)}"
    )
    buttons = [reconnect_button(connection.id, connection.provider)]
    if requested != connection.provider and can_switch:
        new = provider_name(requested)
        buttons.append(
            _button(
                f"Switch to {new}",
                ids.SWITCH_PROVIDER,
                requested,
                style="danger",
                confirm=_confirm(
                    f"Switch to {new}?",
                    f"ledgerlink will disconnect {current} — *{escape(connection.tenant_name)}* "
                    f"once you have logged in to {new}. Its synced lists and supplier rules will "
                    f"be dropped; items waiting to publish will go to {new}.",
                    "Switch",
                    danger=True,
                ),
            )
        )
    return _message(text, actions(*buttons))


def choose_tenant(grant, provider: str) -> dict:
    text = (
        f"You gave ledgerlink access to {len(grant.tenants)} {provider_name(provider)} "
        "organisations. *Choose the organisation to connect* — nothing is connected until "
        "you do."
    )
    options = [
        {"text": plain_text(tenant.name[:75] or "(unnamed)"), "value": f"{grant.id}|{index}"}
        for index, tenant in enumerate(grant.tenants[:100])
    ]
    select = {
        "type": "static_select",
        "action_id": ids.CHOOSE_TENANT,
        "placeholder": plain_text("Choose the organisation to connect"),
        "options": options,
    }
    return _message(text, actions(select))


def confirm_tenant_switch(grant, old_name: str, new_name: str) -> dict:
    text = (
        f"You chose *{escape(new_name)}*, but ledgerlink is connected to "
        f"*{escape(old_name)}*. Switching organisation drops the synced lists and supplier "
        f"rules of *{escape(old_name)}*."
    )
    return _message(
        text,
        actions(
            _button(
                f"Switch to {new_name[:60]}",
                ids.CONFIRM_TENANT_SWITCH,
                grant.id,
                style="danger",
                confirm=_confirm(
                    "Switch organisation?",
                    f"Connect *{escape(new_name)}* instead of *{escape(old_name)}*?",
                    "Switch",
                    danger=True,
                ),
            ),
            _button(f"Keep {old_name[:60]}", ids.CANCEL_TENANT_SWITCH, grant.id),
        ),
    )


def connected(connection, *, reconnected: bool = False) -> dict:
    verb = "Reconnected to" if reconnected else "Connected to"
    text = (
        f":white_check_mark: {verb} {provider_name(connection.provider)} — "
        f"*{escape(connection.tenant_name)}*. Connected by <@{connection.connected_by}>. "
        f"The connection expires on {day(connection.expires_at)}."
    )
    return _message(text)


def tenant_switch_kept(old_name: str) -> dict:
    return _message(f"Kept the connection to *{escape(old_name)}*. Nothing was changed.")


def cancelled(provider: str) -> dict:
    return _message(
        f"The connection to {provider_name(provider)} was cancelled, so nothing was changed."
    )


def no_tenants(provider: str) -> dict:
    return _message(
        f"{provider_name(provider)} didn't give ledgerlink access to any organisation, so "
        f"nothing was connected. Run `/integrations connect {provider}` again and choose an "
        "organisation when asked."
    )


def login_failed(provider: str, reason: str) -> dict:
    return _message(
        f":warning: Connecting to {provider_name(provider)} failed: "
        f"{escape(reason)} Nothing was changed; please try again."
    )


def raced(connection) -> dict:
    return _message(
        f"Someone connected {provider_name(connection.provider)} — "
        f"*{escape(connection.tenant_name)}* in the meantime, so your login was not used. "
        "Use `/integrations reconnect` to renew that connection."
    )


def nothing_to_reconnect() -> dict:
    return _message(
        "There is no connection to renew yet. An admin can run "
        "`/integrations connect xero` or `/integrations connect quickbooks`."
    )


def disconnect_prompt(connection) -> dict:
    name = provider_name(connection.provider)
    return _message(
        f"Disconnect {name} — *{escape(connection.tenant_name)}*? Publishing stops until "
        "someone connects again. Synced lists, supplier rules and history are kept.",
        actions(
            _button(
                f"Disconnect {name}",
                ids.DISCONNECT,
                str(connection.id),
                style="danger",
                confirm=_confirm(
                    f"Disconnect {name}?",
                    f"ledgerlink will stop publishing to *"
                    f"{escape(connection.tenant_name)}* and revoke its access.",
                    "Disconnect",
                    danger=True,
                ),
            )
        ),
    )


def disconnected(connection, actor: str, revoke_error: str | None) -> dict:
    text = (
        f"Disconnected {provider_name(connection.provider)} — "
        f"*{escape(connection.tenant_name)}* (by <@{actor}>). History and supplier rules "
        "are kept."
    )
    if revoke_error:
        text += (
            f"\n:warning: {provider_name(connection.provider)} did not confirm that "
            f"ledgerlink's access was revoked ({escape(revoke_error)}). To be sure, "
            "remove ledgerlink from the connected apps in its settings."
        )
    return _message(text)


def stale_action() -> dict:
    return _message(
        "That button belongs to a connection or login that no longer exists in "
        "this workspace, so nothing was changed."
    )


def warn_setting_changed(on: bool) -> dict:
    return _message(
        "New-supplier warning is *on*: ledgerlink asks before creating a supplier."
        if on
        else "New-supplier warning is *off*: unknown suppliers are created when bills publish."
    )


# -- settings ----------------------------------------------------------------------------------


def settings_view(
    settings, *, accounts: list[tuple[str, str]], bill_statuses: tuple[str, ...], editable: bool
) -> dict:
    """The settings modal. `accounts` are (code, name) of synced active expense accounts."""
    if not editable:
        lines = [
            "*Warn me when creating a new supplier:* "
            + ("on" if settings.warn_new_supplier else "off"),
            "*Notification channel:* "
            + (
                f"<#{settings.notification_channel}>"
                if settings.notification_channel
                else "the channel where the connection was made"
            ),
            f"*Published bills are:* {BILL_STATUS_LABELS.get(settings.bill_status, 'Draft')}",
            "*Default purchases account:* " + escape(settings.default_account_code or "none"),
            "_Only ledgerlink admins can change these._",
        ]
        return {
            "type": "modal",
            "callback_id": ids.SETTINGS_VIEW + "_readonly",
            "title": plain_text("ledgerlink settings"),
            "close": plain_text("Close"),
            "blocks": [section("\n".join(lines))],
        }
    warn_option = {
        "text": plain_text("Warn me when creating a new supplier"),
        "value": "on",
        "description": plain_text("Ask before ledgerlink creates a supplier"),
    }
    warn = {"type": "checkboxes", "action_id": ids.SETTINGS_WARN, "options": [warn_option]}
    if settings.warn_new_supplier:
        warn["initial_options"] = [warn_option]
    channel = {
        "type": "conversations_select",
        "action_id": ids.SETTINGS_CHANNEL,
        "placeholder": plain_text("Where the connection was made"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if settings.notification_channel:
        channel["initial_conversation"] = settings.notification_channel
    status_options = [
        {"text": plain_text(BILL_STATUS_LABELS[s]), "value": s} for s in bill_statuses
    ]
    status = {"type": "static_select", "action_id": ids.SETTINGS_STATUS, "options": status_options}
    current = next((o for o in status_options if o["value"] == settings.bill_status), None)
    if current:
        status["initial_option"] = current
    blocks = [
        {
            "type": "input",
            "block_id": ids.SETTINGS_WARN_BLOCK,
            "optional": True,
            "label": plain_text("New suppliers"),
            "element": warn,
        },
        {
            "type": "input",
            "block_id": ids.SETTINGS_CHANNEL_BLOCK,
            "optional": True,
            "label": plain_text("Notification channel for reminders and alerts"),
            "element": channel,
        },
        {
            "type": "input",
            "block_id": ids.SETTINGS_STATUS_BLOCK,
            "label": plain_text("Status of published bills"),
            "element": status,
        },
    ]
    account_options = [
        {"text": plain_text(f"{code} {name}"[:75]), "value": code[:150]}
        for code, name in accounts[:100]
    ]
    if account_options:
        account = {
            "type": "static_select",
            "action_id": ids.SETTINGS_ACCOUNT,
            "placeholder": plain_text("Choose an account"),
            "options": account_options,
        }
        chosen = next(
            (o for o in account_options if o["value"] == settings.default_account_code), None
        )
        if chosen:
            account["initial_option"] = chosen
        blocks.append(
            {
                "type": "input",
                "block_id": ids.SETTINGS_ACCOUNT_BLOCK,
                "optional": True,
                "label": plain_text("Default purchases account"),
                "element": account,
            }
        )
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (
                            "The default purchases account can be chosen once accounts have synced."
                        ),
                    }
                ],
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.SETTINGS_VIEW,
        "title": plain_text("ledgerlink settings"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "blocks": blocks,
    }


def settings_saved(settings) -> dict:
    channel = (
        f"<#{settings.notification_channel}>"
        if settings.notification_channel
        else "the channel where the connection was made"
    )
    return _message(
        "Settings saved: new-supplier warning "
        f"{'on' if settings.warn_new_supplier else 'off'}; reminders go to {channel}; bills "
        f"are published as {BILL_STATUS_LABELS.get(settings.bill_status, 'Draft').lower()}."
    )


# -- App Home ----------------------------------------------------------------------------------


def home_view(
    *, connection, now, is_admin: bool, configured: tuple[str, ...], extra_status: str | None = None
) -> dict:
    status = status_text(connection, now)
    if extra_status:
        status += "\n" + extra_status
    blocks = [{"type": "header", "text": plain_text("ledgerlink")}, section(status)]
    buttons = []
    if is_admin:
        if connection is None:
            buttons += [
                _button(f"Connect {provider_name(p)}", ids.CONNECT_PROVIDER, p, style="primary")
                for p in configured
            ]
        else:
            buttons.append(reconnect_button(connection.id, connection.provider))
            buttons.append(
                _button(
                    "Disconnect",
                    ids.DISCONNECT,
                    str(connection.id),
                    confirm=_confirm(
                        f"Disconnect {provider_name(connection.provider)}?",
                        "Publishing stops until someone connects again.",
                        "Disconnect",
                        danger=True,
                    ),
                )
            )
    buttons.append(_button("Settings", ids.OPEN_SETTINGS))
    blocks.append(actions(*buttons, block_id="home_actions"))
    blocks += [{"type": "divider"}, section(help_lines())]
    if not is_admin:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": ("Connecting and changing settings are for ledgerlink admins."),
                    }
                ],
            }
        )
    return {"type": "home", "blocks": blocks}
