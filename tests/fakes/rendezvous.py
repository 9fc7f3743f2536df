"""Make concurrent work provably overlap, across threads or OS processes.

A race test that merely starts two workers "at once" mostly tests the scheduler: one worker
often finishes before the other begins. These helpers stop each worker at the exact point
where the race is decided, until all of them are there, so every run exercises the race:

* `FileBarrier(directory, parties)` is a barrier for processes that share nothing but a
  directory: each arrival leaves a file, and waits until `parties` files are there; `met()`
  shows afterwards how many workers were at each meeting.
* `meet_around(obj, method, when, before=, after=)` makes `obj.method(...)` wait at one
  barrier before it runs and at another after, whenever `when(*args, **kwargs)` is true.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

WAIT_SECONDS = 30.0


class FileBarrier:
    """Like `threading.Barrier`, it can be used again and again: each process counts its own
    waits, and the n-th wait of every process meets in the subdirectory "n"."""

    def __init__(self, directory: str | Path, parties: int):
        self.directory = Path(directory)
        self.parties = parties
        self._waits = 0

    def arrived(self, generation: int) -> int:
        return len(list((self.directory / str(generation)).glob("arrived-*")))

    def met(self) -> list[int]:
        """How many workers arrived at each meeting so far, in order."""
        generations = sorted(int(path.name) for path in self.directory.iterdir())
        return [self.arrived(generation) for generation in generations]

    def wait(self) -> None:
        self._waits += 1
        meeting = self.directory / str(self._waits)
        meeting.mkdir(parents=True, exist_ok=True)
        (meeting / f"arrived-{os.getpid()}-{uuid.uuid4().hex}").touch()
        deadline = time.monotonic() + WAIT_SECONDS
        while self.arrived(self._waits) < self.parties:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {self.arrived(self._waits)} of {self.parties} workers arrived"
                )
            time.sleep(0.005)


def meet_around(
    obj,
    method: str,
    when: Callable[..., bool],
    *,
    before: FileBarrier | threading.Barrier,
    after: FileBarrier | threading.Barrier | None = None,
) -> None:
    """Make `obj.method(...)` wait at `before` whenever `when(*args, **kwargs)` is true, run,
    then wait at `after`: every worker has read the state before any changes it, and every
    worker's change has been tried before any goes on (a winner cannot finish, and so leave
    nothing for a wrongly allowed second change to find, before the others have tried)."""
    real = getattr(obj, method)

    @functools.wraps(real)
    def meeting(*args, **kwargs):
        if not when(*args, **kwargs):
            return real(*args, **kwargs)
        before.wait()
        try:
            return real(*args, **kwargs)
        finally:
            if after is not None:
                after.wait()

    setattr(obj, method, meeting)
