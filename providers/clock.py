"""Time comes from an injected clock so that every schedule can be tested.

The clock lives at the bottom of the dependency graph: providers (token expiry, rate limits)
and the store (every timestamp it writes) both need it and may import nothing above them, and
the store already builds on `providers.base`, so this module adds no new edge. `bot.clock`
re-exports it for the services and the composition root.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; `ledgerlink tick --now` and tests use it."""

    def __init__(self, moment: datetime):
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = moment.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._moment += timedelta(**delta)
        return self._moment
