"""A fake accounting provider for sync and scheduler tests.

`FakeProvider` implements the parts of `providers.base.Provider` the sync engine and the jobs
use (`capabilities`, `session`, `refresh`), over lists scripted in memory:

* `put(kind, remote_id, name, ...)` adds or changes a record; every change takes the next
  sequence number. A cursor is the sequence number when a fetch started, so
  `fetch_list(kind, cursor)` returns the records changed since (`full=False`), or every record,
  archived ones included, when there is no cursor (`full=True`).
* `delete(kind, remote_id)` removes a record the way a provider forgets it: only a full
  fetch notices.
* `fail(kind, error, page=N)` raises `error` once, when page N (1-based; 0: the `fetch_list`
  call itself) of `kind` would be produced.
* `hold(kind)` makes fetches of `kind` wait until `release()`; `held` is set once one waits.
* `refresh_error` is raised by `refresh`; otherwise it returns new tokens.
* `calls` logs ("session", tenant_id), ("fetch_list", kind, cursor) and ("refresh",).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from providers.base import LIST_KINDS, Capabilities, ListFetch, Record, TokenSet

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def tokens(access: str = "access-1", refresh: str = "refresh-1", *, at=NOW) -> TokenSet:
    return TokenSet(
        access_token=access, refresh_token=refresh, access_expires_at=at + timedelta(minutes=30)
    )


@dataclass
class _Failure:
    kind: str
    page: int
    error: Exception


@dataclass
class FakeProvider:
    name: str = "xero"
    display_name: str = "Xero"
    page_size: int = 2
    idle_days: int = 60
    refresh_error: Exception | None = None
    calls: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        self.capabilities = Capabilities(
            pkce=True,
            bill_statuses=("DRAFT",),
            refresh_token_idle_days=self.idle_days,
        )
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._now = 0
        self.lists: dict[str, dict[str, tuple[int, Record]]] = {kind: {} for kind in LIST_KINDS}
        self._failures: list[_Failure] = []
        self._held: set[str] = set()
        self._gate = threading.Event()
        self.held = threading.Event()
        self._refreshes = itertools.count(1)

    # -- scripting --------------------------------------------------------------------------

    def put(
        self,
        kind: str,
        remote_id: str,
        name: str,
        *,
        code: str | None = None,
        active: bool = True,
        **raw,
    ) -> Record:
        with self._lock:
            self._now = seq = next(self._seq)
            record = Record(
                kind=kind,
                remote_id=remote_id,
                name=name,
                code=code,
                active=active,
                updated_at=NOW + timedelta(seconds=seq),
                raw={"Name": name, "Status": "ACTIVE" if active else "ARCHIVED", **raw},
            )
            self.lists[kind][remote_id] = (seq, record)
        return record

    def delete(self, kind: str, remote_id: str) -> None:
        with self._lock:
            self.lists[kind].pop(remote_id)

    def fail(self, kind: str, error: Exception, *, page: int = 1) -> None:
        self._failures.append(_Failure(kind, page, error))

    def hold(self, kind: str = "account") -> None:
        self._held.add(kind)
        self._gate.clear()

    def release(self) -> None:
        self._held.clear()
        self._gate.set()

    def fetches(self) -> list[tuple]:
        return [call for call in self.calls if call[0] == "fetch_list"]

    # -- the protocol ------------------------------------------------------------------------

    def session(self, tenant_id: str, token_store) -> FakeSession:
        token_store.current()  # like a real session: the connection's tokens must be readable
        self.calls.append(("session", tenant_id))
        return FakeSession(self, token_store)

    def refresh(self, current: TokenSet) -> TokenSet:
        self.calls.append(("refresh",))
        if self.refresh_error is not None:
            raise self.refresh_error
        n = next(self._refreshes)
        return tokens(f"access-r{n}", f"refresh-r{n}")

    def _take_failure(self, kind: str, page: int) -> Exception | None:
        for failure in self._failures:
            if failure.kind == kind and failure.page == page:
                self._failures.remove(failure)
                return failure.error
        return None


class FakeSession:
    def __init__(self, provider: FakeProvider, token_store=None):
        self._provider = provider
        self._tokens = token_store

    def fetch_list(self, kind: str, cursor: str | None) -> ListFetch:
        provider = self._provider
        provider.calls.append(("fetch_list", kind, cursor))
        if error := provider._take_failure(kind, 0):
            raise error
        with provider._lock:
            started = provider._now
            since = int(cursor) if cursor is not None else None
            records = [
                record
                for seq, record in provider.lists[kind].values()
                if since is None or seq > since
            ]
        fetch = ListFetch(kind=kind, full=since is None, cursor=str(started), pages=iter(()))
        fetch.pages = self._pages(kind, records, fetch)
        return fetch

    def _pages(self, kind: str, records: list[Record], fetch: ListFetch) -> Iterator[list[Record]]:
        """Pages of `page_size`; like Xero, the fetch says how many records the list holds and
        how many were read so far."""
        provider = self._provider
        if kind in provider._held:
            provider.held.set()
            provider._gate.wait(10)
        size = provider.page_size
        for number, start in enumerate(range(0, len(records), size), start=1):
            if self._tokens is not None:
                self._tokens.current()  # a real session reads the tokens for every request
            if error := provider._take_failure(kind, number):
                raise error
            fetch.expected = len(records)
            fetch.read = min(start + size, len(records))
            yield records[start : start + size]

    def create_supplier(self, name: str, *, idempotency_key: str) -> Record:
        return self._provider.put("supplier", f"new-{idempotency_key}", name)

    def create_bill(self, bill, *, idempotency_key: str):
        raise NotImplementedError("bills are not part of the sync tests")
