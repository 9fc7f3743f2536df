"""What handlers need, bound once in `register(app, deps)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.admins import AdminPolicy
from bot.clock import Clock
from bot.config import Config


@dataclass(frozen=True)
class Deps:
    config: Config
    store: Any  # store.Store (kept loose so tests can pass a fake)
    providers: dict[str, Any]  # name -> providers.base.Provider
    clock: Clock
    admins: AdminPolicy
