"""What the sync engine answers (`bot.sync` re-exports these).

Kept apart from the engine so that handlers can import them without importing the engine,
which imports the handlers' message builders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SyncOutcome:
    connection_id: int
    run_id: int
    ok: bool
    full: bool
    seconds: float
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> new/updated/...
    error: str | None = None  # plain words for the user when not ok (mrkdwn-safe)
    result: str = "ok"  # ok | failed | deferred | expired
    retry_at: datetime | None = None  # when the scheduler may try again, after a failure


@dataclass(frozen=True)
class SyncProgress:
    """How far a running sync has read one provider list (for "12,000 of about 100,000")."""

    kinds: tuple[str, ...]  # the list kinds this provider list gives
    read: int  # items read so far
    expected: int | None  # how many the provider said the list holds, if it said


@dataclass(frozen=True)
class SyncStarted:
    run_id: int


@dataclass(frozen=True)
class SyncAlreadyRunning:
    run_id: int
    requested_by: str | None
    started_at: object


class SyncBusy(Exception):
    """`SyncService.run` found a sync of the connection already running."""

    def __init__(self, running: SyncAlreadyRunning):
        self.running = running
        super().__init__(f"sync run {running.run_id} is already running")
