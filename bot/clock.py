"""Time comes from an injected clock so that every schedule can be tested."""

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
