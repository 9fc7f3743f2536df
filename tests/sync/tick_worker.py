"""One of several racing `ledgerlink tick` processes (run as a module, not collected by pytest).

It runs the real `ledgerlink tick` (`bot.cli.main`) with one change: every claim of an expiry
reminder waits at a file barrier shared with the other tick processes, before the claim is
tried and again after it. So for every reminder, all the processes have checked that it was
not sent and all have tried to claim it before any of them posts it: the race the notice
claim must win is run every time, not only when the scheduler happens to interleave them.

usage: python -m tests.sync.tick_worker BARRIER_DIR PARTIES tick [--now ISO-8601]
"""

from __future__ import annotations

import sys

from bot.cli import main
from bot.notices import EXPIRY_REMINDER
from store import Store
from tests.fakes.rendezvous import FileBarrier, meet_around


def reminder_claim(store, connection_id: int, kind: str, key: str) -> bool:
    return kind == EXPIRY_REMINDER


def run(barrier_dir: str, parties: str, *command: str) -> int:
    barrier = FileBarrier(barrier_dir, int(parties))
    meet_around(Store, "claim_notice", reminder_claim, before=barrier, after=barrier)
    return main(list(command))


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:]))
