"""Builds the running service from configuration: store, providers, Slack app, HTTP routes.

Shared by `ledgerlink serve` and `ledgerlink tick`; tests build the same pieces with fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import flask
import httpx
from slack_bolt import App

from bot.api_routes import items_blueprint
from bot.app import create_app
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.http import HttpApp, health_blueprint, slack_blueprint
from bot.jobs import build_jobs
from bot.oauth_routes import provider_callback_blueprint
from bot.scheduler import Job
from bot.services import build_deps
from providers.base import Provider
from providers.registry import build_providers
from store import Store, open_store

log = logging.getLogger("ledgerlink")

PROVIDER_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

# Builds providers the configuration does not know about, on the runtime's HTTP client and clock.
ProviderFactory = Callable[[httpx.Client, Clock], Mapping[str, Provider]]


@dataclass
class Runtime:
    config: Config
    store: Store
    clock: Clock
    http_client: httpx.Client
    providers: dict
    executor: ThreadPoolExecutor  # slow work: publishing, syncs, callbacks
    app: App | None = None
    jobs: list[Job] = field(default_factory=list)
    # Bolt's listeners get threads of their own, so slow work never delays an ack to Slack.
    listener_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="ledgerlink-slack"
        )
    )

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        clock: Clock | None = None,
        extra_providers: ProviderFactory | None = None,
    ) -> Runtime:
        """The providers are those the configuration enables, plus whatever `extra_providers`
        builds on the same HTTP client and clock (the playground's Sandbox Books)."""
        clock = clock or SystemClock()
        store = open_store(config.db_path, secret_key=config.secret_key, clock=clock)
        http_client = httpx.Client(timeout=PROVIDER_TIMEOUT, follow_redirects=False)
        providers = dict(extra_providers(http_client, clock)) if extra_providers else {}
        providers.update(build_providers(config, http_client=http_client, clock=clock))
        return cls(
            config=config,
            store=store,
            clock=clock,
            http_client=http_client,
            providers=providers,
            executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="ledgerlink-work"),
        )

    def start_app(self, *, client=None) -> App:
        self.app = create_app(
            self.config,
            store=self.store,
            providers=self.providers,
            clock=self.clock,
            client=client,
            listener_executor=self.listener_executor,
            work_executor=self.executor,
        )
        self.jobs = build_jobs(self.app.deps)
        return self.app

    def start_jobs(self) -> list[Job]:
        """The scheduled jobs for `tick`: on the app's services when Slack credentials are set,
        else on the same services built without the Bolt app (which insists on a token), so
        jobs that need no Slack (syncs, token refreshes) still run."""
        if self.config.slack_bot_token or self.config.multi_workspace:
            self.start_app()
        else:
            self.jobs = build_jobs(
                build_deps(
                    self.config,
                    store=self.store,
                    providers=self.providers,
                    clock=self.clock,
                    executor=self.executor,
                )
            )
        return self.jobs

    def start_sender(self):
        """The outbox's sender thread (`ledgerlink serve`, the playground); the scheduler
        then runs every job but `outbox`, which the thread does continuously."""
        from bot.outbox import SenderThread

        sender = SenderThread(self.app.deps.outbox)
        sender.start()
        return sender, [job for job in self.jobs if job.name != "outbox"]

    def blueprints(self) -> list[flask.Blueprint]:
        """ledgerlink's routes (Slack, provider callbacks, the items API, health), for `wsgi`
        or for an `HttpApp` that serves more (the playground's)."""
        verify = bool(self.config.slack_signing_secret)
        return [
            slack_blueprint(self.app, verify_requests=verify),
            provider_callback_blueprint(self.app.deps.connections, self.providers),
            items_blueprint(self.store, self.app.deps.items),
            health_blueprint(self.store),
        ]

    def wsgi(self) -> HttpApp:
        return HttpApp(self.blueprints())

    def close(self) -> None:
        self.listener_executor.shutdown(wait=True)
        self.executor.shutdown(wait=True)
        self.http_client.close()
        self.store.close()
