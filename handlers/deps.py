"""What handlers need, bound once in `register(app, deps)`."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from bot.admins import AdminPolicy
from bot.clock import Clock
from bot.config import Config
from bot.events import ConnectionEvents
from bot.notify import Notifier
from bot.slack_clients import SlackClients


@dataclass(frozen=True)
class Deps:
    config: Config
    store: Any  # store.Store (kept loose so tests can pass a fake)
    providers: dict[str, Any]  # name -> providers.base.Provider
    clock: Clock
    admins: AdminPolicy
    clients: SlackClients
    notifier: Notifier
    executor: Executor  # background work started by handlers and callbacks
    sync: Any  # bot.sync.SyncService
    connections: Any  # bot.connections.ConnectionService
    events: ConnectionEvents
    items: Any = None  # bot.items.ItemService
    outbox: Any = None  # bot.outbox.Outbox: every message on its way to Slack
