"""The sync engine's interface (implementation in progress in this module).

`SyncService.request` starts a sync of one connection in the background and returns at once;
`SyncService.run` syncs synchronously (jobs and tests). Only one sync per connection runs at a
time; a second request is answered with `SyncAlreadyRunning`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SyncOutcome:
    connection_id: int
    run_id: int
    ok: bool
    full: bool
    seconds: float
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> new/updated/...
    error: str | None = None  # plain words for the user when not ok


@dataclass(frozen=True)
class SyncStarted:
    run_id: int


@dataclass(frozen=True)
class SyncAlreadyRunning:
    run_id: int
    requested_by: str | None
    started_at: object


class SyncService:
    def __init__(self, *, config, store, providers, clock, notifier, executor):
        self.config = config
        self.store = store
        self.providers = providers
        self.clock = clock
        self.notifier = notifier
        self.executor = executor

    def request(
        self,
        connection_id: int,
        *,
        full: bool = False,
        requested_by: str | None = None,
        on_done: Callable[[SyncOutcome], None] | None = None,
    ) -> SyncStarted | SyncAlreadyRunning:
        raise NotImplementedError

    def run(
        self, connection_id: int, *, full: bool = False, requested_by: str | None = None
    ) -> SyncOutcome:
        raise NotImplementedError
