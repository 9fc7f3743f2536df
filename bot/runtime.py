"""Builds the running service from configuration: store, providers, Slack app, HTTP routes.

Shared by `ledgerlink serve` and `ledgerlink tick`; tests build the same pieces with fakes.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from slack_bolt import App

from bot.app import create_app
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.http import HttpApp, health_route, slack_routes
from bot.scheduler import Job
from store import Store, open_store

log = logging.getLogger("ledgerlink")

PROVIDER_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


@dataclass
class Runtime:
    config: Config
    store: Store
    clock: Clock
    http_client: httpx.Client
    providers: dict
    executor: ThreadPoolExecutor
    app: App | None = None
    jobs: list[Job] = field(default_factory=list)

    @classmethod
    def open(cls, config: Config, *, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        store = open_store(config.db_path, secret_key=config.secret_key, clock=clock)
        http_client = httpx.Client(timeout=PROVIDER_TIMEOUT, follow_redirects=False)
        return cls(
            config=config,
            store=store,
            clock=clock,
            http_client=http_client,
            providers={},
            executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="ledgerlink-work"),
        )

    def start_app(self, *, client=None) -> App:
        self.app = create_app(
            self.config,
            store=self.store,
            providers=self.providers,
            clock=self.clock,
            client=client,
            listener_executor=self.executor,
        )
        return self.app

    def wsgi(self) -> HttpApp:
        verify = bool(self.config.slack_signing_secret)
        return HttpApp([*slack_routes(self.app, verify_requests=verify), health_route(self.store)])

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.http_client.close()
        self.store.close()
