"""Scheduled work, computed from stored state rather than in-memory timers.

A job is any object with a `name` and `run_due(now) -> int` that does whatever is due at `now`
and returns how many things it did. `ledgerlink serve` runs every job once a minute in a
background thread; `ledgerlink tick --now` runs them once. Because each job derives what is due
from the database, a restart loses nothing and a missed schedule runs once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock

log = logging.getLogger("ledgerlink.scheduler")

DEFAULT_INTERVAL_SECONDS = 60.0


class Job(Protocol):
    name: str

    def run_due(self, now) -> int: ...


@dataclass(frozen=True)
class JobResult:
    name: str
    done: int = 0
    error: str | None = None


def run_due(jobs: Sequence[Job], clock: Clock) -> list[JobResult]:
    """Run every job once at the clock's time; one job failing does not stop the others."""
    now = clock.now()
    results = []
    for job in jobs:
        try:
            results.append(JobResult(job.name, job.run_due(now)))
        except Exception as error:  # a job's failure is logged and retried next tick
            log.exception("scheduled job %s failed", job.name)
            results.append(JobResult(job.name, error=f"{type(error).__name__}: {error}"))
    return results


class SchedulerThread:
    def __init__(
        self, jobs: Sequence[Job], clock: Clock, *, interval: float = DEFAULT_INTERVAL_SECONDS
    ):
        self._jobs = jobs
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ledgerlink-scheduler", daemon=True)

    def start(self) -> None:
        if self._jobs:
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            run_due(self._jobs, self._clock)
            self._stop.wait(self._interval)
