"""Make concurrent work provably overlap, across threads or OS processes.

A race test that merely starts two workers "at once" mostly tests the scheduler: one worker
often finishes before the other begins. These helpers stop each worker at the exact point
where the race is decided, until all of them are there, so every run exercises the race:

* `FileBarrier(directory, parties)` is a barrier for processes that share nothing but a
  directory: each arrival leaves a file, and waits until `parties` files are there.
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
    def __init__(self, directory: str | Path, parties: int):
        self.directory = Path(directory)
        self.parties = parties

    def arrived(self) -> int:
        return len(list(self.directory.glob("arrived-*")))

    def wait(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"arrived-{os.getpid()}-{uuid.uuid4().hex}").touch()
        deadline = time.monotonic() + WAIT_SECONDS
        while self.arrived() < self.parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.arrived()} of {self.parties} workers arrived")
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
