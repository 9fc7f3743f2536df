"""Wiring: every service a handler, route or job uses, built once from the same parts.

`create_app` builds these for the Bolt app; `ledgerlink tick` without Slack credentials builds
the same without Bolt, so jobs that need no Slack still run.
"""

from __future__ import annotations

from concurrent.futures import Executor

from slack_sdk import WebClient

from bot.admins import AdminPolicy
from bot.clock import Clock
from bot.config import Config
from bot.connections import ConnectionService
from bot.events import ConnectionEvents
from bot.items import ItemService
from bot.notify import Notifier
from bot.outbox import Outbox
from bot.slack_clients import SlackClients
from bot.sync import SyncService
from handlers import outbox_messages, render
from handlers.deps import Deps


def build_deps(
    config: Config,
    *,
    store,
    providers: dict,
    clock: Clock,
    executor: Executor,
    client: WebClient | None = None,
    installation_store=None,
) -> Deps:
    clients = SlackClients(config, installation_store=installation_store, default_client=client)
    outbox = Outbox(
        store,
        clients,
        clock,
        render_group=outbox_messages.grouped_prompts,
        render_note=outbox_messages.with_note,
    )
    notifier = Notifier(outbox, store, render=render.render)
    events = ConnectionEvents()
    common = {
        "config": config,
        "store": store,
        "providers": providers,
        "clock": clock,
        "notifier": notifier,
        "executor": executor,
    }
    sync = SyncService(**common)
    items = ItemService(**common)
    # Items held while there was no working connection publish once one is back.
    events.on_restored(items.publish_held)
    # Items that came before a connection's first sync go ahead once its lists are committed.
    sync.on_committed(items.release_waiting)
    return Deps(
        **{k: v for k, v in common.items() if k != "notifier"},
        notifier=notifier,
        admins=AdminPolicy(store=store, configured=config.admins),
        clients=clients,
        sync=sync,
        connections=ConnectionService(**common, clients=clients, sync=sync, events=events),
        events=events,
        items=items,
        outbox=outbox,
    )
