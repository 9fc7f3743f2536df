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
from providers.base import LIST_KINDS
from providers.xero import PAGE_SIZE, RATE_LIMIT
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


# Levers tried without changing the product (bench/sync_child.py `apply_what_if`).
WHAT_IFS = {
    "trim": ("trim_raw",),
    "trim+filter": ("trim_raw", "customer_filter"),
}


def _child(fake: BenchXero, url: str, db: Path, what_if: tuple[str, ...] = ()) -> dict:
    access, refresh = fake.grant()
    spec = {
        "xero_url": url,
        "access": access,
        "refresh": refresh,
        "tenant": fake.tenant_id,
        "db": str(db),
        "what_if": list(what_if),
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


def _runs(
    contacts: int, repeats: int, workdir: Path, variants: dict[str, tuple[str, ...]]
) -> dict[str, list[dict]]:
    """Each variant `repeats` times, interleaved run by run, against one fake server."""
    fake, server = _serve(contacts)
    results: dict[str, list[dict]] = {name: [] for name in variants}
    try:
        for n in range(repeats):
            for name, what_if in variants.items():
                before = fake.api_calls()
                result = _child(fake, server.url, workdir / f"{contacts}-{name}-{n}.db", what_if)
                result["served"] = fake.api_calls() - before
                results[name].append(result)
        return results
    finally:
        server.stop()


def run(*, smoke: bool = False, repeats: int = 3) -> Section:
    big, small = (2_000, 500) if smoke else (100_000, 25_000)
    repeats = 1 if smoke else repeats
    section = Section("sync", TITLE)
    with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-sync-") as tmp:
        variants = _runs(big, repeats, Path(tmp), {"today": (), **WHAT_IFS})
        small_runs = _runs(small, repeats, Path(tmp), {"today": ()})["today"]
    runs = variants["today"]
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
            versus = "per kind, fetch + stage: " + ", ".join(
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
    f.append(
        figure(
            S,
            "API requests, full sync",
            [r["requests"] for r in full],
            versus=_endpoints(full[0]["requests_by_endpoint"]),
        )
    )
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
        target=f"= {len(LIST_KINDS)} (one per list kind)",
        versus=_endpoints(incremental[0]["requests_by_endpoint"]),
    )
    f.append(replace(requests, met=max(r["requests"] for r in incremental) == len(LIST_KINDS)))
    f.append(
        figure(
            S,
            "incremental sync wall time",
            [r["seconds"] * 1000 for r in incremental],
            "ms",
        )
    )
    for name, label in (
        ("trim", "contacts' `raw` cut to the 8 fields ledgerlink reads"),
        ("trim+filter", "that, and the whole customer list fetched with where=IsCustomer==true"),
    ):
        tried = [r["full"] for r in variants[name]]
        ratios = [t["rows"] / t["seconds"] / rate for t, rate in zip(tried, rates, strict=True)]
        fig = figure(
            S,
            f"what-if (product unchanged): {label}",
            [t["rows"] / t["seconds"] for t in tried],
            "rows/s",
            versus=f"x{statistics.median(ratios):.2f} today's rate (runs x{min(ratios):.2f}-"
            f"x{max(ratios):.2f}); wall {statistics.median(t['seconds'] for t in tried):.1f} s; "
            f"{tried[0]['requests']} requests; peak RSS "
            f"{statistics.median(r['full']['peak_rss_mb'] for r in variants[name]):.0f} MB",
        )
        f.append(fig)
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
        "a cProfile): every contact is fetched twice, once for suppliers and once for "
        f"customers ({full[0]['requests_by_endpoint']['Contacts']} of the {full[0]['requests']} "
        "requests; the customer pass keeps one contact in ten); "
        "each page's JSON is decoded, and each contact re-encoded whole (`raw`, ~1.4 kB) to be "
        "written to the staging table, copied into list_records and deleted from staging in "
        "the merge. The what-if rows patch two levers into the child process only: storing just "
        "the contact fields ledgerlink reads (providers/xero.py `_contact_record`), and "
        "fetching a whole customer list with Xero's `where` filter instead of every contact "
        "again (the fake implements that filter; real Xero's behaviour with it is unverified). "
        "They are measured in the same run, interleaved with today's code.",
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
