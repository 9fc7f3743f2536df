"""One publisher of the two-process publishing race (run as a script, not collected by pytest).

It opens the shared SQLite store, builds the real `ItemService` with a provider that counts
the bills it is asked to create, and publishes the item. Both workers wait at a file barrier
just before the `ready -> publishing` compare-and-set, so both have read the item as ready
before either moves it, and at another just after, so neither sends its bill before both
have tried the move. It prints "bills: N" (bills this process sent) and "status: S".

usage: publish_worker.py DB_PATH SECRET_KEY ITEM_ID BARRIER_DIR
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

from bot.clock import FixedClock
from bot.config import Config
from bot.items import ItemService
from handlers.render import render
from providers.base import PublishedBill
from store import open_store
from tests.fakes.rendezvous import FileBarrier, meet_around
from tests.sync.fakes import NOW, FakeProvider, FakeSession


@dataclass
class BillCountingProvider(FakeProvider):
    """The sync tests' fake provider, which also accepts bills and remembers each one."""

    bills: list[str] = field(default_factory=list)

    def session(self, tenant_id: str, token_store) -> FakeSession:
        super().session(tenant_id, token_store)
        return _BillSession(self)


class _BillSession(FakeSession):
    def create_bill(self, bill, *, idempotency_key: str) -> PublishedBill:
        self._provider.bills.append(idempotency_key)
        return PublishedBill(remote_id=f"bill-{len(self._provider.bills)}")


class SilentNotifier:
    """Slack is not part of this race: messages are accepted and dropped."""

    render = staticmethod(render)

    def post(self, team_id, channel, message, *, thread_ts=None):
        return "1.0001"

    def show_item(self, item, message, *, prompt=False):
        return None

    def transaction(self):
        return contextlib.nullcontext()

    def tell_admins(self, team_id, connection, message):
        return True


def item_service(store, provider) -> ItemService:
    return ItemService(
        config=Config(),
        store=store,
        providers={"xero": provider},
        clock=FixedClock(NOW),
        notifier=SilentNotifier(),
        executor=None,  # publish() is called directly; nothing is submitted
    )


def publishing(item_id, from_statuses, to_status, **changes) -> bool:
    return to_status == "publishing"


def main(db_path: str, secret_key: str, item_id: str, barrier_dir: str) -> int:
    store = open_store(db_path, secret_key=secret_key, clock=FixedClock(NOW))
    try:
        provider = BillCountingProvider()
        barrier = FileBarrier(barrier_dir, 2)
        meet_around(store, "move_item", publishing, before=barrier, after=barrier)
        item = item_service(store, provider).publish(int(item_id))
        print(f"bills: {len(provider.bills)}")
        print(f"status: {item.status}")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
