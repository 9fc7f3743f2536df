"""5. Scale: thousands of workspaces, 3 `ledgerlink serve` processes, one PostgreSQL database.

Each workspace has a Xero connection to an organisation of its own on one loopback fake Xero
(`ScaleXero`: every organisation shares the spec's small chart, a few contacts, accounts, tax
rates and tracking categories) and one fake Slack takes every message. Three `ledgerlink
serve` processes (`bench.scale_serve`: the real serve on a compressed clock) share the
database; simulated time runs `speed` times faster than real time, so a 48-hour sync cycle
runs in minutes.

The fleet is seeded directly through the store (not through 10,000 OAuth flows) as if it had
been running for a while, from a seeded random generator:
* every connection's last successful sync finished at a uniformly random moment of the 48
  hours before the simulation starts (its tokens rotated then), so each is due exactly once
  during the simulated 48 hours plus `bot.sync.jitter`'s span;
* every connection expires 30 days plus a uniformly random part of 48 hours after the start,
  so each owes exactly one expiry reminder (the 30-day one) during the simulation;
* access tokens are expired (Xero's last 30 minutes), so every sync refreshes them first, as
  in production, and the fake refuses a refresh token used twice.

Measured: every sync and reminder ran exactly once (provider calls and database rows per
connection); how evenly the syncs spread over the cycle; Xero's limits (60 calls a minute per
organisation, 10,000 a minute per app, counted by the fake per simulated minute, over-limit
calls answered 429); jobs per second; the acknowledgement time of signed slash commands sent
throughout; database connections (pg_stat_activity); each scheduler tick's duration; the CPU
used by the serve processes and by PostgreSQL. At the larger size the compressed clock makes
more work due than the processes can do, so the jobs they complete per second are their
capacity; the work 30,000 and 100,000 workspaces owe in real time is set against it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool

from bench.report import Figure, Section, percentile
from bench.scale_serve import CompressedClock
from bot.clock import FixedClock
from bot.config import Config
from bot.notices import EXPIRY_REMINDER
from bot.sync import jitter
from providers.base import TokenSet
from store import Grant, open_store
from tests.fakes.databases import TestDatabase, engine_url, postgres_database
from tests.fakes.loopback import LoopbackServer
from tests.fakes.process import terminate
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import signed_headers, slash_command
from tests.providers import fake_xero
from tests.providers.fake_xero import API, FakeXero, _json

TITLE = "5. Scale: many workspaces, 3 serve processes, one PostgreSQL (simulated 48 hours)"
S = "scale"
ROOT = Path(__file__).resolve().parent.parent
ORIGIN = datetime(2027, 3, 1, tzinfo=UTC)  # simulated time when the simulation starts
CYCLE = timedelta(hours=48)  # LEDGERLINK_SYNC_INTERVAL_HOURS' default
JITTER_SPAN = CYCLE * 0.05  # bot.sync.jitter's share
WINDOW = CYCLE + JITTER_SPAN + timedelta(minutes=30)  # every seeded sync is due inside it
PROCESSES = 3
ORG_LIMIT, APP_LIMIT = 60, 10_000  # Xero's calls per minute: per organisation, per app
ACK_LIMIT_MS = 3000  # Slack drops a request not acknowledged within 3 seconds
SIGNING_SECRET = "bench-scale-signing-secret"
# Workspaces measured, and the real seconds their simulated window takes: enough for several
# scheduler ticks at each size (a tick reads every connection, so it grows with the fleet).
SIZES = {1_000: 180.0, 10_000: 600.0}
EXTRAPOLATE = (30_000, 100_000)
REMINDER_DAYS = Config().reminder_days  # LEDGERLINK_REMINDER_DAYS' default


class ScaleXero(FakeXero):
    """One fake Xero for every organisation, keeping Xero's rate limits per simulated minute."""

    def __init__(self):
        super().__init__()
        self.tenants: set[str] = set()
        self.clock: CompressedClock | None = None
        self.per_org: Counter[tuple[str, int]] = Counter()
        self.per_app: Counter[int] = Counter()
        self.chart_reads: dict[str, list[datetime]] = {}  # tenant -> when Accounts was read
        self.refused = 0  # 429s
        self.reused_refresh_tokens = 0
        self._limits = threading.Lock()

    def add_org(self) -> str:
        tenant = secrets.token_hex(16)
        self.tenants.add(tenant)
        return tenant

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(API + "/") and self.clock is not None:
            tenant = request.headers.get("xero-tenant-id", "")
            minute = int((self.clock.now() - ORIGIN).total_seconds() // 60)
            with self._limits:
                problem = None
                if self.per_org[tenant, minute] >= ORG_LIMIT:
                    problem = "minute"
                elif self.per_app[minute] >= APP_LIMIT:
                    problem = "appminute"
                if problem:
                    self.refused += 1
                    return _json(
                        429,
                        {"Title": "Too Many Requests"},
                        headers={"Retry-After": "1", "X-Rate-Limit-Problem": problem},
                    )
                self.per_org[tenant, minute] += 1
                self.per_app[minute] += 1
                if path == f"{API}/Accounts":
                    self.chart_reads.setdefault(tenant, []).append(self.clock.now())
        response = super().handle(request)
        if path == "/connect/token" and response.status_code == 400:
            with self._limits:
                self.reused_refresh_tokens += 1
        with self._limits:
            self.calls.clear()  # nothing reads them, and 100,000 requests add up
        return response

    def _authorized(self, request: httpx.Request, *, tenant: bool) -> httpx.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return _json(401, {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired"})
        if tenant and request.headers.get("xero-tenant-id") not in self.tenants:
            return _json(403, {"Title": "Forbidden", "Status": 403})
        return None


@dataclass
class Run:
    size: int
    backend: str
    speed: float
    real_seconds: float = 0.0
    simulated_hours: float = 0.0
    syncs: Counter = field(default_factory=Counter)  # connection id -> runs in the window
    provider_syncs: Counter = field(default_factory=Counter)  # tenant -> chart reads
    reminders: Counter = field(default_factory=Counter)  # connection id -> reminder notices
    reminder_posts: int = 0
    lateness_minutes: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # sync starts, hours after ORIGIN
    failed_syncs: int = 0
    org_peak: int = 0
    app_peak: int = 0
    refused: int = 0
    reused_refresh_tokens: int = 0
    acks_ms: list[float] = field(default_factory=list)
    ack_failures: int = 0
    connections_peak: int = 0
    connections_median: float = 0.0
    ticks: list[float] = field(default_factory=list)  # seconds per tick, every process
    tick_errors: list[str] = field(default_factory=list)
    serve_cpu: float = 0.0  # CPU seconds, all serve processes
    database_cpu: float = 0.0
    calls_per_sync: float = 0.0


# -- processes and their CPU ---------------------------------------------------------------


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its live backends and the ones
    that exited."""
    total = cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if parent == postmaster:
            total += cpu_seconds(int(stat.parent.name))
    return total


@contextlib.contextmanager
def postgres_server():
    """A PostgreSQL server URL: LEDGERLINK_TEST_DATABASE_URL's, or a private one started with
    scripts/test-postgres for this run; (url, postmaster pid or None)."""
    given = os.environ.get("LEDGERLINK_TEST_DATABASE_URL")
    if given:
        yield given, None
        return
    # The script creates the directory itself (as root, for the `postgres` user to own).
    directory = Path(tempfile.gettempdir()) / f"ledgerlink-scale-postgres-{secrets.token_hex(4)}"
    script = ROOT / "scripts" / "test-postgres"
    started = subprocess.run(  # noqa: S603 (our own script)
        [str(script), "start", str(directory)], capture_output=True, text=True
    )
    if started.returncode != 0:
        raise RuntimeError(f"could not start PostgreSQL:\n{started.stderr}")
    try:
        pid = int((directory / "data" / "postmaster.pid").read_text().split()[0])
        yield started.stdout.strip(), pid
    finally:
        subprocess.run([str(script), "stop", str(directory)], check=False)  # noqa: S603


# -- seeding --------------------------------------------------------------------------------


def seed(target: str, secret_key: str, xero: ScaleXero, size: int, rng: random.Random) -> dict:
    """`size` workspaces with a Xero connection each; {connection id: (tenant, due)}."""
    clock = FixedClock(ORIGIN)
    store = open_store(target, secret_key=secret_key, clock=clock)
    planned = {}
    try:
        for n in range(size):
            team = f"T{n:07d}"
            tenant = xero.add_org()
            synced = ORIGIN - CYCLE * rng.random()
            expires = ORIGIN + timedelta(days=30) + CYCLE * rng.random()
            access, refresh = xero.grant()
            clock.set(expires - timedelta(days=365))
            store.ensure_workspace(team)
            connection = store.create_connection(
                team_id=team,
                provider="xero",
                grant=Grant(
                    tenant_id=tenant,
                    tenant_name=f"Organisation {n}",
                    tokens=TokenSet(
                        access, refresh, access_expires_at=synced + timedelta(minutes=30)
                    ),
                    connected_by="UADMIN",
                    channel_id=f"C{n:07d}",
                    lifetime_days=365,
                ),
            )
            planned[connection.id] = (tenant, synced)
    finally:
        store.close()
    database = TestDatabase("postgresql" if "://" in target else "sqlite", target)
    try:
        rows = [
            {"id": cid, "team": f"T{n:07d}", "at": synced.isoformat(timespec="seconds")}
            for n, (cid, (_, synced)) in enumerate(planned.items())
        ]
        with database.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'INSERT INTO sync_runs (connection_id, team_id, "full", trigger, started_at, '
                    "finished_at, result) VALUES (:id, :team, 1, 'schedule', :at, :at, 'ok')"
                ),
                rows,
            )
            # When the tokens last changed: at that sync (an expired access token is refreshed
            # first). Not every backend's schema keeps this row from the connection's insert.
            conn.execute(
                sa.text(
                    "INSERT INTO token_refreshes (connection_id, refreshed_at) VALUES (:id, :at) "
                    "ON CONFLICT (connection_id) DO UPDATE SET refreshed_at = excluded.refreshed_at"
                ),
                rows,
            )
    finally:
        database.dispose()
    return {
        cid: (tenant, synced + CYCLE + jitter(cid, CYCLE))
        for cid, (tenant, synced) in planned.items()
    }


# -- the simulation -------------------------------------------------------------------------

LISTENING = re.compile(r"ledgerlink listening on (http://\S+)")


def start_serve(env: dict, workdir: Path, n: int, clock: CompressedClock) -> tuple:
    log = workdir / f"serve-{n}.log"
    ticks = workdir / f"ticks-{n}.jsonl"
    command = [
        sys.executable,
        "-m",
        "bench.scale_serve",
        clock.origin.isoformat(),
        repr(clock.start),
        repr(clock.speed),
        str(ticks),
        "--",
        "--port",
        "0",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)  # noqa: S603
    return process, log, ticks


def stop_serve(process) -> None:
    """SIGTERM, then SIGKILL after 30 s: at thousands of workspaces a scheduler tick outlasts
    serve's shutdown grace, and what it was doing is counted as it stands."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        terminate(process, 30)


def wait_listening(process, log: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited early:\n{log.read_text(errors='replace')[-3000:]}")
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"serve did not start:\n{log.read_text(errors='replace')[-3000:]}")


class Probe(threading.Thread):
    """Slash commands (`/integrations status` from a random seeded workspace), signed as Slack
    signs them, spread over the processes: how long each acknowledgement took."""

    def __init__(self, urls: list[str], slack, size: int, per_second: float, rng):
        super().__init__(daemon=True)
        self.urls, self.slack, self.size = urls, slack, size
        self.pause, self.rng = 1 / per_second, rng
        self.stop = threading.Event()
        self.acks_ms: list[float] = []
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.stop.wait(self.pause):
                team = f"T{self.rng.randrange(self.size):07d}"
                body = slash_command(
                    "status",
                    user_id="UADMIN",
                    team_id=team,
                    response_url=self.slack.response_url(f"probe-{n}"),
                )
                headers = signed_headers(SIGNING_SECRET, body)
                started = time.perf_counter()
                try:
                    response = client.post(
                        f"{self.urls[n % len(self.urls)]}/slack/events",
                        content=body.encode(),
                        headers=headers,
                    )
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.acks_ms.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
                n += 1


class ConnectionCounter(threading.Thread):
    """How many connections the database has open (pg_stat_activity), twice a second."""

    def __init__(self, target: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(engine_url(target), poolclass=NullPool)
        self.name_ = sa.make_url(target).database
        self.stop = threading.Event()
        self.samples: list[int] = []

    def run(self) -> None:
        query = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as conn:
            while not self.stop.wait(0.5):
                self.samples.append(conn.execute(query, {"db": self.name_}).scalar_one())
        self.engine.dispose()


def simulate(
    size: int, *, backend: str, speed: float, postmaster: int | None = None, server=None
) -> Run:
    """One simulation: seed, run the processes over the window, count."""
    run = Run(size, backend, speed)
    rng = random.Random(16_000 + size)
    work = Path(tempfile.mkdtemp(prefix=f"ledgerlink-scale-{size}-"))
    xero, slack = ScaleXero(), FakeSlack().start()
    xero_server = LoopbackServer(xero.handle).start()
    key = Fernet.generate_key().decode()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        cleanup.callback(slack.stop)
        cleanup.callback(xero_server.stop)
        if backend == "postgresql":
            target = cleanup.enter_context(postgres_database(server))
            env_db = {"LEDGERLINK_DATABASE_URL": target}
        else:
            target = str(work / "ledgerlink.db")
            env_db = {"LEDGERLINK_DB": target}
        print(f"   seeding {size:,} workspaces ({backend}) ...", flush=True)
        planned = seed(target, key, xero, size, rng)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONUNBUFFERED": "1",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "LEDGERLINK_SECRET_KEY": key,
            "LEDGERLINK_PUBLIC_URL": "https://ledgerlink.test",
            "XERO_CLIENT_ID": fake_xero.CLIENT_ID,
            "XERO_CLIENT_SECRET": fake_xero.CLIENT_SECRET,
            "XERO_LOGIN_URL": xero_server.url,
            "XERO_IDENTITY_URL": xero_server.url,
            "XERO_API_URL": xero_server.url,
            **env_db,
        }
        # Simulated time starts once every process is up (they start in a few seconds; one
        # that is slower only finds its first work a little later).
        clock = CompressedClock(ORIGIN, time.time() + 8, speed)
        xero.clock = clock
        processes = [start_serve(env, work, n, clock) for n in range(PROCESSES)]
        for process, _, _ in processes:
            cleanup.callback(stop_serve, process)
        urls = [wait_listening(process, log) for process, log, _ in processes]
        while time.time() < clock.start:
            time.sleep(0.1)
        counter = ConnectionCounter(target) if backend == "postgresql" else None
        probe = Probe(urls, slack, size, per_second=4, rng=random.Random(size))
        cpu_before = [cpu_seconds(p.pid) for p, _, _ in processes]
        db_before = postgres_cpu(postmaster) if postmaster else 0.0
        started = time.monotonic()
        probe.start()
        if counter:
            counter.start()
        database = TestDatabase(backend, target)
        cleanup.callback(database.dispose)
        end = ORIGIN + WINDOW
        # Until the window is over and every planned sync and reminder happened (or half the
        # window more has passed: what is missing then is reported).
        while clock.now() < end + WINDOW / 2:
            time.sleep(min(2.0, 600 / speed))  # at most 10 simulated minutes
            if clock.now() < end:
                continue
            done = database.value(
                "SELECT count(DISTINCT connection_id) FROM sync_runs WHERE started_at >= ? "
                "AND result = 'ok'",
                (ORIGIN.isoformat(),),
            )
            reminded = database.value(
                "SELECT count(*) FROM notices WHERE kind = ? AND state = 'sent'",
                (EXPIRY_REMINDER,),
            )
            if done >= size and reminded >= size:
                break
        run.real_seconds = time.monotonic() - started
        run.simulated_hours = (clock.now() - ORIGIN).total_seconds() / 3600
        probe.stop.set()
        probe.join()
        if counter:
            counter.stop.set()
            counter.join()
            run.connections_peak = max(counter.samples, default=0)
            run.connections_median = statistics.median(counter.samples or [0])
        run.serve_cpu = sum(
            cpu_seconds(p.pid) - before
            for (p, _, _), before in zip(processes, cpu_before, strict=True)
        )
        run.database_cpu = postgres_cpu(postmaster) - db_before if postmaster else 0.0
        for process, _, _ in processes:
            stop_serve(process)
        run.acks_ms, run.ack_failures = probe.acks_ms, probe.failures
        for _, _, ticks in processes:
            for line in ticks.read_text().splitlines() if ticks.exists() else []:
                tick = json.loads(line)
                if tick["at"] >= clock.start:
                    run.ticks.append(tick["seconds"])
                run.tick_errors += tick["errors"]
        count(run, database, planned, xero, slack)
    return run


def count(run: Run, database: TestDatabase, planned: dict, xero: ScaleXero, slack) -> None:
    since = ORIGIN.isoformat()
    for cid, started, result in database.rows(
        "SELECT connection_id, started_at, result FROM sync_runs WHERE started_at >= ?", (since,)
    ):
        started = started if isinstance(started, datetime) else datetime.fromisoformat(started)
        due = planned[cid][1]
        if started >= due + CYCLE:
            continue  # the next cycle's sync, rightly due again (the window overran)
        run.syncs[cid] += 1
        run.failed_syncs += result != "ok"
        run.starts.append((started - ORIGIN).total_seconds() / 3600)
        run.lateness_minutes.append(max(0.0, (started - due).total_seconds() / 60))
    for cid, sent in database.rows(
        "SELECT connection_id, count(*) FROM notices WHERE kind = ? AND state = 'sent' "
        "GROUP BY connection_id",
        (EXPIRY_REMINDER,),
    ):
        run.reminders[cid] = sent
    posts = Counter(call.args.get("channel") for call in slack.calls_to("chat.postMessage"))
    run.reminder_posts = sum(1 for n in range(run.size) if posts[f"C{n:07d}"] == 1)
    run.provider_syncs = Counter(
        {
            tenant: sum(1 for read in xero.chart_reads.get(tenant, []) if read < due + CYCLE)
            for tenant, due in planned.values()
        }
    )
    run.org_peak = max(xero.per_org.values(), default=0)
    run.app_peak = max(xero.per_app.values(), default=0)
    run.refused = xero.refused
    run.reused_refresh_tokens = xero.reused_refresh_tokens
    run.calls_per_sync = sum(xero.per_app.values()) / max(1, sum(run.syncs.values()))


# -- figures --------------------------------------------------------------------------------


def spread_ratio(starts: list[float], first: int = 1, buckets: int = 12) -> float:
    """Busiest 4-hour slot of the 48-hour cycle over the mean slot, counting the syncs that
    started in it (1.0 is perfectly even). The first slot is left out: the seeded syncs come
    due from the start plus their jitter (up to 2.4 hours), so it is filling up by design."""
    width = CYCLE.total_seconds() / 3600 / buckets
    counts = Counter(int(h // width) for h in starts if first * width <= h < buckets * width)
    values = [counts.get(b, 0) for b in range(first, buckets)]
    return max(values) / max(1e-9, statistics.mean(values))


def histogram(starts: list[float], buckets: int = 12) -> str:
    width = CYCLE.total_seconds() / 3600 / buckets
    counts = Counter(int(h // width) for h in starts if 0 <= h < buckets * width)
    return ", ".join(
        f"{b * width:.0f}-{(b + 1) * width:.0f} h: {counts.get(b, 0)}" for b in range(buckets)
    )


def figures_of(run: Run) -> list[Figure]:
    n = f"{run.size:,}"
    once = sum(1 for c in run.syncs.values() if c == 1)
    twice = sum(1 for c in run.syncs.values() if c > 1)
    provider_once = sum(1 for c in run.provider_syncs.values() if c == 1)
    reminded_once = sum(1 for c in run.reminders.values() if c == 1)
    reminded_twice = sum(1 for c in run.reminders.values() if c > 1)
    jobs = sum(run.syncs.values()) + sum(run.reminders.values())
    ticks = sorted(run.ticks)

    def f(name, value, unit="", *, target="", met=None, versus="", note=""):
        return Figure(S, f"{name}, {n} workspaces", value, unit, None, 1, target, met, versus, note)

    return [
        f(
            "connections synced exactly once (database)",
            once,
            target=f"= {n}",
            met=once == run.size,
        ),
        f(
            "organisations synced exactly once (provider calls)",
            provider_once,
            target=f"= {n}",
            met=provider_once == run.size,
        ),
        f("connections synced more than once", twice, target="0", met=twice == 0),
        f(
            "expiry reminders sent exactly once",
            reminded_once,
            target=f"= {n}",
            met=reminded_once == run.size and reminded_twice == 0,
            versus=f"workspace channels with exactly one post: {run.reminder_posts:,}; "
            f"sent twice: {reminded_twice}",
        ),
        f(
            "sync spread: busiest 4 h of the cycle / the mean 4 h",
            spread_ratio(run.starts),
            "x",
            target="<= 1.25",
            met=spread_ratio(run.starts) <= 1.25,
        ),
        f(
            "sync lateness after its due time, p99",
            percentile(run.lateness_minutes, 99),
            "sim min",
            versus=f"median {percentile(run.lateness_minutes, 50):.1f} sim min "
            f"({percentile(run.lateness_minutes, 50) * 60 / run.speed:.1f} real s: a tick)",
        ),
        f(
            "Xero calls per organisation, busiest simulated minute",
            run.org_peak,
            target=f"<= {ORG_LIMIT}",
            met=run.org_peak <= ORG_LIMIT,
        ),
        f(
            "Xero calls per app, busiest simulated minute",
            run.app_peak,
            target=f"<= {APP_LIMIT:,}",
            met=run.app_peak <= APP_LIMIT,
            versus=f"429s: {run.refused}; refresh tokens reused: {run.reused_refresh_tokens}",
        ),
        f("jobs per second (syncs + reminders, real time)", jobs / run.real_seconds, "/s"),
        f(
            "slash-command acknowledgement p99 under that load",
            percentile(run.acks_ms, 99),
            "ms",
            target=f"< {ACK_LIMIT_MS} ms",
            met=percentile(run.acks_ms, 99) < ACK_LIMIT_MS and run.ack_failures == 0,
            versus=f"median {percentile(run.acks_ms, 50):.0f} ms, {len(run.acks_ms)} commands, "
            f"{run.ack_failures} failed",
        ),
        f(
            "database connections, peak (pg_stat_activity)",
            run.connections_peak,
            versus=f"median {run.connections_median:.0f}",
        ),
        f(
            "scheduler tick duration, median (every job once, per process)",
            percentile(ticks, 50),
            "s",
            versus=f"p99 {percentile(ticks, 99):.1f} s, {len(ticks)} ticks",
        ),
        f("CPU of the serve processes, cores busy", run.serve_cpu / run.real_seconds, "cores"),
    ] + (
        # Only a server this run started is measured (one given by LEDGERLINK_TEST_DATABASE_URL
        # may serve others too): no figure rather than a zero.
        [f("CPU of PostgreSQL, cores busy", run.database_cpu / run.real_seconds, "cores")]
        if run.database_cpu
        else []
    )


def jobs_done(run: Run) -> int:
    """Syncs and expiry reminders the run completed."""
    return sum(run.syncs.values()) + sum(run.reminders.values())


def owed_per_second(size: int) -> float:
    """Scheduled jobs a fleet owes per real second: a sync every 48 hours and three expiry
    reminders a year per workspace."""
    reminders = len(REMINDER_DAYS) / timedelta(days=365).total_seconds()
    return size * (1 / CYCLE.total_seconds() + reminders)


def owed_in_run(run: Run) -> float:
    """Jobs the simulation made due per real second: the fleet is seeded with one sync and one
    expiry reminder due per workspace inside the window."""
    return 2 * run.size / (WINDOW.total_seconds() / run.speed)


def extrapolated(runs: list[Run]) -> tuple[list[Figure], list[str]]:
    """What a fleet needs in real time (speed 1) against what was measured: the scheduled
    jobs N workspaces owe per second, against the jobs per second the 3 processes completed at
    the largest size, where the compressed clock made more work due than they could do (so
    that rate is their capacity on this machine, not the demand); and Xero calls per app
    per minute. Database connections are a fixed pool per process and do not grow."""
    if len(runs) < 2:
        return [], []
    large = runs[-1]
    capacity = jobs_done(large) / large.real_seconds
    calls = statistics.mean(r.calls_per_sync for r in runs)
    figures = []
    for size in EXTRAPOLATE:
        n = f"{size:,}"
        need = owed_per_second(size)
        app_rate = size * calls / (CYCLE.total_seconds() / 60)
        figures += [
            Figure(
                S,
                f"scheduled jobs owed per second in real time, {n} workspaces (extrapolated)",
                need,
                "/s",
                target=f"<= {capacity:.1f} /s (capacity measured at {large.size:,})",
                met=need <= capacity,
                versus=f"{capacity / need:,.0f}x headroom",
            ),
            Figure(
                S,
                f"Xero calls per app per minute on average, {n} workspaces (extrapolated)",
                app_rate,
                target=f"<= {APP_LIMIT:,}",
                met=app_rate <= APP_LIMIT,
                versus=f"{calls:.1f} calls per sync, a sync every 48 h",
            ),
        ]
    owed = owed_in_run(large)
    saturated = "more than" if owed > capacity else "no more than"
    notes = [
        f"Extrapolation: at {large.size:,} workspaces and {large.speed:.0f}x the simulation "
        f"made {owed:.1f} jobs a second due, {saturated} the {capacity:.1f} the {PROCESSES} "
        "processes completed (2 shared CPUs, with PostgreSQL and the fakes on the same "
        "machine)"
        + (", so that rate is their capacity here" if owed > capacity else "")
        + f". In real time a workspace owes {owed_per_second(1) * 86400:.2f} jobs a day: "
        f"100,000 workspaces owe {owed_per_second(100_000):.2f} a second, "
        f"{capacity / owed_per_second(100_000):.0f} times less. What grows with the fleet is "
        "that work (each sync writes through the one write lock and uses the CPU); the "
        "scheduler's own reading is a few queries a tick whatever the size "
        "(tests/sync/test_jobs.py counts them), Xero's per-app limit is far off, and the "
        f"database connections stay at {large.connections_peak} at most."
    ]
    return figures, notes


def run(*, smoke: bool = False) -> Section:
    section = Section(S, TITLE)
    if smoke:
        runs = [simulate(20, backend="sqlite", speed=WINDOW.total_seconds() / 10)]
        section.notes.append("Smoke: 20 workspaces on SQLite, the window in 10 s.")
    else:
        runs = []
        with postgres_server() as (url, postmaster):
            for size, seconds in SIZES.items():
                speed = WINDOW.total_seconds() / seconds
                runs.append(
                    simulate(
                        size, backend="postgresql", speed=speed, postmaster=postmaster, server=url
                    )
                )
    for measured in runs:
        section.figures += figures_of(measured)
        section.notes.append(
            f"{measured.size:,} workspaces on {measured.backend}: {measured.simulated_hours:.1f} "
            f"simulated hours in {measured.real_seconds:.0f} s (speed {measured.speed:.0f}x); "
            f"{PROCESSES} serve processes; syncs started per 4 h of the cycle: "
            f"{histogram(measured.starts)}; failed syncs {measured.failed_syncs}; scheduler "
            f"errors {len(measured.tick_errors)}"
            + (f" (first: {measured.tick_errors[0]})" if measured.tick_errors else "")
        )
    for measured in runs:
        pending = measured.size - sum(1 for c in measured.syncs.values() if c >= 1)
        unreminded = measured.size - sum(1 for c in measured.reminders.values() if c >= 1)
        if pending or unreminded:
            tick = percentile(measured.ticks, 50)
            hours = tick * measured.speed / 3600
            section.notes.append(
                f"At {measured.size:,} workspaces {pending:,} syncs and {unreminded:,} "
                "reminders had not run yet when the simulation stopped (none had run twice): "
                f"at {measured.speed:.0f}x the simulation made {owed_in_run(measured):.1f} "
                f"jobs due a real second and the processes did "
                f"{jobs_done(measured) / measured.real_seconds:.1f}, so ticks ran the syncs due "
                f"in them (median {tick:.0f} real seconds, {hours:.1f} simulated hours) and the "
                "work due last was still waiting. In real time the same fleet owes "
                f"{owed_per_second(measured.size):.2f} jobs a second."
            )
    figures, notes = extrapolated(runs)
    section.figures += figures
    section.notes += notes
    return section
