"""Fakes for the benchmarks, built on the test suite's own (tests/providers/fake_xero.py).

`BenchXero` is `FakeXero` with two changes a benchmark needs:

* `api_delay`: every Accounting API call (`/api.xro/2.0/...`) sleeps this long first, like a
  slow Xero; identity and `/connections` calls are not delayed.
* `add_suppliers(names)`: many contacts, cheaply (shallow copies of the spec's example contact),
  served from pre-rendered pages, so that the fake is not what a sync benchmark measures. Pages
  are rendered once per page size (`prepare`), for the whole list and for
  `where=IsCustomer==true` (Xero's filter syntax; FakeXero ignores `where`);
  `If-Modified-Since` later than every contact answers an empty page without scanning the list.
  Anything else falls back to `FakeXero`.

`VirtualTime` is a `providers.http.Timing` whose sleeps advance a virtual clock instead of
waiting, so the client's own rate limiter (Xero: 60 calls a minute) is kept but costs no wall
time; `waited` is how long it would have waited.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import httpx

from providers.http import Timing
from tests.providers import xero_spec
from tests.providers.fake_xero import API, FakeXero, _parse_ms_date, ms_date

CUSTOMER_EVERY = 10  # one contact in ten is a customer as well as a supplier
CUSTOMERS_ONLY = "IsCustomer==true"


class BenchXero(FakeXero):
    def __init__(self, *, api_delay: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.api_delay = api_delay
        self._pages: dict[tuple[int, str | None], list[bytes]] = {}
        self._newest = None

    def add_suppliers(self, names: list[str]) -> None:
        """One contact per name (every tenth a customer too), last updated a day ago, so that
        an incremental fetch (which looks 5 minutes behind its cursor) finds nothing new."""
        template = xero_spec.example("/Contacts")["Contacts"][0]
        updated = ms_date(self.now - timedelta(days=1))
        for n, name in enumerate(names):
            self.contacts.append(
                {
                    **template,
                    "ContactID": str(uuid.UUID(int=n + 1)),
                    "Name": name,
                    "FirstName": "",
                    "LastName": "",
                    "IsSupplier": True,
                    "IsCustomer": n % CUSTOMER_EVERY == 0,
                    "UpdatedDateUTC": updated,
                }
            )
        self._pages.clear()
        self._newest = None

    def prepare(self, page_size: int) -> None:
        """Render the full list's pages now, so serving them later costs only the socket."""
        every = sorted(self.contacts, key=lambda c: _parse_ms_date(c["UpdatedDateUTC"]))
        customers = [c for c in every if c.get("IsCustomer")]
        for where, contacts in ((None, every), (CUSTOMERS_ONLY, customers)):
            count = max(1, -(-len(contacts) // page_size))
            pages = []
            for page in range(1, count + 1):
                chunk = contacts[(page - 1) * page_size : page * page_size]
                body = self._envelope(Contacts=chunk)
                body["pagination"] = {
                    "page": page,
                    "pageSize": page_size,
                    "pageCount": count,
                    "itemCount": len(contacts),
                }
                pages.append(json.dumps(body).encode())
            self._pages[page_size, where] = pages
        self._newest = max(_parse_ms_date(c["UpdatedDateUTC"]) for c in every)

    def api_calls(self) -> int:
        with self._lock:
            return sum(r.url.path.startswith(API + "/") for r in self.calls)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.api_delay and request.url.path.startswith(API + "/"):
            time.sleep(self.api_delay)
        return super().handle(request)

    def _get_contacts(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        size, where = int(params.get("pageSize", 100)), params.get("where")
        plain = "page" in params and "searchTerm" not in params
        if not plain or params.get("includeArchived") != "true" or (size, where) not in self._pages:
            return super()._get_contacts(request)
        since = self._since(request)
        page = int(params["page"])
        if since is None:
            pages = self._pages[size, where]
            content = pages[page - 1] if page <= len(pages) else None
            if content is not None:
                return httpx.Response(
                    200, content=content, headers={"Content-Type": "application/json"}
                )
        elif self._newest is not None and since >= self._newest:
            body = self._envelope(Contacts=[])
            body["pagination"] = {"page": page, "pageSize": size, "pageCount": 1, "itemCount": 0}
            return httpx.Response(200, json=body)
        return super()._get_contacts(request)


class VirtualTime:
    """Sleeps advance a virtual clock; `timing` is the `Timing` to give a provider."""

    def __init__(self):
        self.waited = 0.0
        self._lock = threading.Lock()
        self.timing = Timing(sleep=self.sleep, monotonic=self.monotonic)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waited += max(seconds, 0.0)

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self.waited
