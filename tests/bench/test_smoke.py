"""`python -m bench --smoke`: every benchmark still runs end to end (times are not asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import RESULTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Each benchmark's rows and RESULTS.md heading.
SECTIONS = {
    "matching": (
        "## 1. Supplier matching",
        (
            "lookup median, 1,000 suppliers",
            "lookup p99, 1,000 suppliers",
            "index build, 1,000 suppliers",
        ),
    ),
    "slack": (
        "## 2. Slack",
        (
            "concurrent `/integrations refresh`: p99",
            "concurrent Create-supplier clicks: max",
            "concurrent `POST /api/items`: p99",
            "items stored exactly once (database)",
        ),
    ),
    "sync": (
        "## 3. Sync",
        (
            "ingest rate (rows stored / wall time)",
            "peak RSS of the syncing process, 2,000 contacts",
            "API requests, incremental sync with nothing changed",
        ),
    ),
    "outbox": (
        "## 4. Slack's pacing",
        (
            "12 items, one channel: time until every item is visible",
            "12 items, 4 channels: items lost (never visible)",
        ),
    ),
    "scale": (
        "## 5. Scale",
        (
            "connections synced exactly once (database), 20 workspaces",
            "expiry reminders sent exactly once, 20 workspaces",
            "slash-command acknowledgement p99 under that load, 20 workspaces",
        ),
    ),
}
# Three runs of about 25 s each (on 2 cores beside the rest of the suite), so that the suite's
# workers share them instead of one worker spending over a minute on a single test.
RUNS = ("matching,slack,sync", "outbox", "scale")


def test_the_runs_cover_every_benchmark():
    """Every benchmark `python -m bench` runs by default is in one of the smoke runs."""
    from bench.__main__ import BENCHMARKS

    assert sorted(name for run in RUNS for name in run.split(",")) == sorted(BENCHMARKS)
    assert set(SECTIONS) == set(BENCHMARKS)


@pytest.mark.parametrize("only", RUNS)
def test_smoke_run_prints_the_table_and_writes_results_where_told(tmp_path, only):
    """The smoke run prints every benchmark's rows, with numbers, and writes only to tmp."""
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    results, figures = tmp_path / "RESULTS.md", tmp_path / "results.json"
    command = ["-m", "bench", "--smoke", "--only", only]
    command += ["--results", str(results), "--json", str(figures)]
    done = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A guard against a hang, not a speed check (benchmarks measure speed).
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    names = only.split(",")
    for name in names:
        for row in SECTIONS[name][1]:
            assert row in done.stdout, row
    data = json.loads(figures.read_text())
    assert [section["key"] for section in data["sections"]] == names
    for section in data["sections"]:
        assert section["figures"], section["key"]
        for fig in section["figures"]:
            assert isinstance(fig["value"], int | float) and math.isfinite(fig["value"]), fig
            if fig["spread"] is not None:
                assert all(math.isfinite(v) for v in fig["spread"]), fig
    assert data["machine"]["nproc"].isdigit()

    written = results.read_text()
    assert "## Machine" in written
    for name in names:
        assert SECTIONS[name][0] in written
    assert "| python |" in written and "| rapidfuzz |" in written
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before
