"""Turns what the services report (`bot.outcomes`) into Slack messages.

The composition root hands `render` to the `Notifier`; the services then queue whatever it
returns. Each outcome's fields are its builder's keyword arguments.
"""

from __future__ import annotations

from dataclasses import fields

from bot import outcomes as o
from handlers import connection_messages as connection
from handlers import item_messages as item
from handlers import sync_messages as sync

BUILDERS = {
    o.ItemDuplicate: item.duplicate,
    o.SupplierNeeded: item.supplier_prompt,
    o.WaitingForSync: item.waiting_for_sync,
    o.HeldNotConnected: item.not_connected,
    o.HeldExpired: item.connection_expired,
    o.ItemResolved: item.resolved,
    o.ItemDiscarded: item.discarded,
    o.HeldPublished: item.held_published,
    o.ItemPublishing: item.publishing,
    o.ItemPublished: item.published,
    o.PublishFailed: item.publish_error,
    o.PublishQueued: item.queued,
    o.PromptReminder: item.prompt_reminder,
    o.ExpiryReminder: sync.expiry_reminder,
    o.ConnectionExpiredNotice: sync.connection_expired_notice,
    o.FirstSyncFailed: sync.first_sync_failed,
    o.SyncFailing: sync.sync_failing,
    o.SyncRecovered: sync.sync_recovered,
    o.LoginCancelled: connection.cancelled,
    o.LoginFailed: connection.login_failed,
    o.NoTenants: connection.no_tenants,
    o.ChooseTenant: connection.choose_tenant,
    o.ConfirmTenantSwitch: connection.confirm_tenant_switch,
    o.TenantSwitchKept: connection.tenant_switch_kept,
    o.ConnectRaced: connection.raced,
    o.Connected: connection.connected,
}


def render(outcome) -> dict:
    """The Slack message ({"text", "blocks"}) that shows `outcome`."""
    build = BUILDERS[type(outcome)]
    return build(**{f.name: getattr(outcome, f.name) for f in fields(outcome)})
