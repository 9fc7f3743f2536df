"""3. Sync throughput: a first (full) sync of 100k Xero contacts, then an incremental one.

A `BenchXero` behind a loopback HTTP server serves the contacts in pages of the size the Xero
client asks for (`providers.xero.PAGE_SIZE`), plus the spec's accounts, tax rates and tracking
categories. Each run is a fresh `python -m bench.sync_child` process (fresh database file), so
its peak RSS is the sync's own, not the fake server's. The same runs at 25k contacts show
whether memory grows with the number of pages.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.fakes import CUSTOMER_EVERY, BenchXero
from bench.report import Section, figure
from bench.supplier_names import supplier_names
from providers.xero import LIST_GROUPS, PAGE_SIZE, RATE_LIMIT
from tests.fakes.loopback import LoopbackServer

TITLE = "3. Sync throughput (Xero, loopback HTTP)"
S = "sync"
MIN_ROWS_PER_SECOND = 20_000
MAX_PEAK_RSS_MB = 300


def _serve(contacts: int):
    fake = BenchXero()
    fake.add_suppliers(supplier_names(contacts, seed=5))
    fake.prepare(PAGE_SIZE)
    return fake, LoopbackServer(fake.handle).start()


def _child(fake: BenchXero, url: str, db: Path) -> dict:
    access, refresh = fake.grant()
    spec = {
        "xero_url": url,
        "access": access,
        "refresh": refresh,
        "tenant": fake.tenant_id,
        "db": str(db),
    }
    done = subprocess.run(  # noqa: S603 (our own module, our own arguments)
        [sys.executable, "-m", "bench.sync_child", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sync child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def _runs(contacts: int, repeats: int, workdir: Path) -> list[dict]:
    """`repeats` runs against one fake server, each in a fresh process and database."""
    fake, server = _serve(contacts)
    results = []
    try:
        for n in range(repeats):
            before = fake.api_calls()
            result = _child(fake, server.url, workdir / f"{contacts}-{n}.db")
            result["served"] = fake.api_calls() - before
            result["contacts"] = len(fake.contacts)
            results.append(result)
        return results
    finally:
        server.stop()


def run(*, smoke: bool = False, repeats: int = 3) -> Section:
    big, small = (2_000, 500) if smoke else (100_000, 25_000)
    repeats = 1 if smoke else repeats
    section = Section("sync", TITLE)
    with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-sync-") as tmp:
        runs = _runs(big, repeats, Path(tmp))
        small_runs = _runs(small, repeats, Path(tmp))
    full = [r["full"] for r in runs]
    incremental = [r["incremental"] for r in runs]
    rows = full[0]["rows"]
    f = section.figures
    f.append(figure(S, f"full sync wall time, {big:,} contacts", [r["seconds"] for r in full], "s"))
    for part, name in (
        ("fetch", "fetching pages (HTTP, JSON, records)"),
        ("stage_s", "staging pages (JSON encode + INSERT)"),
        ("merge_s", "merging into the lists (one transaction)"),
    ):
        values = [
            r["seconds"] - r["stage_s"] - r["merge_s"] if part == "fetch" else r[part] for r in full
        ]
        versus = ""
        if part == "fetch":
            versus = "per provider list, fetch + stage: " + ", ".join(
                f"{kind} {statistics.median(r['kind_s'][kind] for r in full):.2f} s"
                for kind in full[0]["kind_s"]
            )
        f.append(figure(S, f"  of which {name}", values, "s", versus=versus))
    rates = [r["rows"] / r["seconds"] for r in full]
    rate = figure(
        S,
        "ingest rate (rows stored / wall time)",
        rates,
        "rows/s",
        target=f"≥ {MIN_ROWS_PER_SECOND:,} rows/s",
    )
    f.append(replace(rate, met=rate.value >= MIN_ROWS_PER_SECOND))
    pages = -(-runs[0]["contacts"] // PAGE_SIZE)  # pages of contacts at PAGE_SIZE a page
    lists = len(LIST_GROUPS)
    first = figure(
        S,
        "API requests, full sync",
        [r["requests"] for r in full],
        target=f"= {pages + lists - 1} (one per list page: {pages} of contacts, 1 per other list)",
        versus=_endpoints(full[0]["requests_by_endpoint"]),
    )
    f.append(replace(first, met=max(r["requests"] for r in full) == pages + lists - 1))
    f.append(
        figure(
            S,
            f"wait Xero's {RATE_LIMIT.per_minute} calls/min would add (not waited: virtual clock)",
            [r["rate_limit_wait_s"] for r in full],
            "s",
        )
    )
    peaks = [r["full"]["peak_rss_mb"] for r in runs]
    peak = figure(
        S, f"peak RSS of the syncing process, {big:,} contacts", peaks, "MB", target="< 300 MB"
    )
    f.append(replace(peak, met=peak.value < MAX_PEAK_RSS_MB))
    small_peaks = [r["full"]["peak_rss_mb"] for r in small_runs]
    f.append(
        figure(
            S,
            f"peak RSS of the syncing process, {small:,} contacts",
            small_peaks,
            "MB",
            versus=f"{big:,} contacts: x{peak.value / figure(S, '', small_peaks).value:.2f}",
        )
    )
    first_page, last_page, per_page = _rss_growth(runs)
    f.append(
        figure(
            S,
            "RSS growth per staged page, after the first page",
            per_page,
            "MB",
            versus=f"after page 1: {first_page:.0f} MB; after the last: {last_page:.0f} MB",
        )
    )
    requests = figure(
        S,
        "API requests, incremental sync with nothing changed",
        [r["requests"] for r in incremental],
        target=f"= {lists} (one per provider list)",
        versus=_endpoints(incremental[0]["requests_by_endpoint"]),
    )
    f.append(replace(requests, met=max(r["requests"] for r in incremental) == lists))
    f.append(
        figure(
            S,
            "incremental sync wall time",
            [r["seconds"] * 1000 for r in incremental],
            "ms",
        )
    )
    served = {r["served"] for r in runs}
    section.notes += [
        f"{big:,} contacts, every {CUSTOMER_EVERY}th also a customer: {rows:,} rows per full "
        f"sync ({_totals(full[0]['totals'])}); pages of {PAGE_SIZE} (providers/xero.py "
        "PAGE_SIZE); a fresh database file per run; the fake answered "
        f"{', '.join(map(str, sorted(served)))} API calls per run (full + incremental), as the "
        "client counted.",
        "Peak RSS is VmHWM of the child process that runs the sync. Not ru_maxrss: Linux keeps "
        "that across fork and exec, so the child would report the parent's size (the parent "
        "holds the fake server's 100k contacts).",
        "The client's rate limiter is kept but runs on a virtual clock (bench/fakes.py "
        "VirtualTime), so the wall time is ledgerlink's own work; the wait Xero's limit would "
        "add is listed separately.",
        'Where the time goes (the rows above; `bench.sync_child` takes `"profile": path` for '
        "a cProfile): one /Contacts pass gives suppliers and customers and one /Accounts pass "
        "the chart and the payment accounts (providers/xero.py `LIST_GROUPS`); each page's "
        "JSON is decoded, each contact cut to the fields ledgerlink reads "
        "(providers/xero.py `CONTACT_FIELDS`) and re-encoded into the staging table, then "
        "copied into list_records in the merge. Staged pages go to a TEMP table (no WAL, no "
        "checkpoint), and a helper thread fetches and decodes the next page while one is "
        "staged, so the fetching row is only the part that did not overlap the staging.",
    ]
    return section


def _endpoints(by_endpoint: dict[str, int]) -> str:
    return ", ".join(f"{endpoint} {count}" for endpoint, count in sorted(by_endpoint.items()))


def _totals(totals: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in totals.items())


def _rss_growth(runs: list[dict]) -> tuple[float, float, list[float]]:
    per_page = []
    first = last = 0.0
    for r in runs:
        pages = r["full"]["rss_by_page"]
        contact_pages = [rss for _, rss in pages[1:]]  # page 0: the accounts
        first, last = contact_pages[0], contact_pages[-1]
        per_page.append((last - first) / max(len(contact_pages) - 1, 1))
    return first, last, per_page
