"""Run every benchmark, print the table, rewrite bench/RESULTS.md.

    python -m bench                  # everything (about 8 minutes on 2 cores)
    python -m bench --smoke          # a tiny version of each, for the test suite (seconds)
    python -m bench --only matching,sync --results /tmp/RESULTS.md --json /tmp/results.json

Benchmarks: `matching` (bench/matching_bench.py), `slack` (bench/slack_bench.py), `sync`
(bench/sync_bench.py), `outbox` (bench/outbox_bench.py), `scale` (bench/scale_bench.py: 1,000
and 10,000 workspaces, 3 serve processes on PostgreSQL, about 20 minutes; it uses the server in
LEDGERLINK_TEST_DATABASE_URL, or starts a private one with scripts/test-postgres). `--smoke`
writes nothing unless `--results` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import matching_bench, outbox_bench, scale_bench, slack_bench, sync_bench
from bench.report import RESULTS, as_json, machine, render, table

BENCHMARKS = {
    "matching": matching_bench.run,
    "slack": slack_bench.run,
    "sync": sync_bench.run,
    "outbox": outbox_bench.run,
    "scale": scale_bench.run,
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it all works")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run (default: {','.join(BENCHMARKS)})",
    )
    parser.add_argument("--results", type=Path, help=f"where to write RESULTS.md ({RESULTS})")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.results is None and not args.smoke:
        args.results = RESULTS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    info = machine()
    print(f"ledgerlink benchmarks on {info['nproc']} CPUs, Python {info['python']}", flush=True)
    sections = []
    for name in args.only:
        print(f"\n== {name} ...", flush=True)
        started, load = time.perf_counter(), os.getloadavg()[0]
        section = BENCHMARKS[name](smoke=args.smoke)
        section.seconds = time.perf_counter() - started
        section.load = (load, os.getloadavg()[0])
        sections.append(section)
        print(
            f"\n## {section.title} ({section.seconds:.0f} s, load average "
            f"{section.load[0]:.1f} -> {section.load[1]:.1f})\n\n{table(section.figures)}"
        )
        print("\n".join(f"- {note}" for note in section.notes), flush=True)
    command = "python -m bench" + (" --smoke" if args.smoke else "")
    if set(args.only) != set(BENCHMARKS):
        command += f" --only {','.join(args.only)}"
    if args.results is not None:
        args.results.write_text(render(sections, info, command=command), encoding="utf-8")
        print(f"\nwrote {args.results}")
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(sections, info), indent=1), encoding="utf-8")
    missed = [f"{f.section}: {f.name}" for s in sections for f in s.figures if f.met is False]
    print("\ntargets missed: " + ("; ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
