"""One sync benchmark run, in its own process so its memory is measured alone.

    python -m bench.sync_child '{"xero_url": ..., "access": ..., "refresh": ..., "tenant": ...,
                                 "db": ...}'

Builds the store on a fresh file, a connection holding the given tokens and the real Xero
provider pointed at the fake, then runs `SyncService.run` twice: the first sync (every list
whole) and an incremental one. The provider gets `VirtualTime`, so Xero's 60 calls a minute is
counted but not waited out. Prints one JSON object: wall times, rows staged, requests sent (an
httpx event hook), the rate-limit wait skipped, the time spent per provider list (fetch and
stage), staging and merging, RSS after each staged page and the peak (VmHWM, from /proc).

Optional key: `"profile": "/path/sync.prof"` writes a cProfile of the full sync (read it with
`python -m pstats`).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

import httpx
from cryptography.fernet import Fernet

from bench.fakes import VirtualTime
from bot.clock import SystemClock
from bot.config import Config
from bot.services import build_deps
from providers.base import TokenSet
from providers.xero import XeroProvider
from store import Grant, open_store
from tests.providers.fake_xero import CLIENT_ID, CLIENT_SECRET


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """This process's resident set size now, in MB (VmRSS)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB (VmHWM).

    Not `ru_maxrss`: Linux carries that over from the parent through fork and exec, so a child
    of a big benchmark process would report the parent's size.
    """
    return _status_mb("VmHWM")


def main(spec: dict) -> dict:
    clock = SystemClock()
    config = Config.from_env(
        {
            "LEDGERLINK_DB": spec["db"],
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
            "XERO_LOGIN_URL": spec["xero_url"],
            "XERO_IDENTITY_URL": spec["xero_url"],
            "XERO_API_URL": spec["xero_url"],
        }
    )
    store = open_store(spec["db"], secret_key=Fernet.generate_key().decode(), clock=clock)
    requests: list[str] = []
    http = httpx.Client(
        timeout=httpx.Timeout(60.0, connect=5.0),
        event_hooks={"request": [lambda request: requests.append(request.url.path)]},
    )
    virtual = VirtualTime()
    provider = XeroProvider(config, http_client=http, clock=clock, timing=virtual.timing)
    deps = build_deps(config, store=store, providers={"xero": provider}, clock=clock, executor=None)
    store.ensure_workspace("TBENCH")
    connection = store.create_connection(
        team_id="TBENCH",
        provider="xero",
        grant=Grant(
            tenant_id=spec["tenant"],
            tenant_name="Bench Ltd",
            tokens=TokenSet(
                access_token=spec["access"],
                refresh_token=spec["refresh"],
                access_expires_at=clock.now() + timedelta(minutes=30),
            ),
            connected_by="UBENCH",
            channel_id=None,
            lifetime_days=365,
        ),
    )

    # Instrumentation only: the RSS after each page the engine stages, and the time spent
    # staging pages and merging them (the rest of a run is fetching: HTTP and JSON).
    pages: list[tuple[int, float]] = []
    staged = 0
    spent = {"stage": 0.0, "merge": 0.0}
    stage, merge = store.stage_records, store.merge_sync_run

    def stage_and_sample(run_id, kind, records):
        nonlocal staged
        started = time.perf_counter()
        count = stage(run_id, kind, records)
        spent["stage"] += time.perf_counter() - started
        staged += count
        pages.append((staged, round(rss_mb(), 1)))
        return count

    def timed_merge(*args, **kwargs):
        started = time.perf_counter()
        try:
            return merge(*args, **kwargs)
        finally:
            spent["merge"] += time.perf_counter() - started

    kinds: dict[str, float] = {}
    fetch_group = deps.sync._fetch_group

    def timed_fetch_group(claim, session, group, cursor):
        started = time.perf_counter()
        try:
            return fetch_group(claim, session, group, cursor)
        finally:
            kinds["+".join(group)] = time.perf_counter() - started

    store.stage_records = stage_and_sample
    store.merge_sync_run = timed_merge
    deps.sync._fetch_group = timed_fetch_group
    result: dict = {"rss_start_mb": round(rss_mb(), 1)}
    for phase in ("full", "incremental"):
        staged, sent, waited = 0, len(requests), virtual.waited
        pages.clear()
        spent.update(stage=0.0, merge=0.0)
        kinds.clear()
        started = time.perf_counter()
        if spec.get("profile") and phase == "full":
            import cProfile

            profiler = cProfile.Profile()
            outcome = profiler.runcall(deps.sync.run, connection.id, requested_by="UBENCH")
            profiler.dump_stats(spec["profile"])
        else:
            outcome = deps.sync.run(connection.id, requested_by="UBENCH")
        seconds = time.perf_counter() - started
        if not outcome.ok:
            raise SystemExit(f"{phase} sync failed: {outcome.error}")
        by_path: dict[str, int] = {}
        for path in requests[sent:]:
            endpoint = path.rsplit("/", 1)[-1]
            by_path[endpoint] = by_path.get(endpoint, 0) + 1
        result[phase] = {
            "seconds": seconds,
            "stage_s": spent["stage"],
            "merge_s": spent["merge"],
            "kind_s": dict(kinds),
            "rows": staged,
            "requests": len(requests) - sent,
            "requests_by_endpoint": by_path,
            "rate_limit_wait_s": virtual.waited - waited,
            "rss_by_page": list(pages),
            "totals": {kind: counts["total"] for kind, counts in outcome.counts.items()},
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    result["rss_end_mb"] = round(rss_mb(), 1)
    store.close()
    http.close()
    return result


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
