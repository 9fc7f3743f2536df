"""One worker of the two-process refresh test (run as a script, not collected by pytest).

It opens the shared SQLite store, builds a Xero provider against the test's loopback server,
waits for the go signal (so both workers start together), then lists tax rates, which needs a
token refresh first. It prints how many tax rates it read, and "needed-refresh" when it asked
the token store for a refresh (whether or not it was the one that made the token call).

usage: refresh_worker.py DB_PATH SECRET_KEY CONNECTION_ID BASE_URL READY_FILE GO_FILE
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from bot.clock import SystemClock
from bot.config import Config, ProviderCredentials
from providers.xero import XeroProvider
from store import ConnectionTokenStore, open_store

CLIENT_ID, CLIENT_SECRET = "xero-client-id-3c9d", "xero-client-secret-77e1f0"


class CountingTokenStore(ConnectionTokenStore):
    """The real token store, counting how often a refresh was asked for."""

    refresh_requests = 0

    def refresh_with(self, used, refresh):
        self.refresh_requests += 1
        return super().refresh_with(used, refresh)


def main(
    db_path: str, secret_key: str, connection_id: str, base_url: str, ready: str, go: str
) -> int:
    store = open_store(db_path, secret_key=secret_key)
    config = Config(
        xero=ProviderCredentials(CLIENT_ID, CLIENT_SECRET),
        xero_login_url=base_url,
        xero_identity_url=base_url,
        xero_api_url=base_url,
    )
    try:
        with httpx.Client(timeout=20) as client:
            provider = XeroProvider(config, http_client=client, clock=SystemClock())
            tokens = CountingTokenStore(store, int(connection_id))
            session = provider.session("tenant-1", tokens)
            Path(ready).touch()
            deadline = time.monotonic() + 30
            while not Path(go).exists():
                if time.monotonic() > deadline:
                    return 3
                time.sleep(0.005)
            fetch = session.fetch_list("tax_rate", None)
            count = sum(len(page) for page in fetch.pages)
            print(count, "needed-refresh" if tokens.refresh_requests else "no-refresh")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
