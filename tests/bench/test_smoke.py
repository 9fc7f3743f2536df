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
SECTIONS = {"matching", "slack", "sync", "outbox", "scale"}
ROWS = (
    "lookup median, 1,000 suppliers",
    "lookup p99, 1,000 suppliers",
    "index build, 1,000 suppliers",
    "concurrent `/integrations refresh`: p99",
    "concurrent Create-supplier clicks: max",
    "concurrent `POST /api/items`: p99",
    "items stored exactly once (database)",
    "ingest rate (rows stored / wall time)",
    "peak RSS of the syncing process, 2,000 contacts",
    "API requests, incremental sync with nothing changed",
    "12 items, one channel: time until every item is visible",
    "12 items, 4 channels: items lost (never visible)",
    "connections synced exactly once (database), 20 workspaces",
    "expiry reminders sent exactly once, 20 workspaces",
    "slash-command acknowledgement p99 under that load, 20 workspaces",
)


def test_smoke_run_prints_the_table_and_writes_results_where_told(tmp_path):
    """The smoke run prints every benchmark's rows, with numbers, and writes only to tmp."""
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    results, figures = tmp_path / "RESULTS.md", tmp_path / "results.json"
    command = ["-m", "bench", "--smoke", "--results", str(results), "--json", str(figures)]
    done = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A guard against a hang, not a speed check (benchmarks measure speed): the run takes
        # about 70 s beside the rest of the suite on 2 cores, so 120 s left little room.
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    for row in ROWS:
        assert row in done.stdout, row
    data = json.loads(figures.read_text())
    assert {section["key"] for section in data["sections"]} == SECTIONS
    for section in data["sections"]:
        assert section["figures"], section["key"]
        for fig in section["figures"]:
            assert isinstance(fig["value"], int | float) and math.isfinite(fig["value"]), fig
            if fig["spread"] is not None:
                assert all(math.isfinite(v) for v in fig["spread"]), fig
    assert data["machine"]["nproc"].isdigit()

    written = results.read_text()
    for heading in (
        "## Machine",
        "## 1. Supplier matching",
        "## 2. Slack",
        "## 3. Sync",
        "## 4. Slack's pacing",
        "## 5. Scale",
    ):
        assert heading in written
    assert "| python |" in written and "| rapidfuzz |" in written
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before
