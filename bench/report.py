"""Figures, their summary statistics, the printed table and bench/RESULTS.md.

A `Figure` is one measured number: the median over `runs` repeated runs, with the smallest and
largest run beside it (`spread`), the target it is held to and, where the issue asks for one,
what it is compared with in the same run (`versus`: baselines, and ratios taken run by run).
"""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LIBRARIES = ("rapidfuzz", "slack_bolt", "slack_sdk", "httpx", "waitress", "sqlite-utils")


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str = ""
    spread: tuple[float, float] | None = None  # (smallest, largest) over the runs
    runs: int = 1
    target: str = ""
    met: bool | None = None  # None: no target
    versus: str = ""  # figures from the same run to compare with
    note: str = ""


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Iterable[float]) -> tuple[float, tuple[float, float], int]:
    """(median, (min, max), count) of the runs' values."""
    runs = [v for v in values if not math.isnan(v)]
    if not runs:
        return math.nan, (math.nan, math.nan), 0
    return statistics.median(runs), (min(runs), max(runs)), len(runs)


def figure(section: str, name: str, runs: Iterable[float], unit: str = "", **kwargs) -> Figure:
    """A figure from per-run values: their median, with their spread."""
    value, spread, count = summary(runs)
    return Figure(section, name, value, unit, spread if count > 1 else None, count, **kwargs)


def number(value: float, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        text = f"{value:.1f}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100 or float(value).is_integer():
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text}{'' if unit in ('', '%', 'x') else ' '}{unit}"


def _spread(fig: Figure) -> str:
    if fig.spread is None:
        return "1 run" if fig.runs == 1 else f"{fig.runs} runs"
    low, high = fig.spread
    return f"{number(low, fig.unit)} - {number(high, fig.unit)} ({fig.runs} runs)"


def _met(fig: Figure) -> str:
    return "" if fig.met is None else ("yes" if fig.met else "**NO**")


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table (also what the terminal shows)."""
    lines = [
        "| measure | ledgerlink | spread | target | met | compared with (same run) |",
        "|---|---|---|---|---|---|",
    ]
    for fig in figures:
        name = fig.name + (f" ({fig.note})" if fig.note else "")
        cells = [name, number(fig.value, fig.unit), _spread(fig), fig.target, _met(fig)]
        cells.append(fig.versus)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    for library in LIBRARIES:
        try:
            info[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            info[library] = "not installed"
    info["commit"] = _commit()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (read-only, developer tool)
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def render(sections: Sequence[Section], info: dict[str, str], *, command: str) -> str:
    """bench/RESULTS.md."""
    missed = [f for s in sections for f in s.figures if f.met is False]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `{command}` on {info['date']}. Regenerate with the same command; "
        "this file is rewritten on every run.",
        "",
        "Each figure is the median over the runs shown in *spread* (smallest - largest run). "
        "Comparisons are taken within the same run: baselines ran on the same data, in the "
        "same process, interleaved with ledgerlink's runs, and ratios are computed run by run.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        "## Summary",
        "",
    ]
    if missed:
        lines.append("Targets missed: " + "; ".join(f"{f.section}: {f.name}" for f in missed))
    else:
        lines.append("Every target was met.")
    for section in sections:
        lines += ["", f"## {section.title}", "", table(section.figures), ""]
        lines += [f"- {note}" for note in section.notes]
        start, end = section.load
        lines.append(
            f"\n_This section took {section.seconds:.0f} s; the 1-minute load average was "
            f"{start:.1f} at its start and {end:.1f} at its end (on {info['nproc']} CPUs; "
            "anything else running on the machine shows in the latencies)._"
        )
    return "\n".join(lines).rstrip() + "\n"


def as_json(sections: Sequence[Section], info: dict[str, str]) -> dict:
    return {
        "machine": info,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "seconds": s.seconds,
                "load": s.load,
                "notes": s.notes,
                "figures": [asdict(f) for f in s.figures],
            }
            for s in sections
        ],
    }
