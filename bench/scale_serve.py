"""`ledgerlink serve` on a compressed clock, for the scale simulation (bench/scale_bench.py).

    python -m bench.scale_serve ORIGIN START SPEED TICKS_FILE -- [serve arguments]

Simulated time is ORIGIN (ISO 8601) at the real epoch second START, and runs SPEED times as
fast as real time: every process of one simulation is given the same three values, so they
agree on the time. Everything else is the real `ledgerlink serve` (`bot.cli.main`), with two
replacements made before it starts:

* the runtime's clock (`bot.runtime.SystemClock`) is the compressed one, so every schedule
  (syncs, reminders, retries) and every stored timestamp is in simulated time; leases keep
  the store's wall clock, so a lease lasts its real number of seconds;
* the scheduler (`bot.cli.SchedulerThread`) ticks every 60 simulated seconds, as serve's does
  every 60 real ones, and appends one line per tick to TICKS_FILE: the real time the tick
  started, how long it took (seconds) and what each job did, as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timedelta

import bot.cli
import bot.runtime
from bot.scheduler import DEFAULT_INTERVAL_SECONDS, SchedulerThread, run_due


class CompressedClock:
    def __init__(self, origin: datetime, start: float, speed: float):
        self.origin, self.start, self.speed = origin, start, speed

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.time() - self.start) * self.speed)


def timed_scheduler(speed: float, ticks_file: str):
    lock = threading.Lock()

    class TimedScheduler(SchedulerThread):
        def __init__(self, jobs, clock, **_):
            super().__init__(jobs, clock, interval=DEFAULT_INTERVAL_SECONDS / speed)

        def _loop(self) -> None:
            while not self._stop.is_set():
                started = time.time()
                results = run_due(self._jobs, self._clock)
                line = {
                    "at": started,
                    "seconds": time.time() - started,
                    "done": {r.name: r.done for r in results},
                    "errors": [f"{r.name}: {r.error}" for r in results if r.error],
                }
                with lock, open(ticks_file, "a", encoding="utf-8") as out:
                    out.write(json.dumps(line) + "\n")
                self._stop.wait(self._interval)

    return TimedScheduler


def main(argv: list[str]) -> int:
    if len(argv) < 5 or argv[4] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    origin = datetime.fromisoformat(argv[0])
    start, speed, ticks_file = float(argv[1]), float(argv[2]), argv[3]
    clock = CompressedClock(origin, start, speed)
    bot.runtime.SystemClock = lambda: clock
    bot.cli.SchedulerThread = timed_scheduler(speed, ticks_file)
    return bot.cli.main(["serve", *argv[5:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
