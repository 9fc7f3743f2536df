"""How often supplier matching offers the right supplier first, beside plain rapidfuzz.

    python -m bench.matcher_calibration            # dev and held-out, 400 and 100,000 suppliers
    python -m bench.matcher_calibration --smoke    # 400 suppliers, a few queries: seconds
    python -m bench.matcher_calibration --dev-large 8 --sizes 400,10000 --misses
        # 8 more dev splits (DEV's locales, other seeds): where the scorer still fails
    python -m bench.matcher_calibration --dev-large 12 --sizes 100000 --kinds typos
        # one kind of set only

Data: bench/eval_names.py — Faker company names in several locales and a documented noise
model (typos at any position, format noise, word changes, all mixed), hard negatives, card
statement lines and real-company pairs. Two splits: `dev`, the only data the scorer's constants
(bot/matching.py) were chosen on, and `held-out`, other locales and seeds, never tuned on;
they are reported separately.

A ledgerlink lookup is what bot/items.py does: `exact()` (the auto-publish rule), and when that
finds nothing, `candidates()` (the prompt's buttons, best first). The baselines are plain
`rapidfuzz.process.extract(query, names, scorer=..., processor=utils.default_process,
limit=3)` with WRatio, ratio, token_set_ratio and partial_ratio (their first result is what
`extractOne` returns), computed in bulk with `process.cdist` on BASELINE_WORKERS threads (the
same results: tests/bench/test_calibration_baselines.py), on every query of every set, each
with the paired comparison behind a difference in top-1 ("+a -b": a queries ledgerlink has right
first where the scorer does not, b the reverse; most queries both have right) and its exact
two-sided sign test (McNemar's exact test, `sign_test`: how often a split of the a + b at least
this uneven comes about if neither scorer were the better), and for every
scorer "t of m misses tied" (of the m queries it does not put right first, t where the right
supplier scored exactly as the one it put first: ties settled by an order, not a score): at
100,000 suppliers each baseline query scans every name (WRatio takes a sixth of a second a
query), which is most of the run's time, but a comparison on part of a set would rest on half
the queries the headline figure does.

The labelled pairs of tests/matching/labelled_pairs.csv (`load_pairs`, `metrics`, ...) are kept
for bench/matching_bench.py's pairwise figures; they were written alongside the old scorer and
choose nothing any more.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import NamedTuple

import numpy
from rapidfuzz import fuzz, process, utils

from bench import eval_names as data
from bench.report import Figure
from bot import matching

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "matching" / "labelled_pairs.csv"
MIN_PRECISION = 0.95
TABLE_THRESHOLDS = (60.0, 70.0, 75.0, 77.0, 79.0, 81.0, 83.0, 85.0, 90.0, 95.0)

Scorer = Callable[[str, str], float]


@dataclass(frozen=True)
class Pair:
    query: str
    supplier: str
    same: bool


@dataclass(frozen=True)
class Metrics:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    labels = {"same": True, "different": False}
    return [Pair(row["query"], row["supplier"], labels[row["label"]]) for row in rows]


def metrics(scored: Iterable[tuple[float, bool]], threshold: float) -> Metrics:
    tp = fp = fn = 0
    for value, same in scored:
        if value >= threshold:
            tp, fp = tp + same, fp + (not same)
        else:
            fn += same
    return Metrics(threshold, tp, fp, fn)


def choose(scored: Sequence[tuple[float, bool]]) -> Metrics:
    """The threshold (whole numbers 50..100) with the best recall at precision >= 0.95."""
    points = [metrics(scored, float(t)) for t in range(50, 101)]
    good = [m for m in points if m.precision >= MIN_PRECISION] or points
    return max(good, key=lambda m: (m.recall, m.precision, -m.threshold))


def ledgerlink(query: str, supplier: str) -> float:
    return matching.score(matching.normalize(query), matching.normalize(supplier))


def _plain(scorer: Callable[..., float]) -> Scorer:
    return lambda query, supplier: scorer(query, supplier, processor=utils.default_process)


def _wratio_with_rules(query: str, supplier: str) -> float:
    a, b = matching.normalize(query), matching.normalize(supplier)
    if not a.core or not b.core:
        return 0.0
    similarity = fuzz.WRatio(a.core, b.core)
    return matching.apply_rules(similarity, a.legal_form, a.numbers, b.legal_form, b.numbers)


SCORERS: dict[str, Scorer] = {
    "fuzz.ratio": _plain(fuzz.ratio),
    "fuzz.token_sort_ratio": _plain(fuzz.token_sort_ratio),
    "fuzz.token_set_ratio": _plain(fuzz.token_set_ratio),
    "fuzz.WRatio": _plain(fuzz.WRatio),
    "WRatio + rules": _wratio_with_rules,
    "ledgerlink": ledgerlink,
}


def scores(scorer: Scorer, pairs: Sequence[Pair]) -> list[tuple[float, bool]]:
    return [(scorer(pair.query, pair.supplier), pair.same) for pair in pairs]


BASELINES = {
    "WRatio": fuzz.WRatio,
    "ratio": fuzz.ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "partial_ratio": fuzz.partial_ratio,
}
TOP1_TARGET, TOP3_TARGET, DESCRIPTOR_TARGET = 98.0, 99.5, 95.0
NAIVE_AUTO = 90.0  # a plain scorer's score taken as sure, for its "auto-published" figures


@dataclass(frozen=True)
class Plan:
    size: int  # suppliers
    queries: int  # per noisy set
    descriptors: int
    negatives: int


FULL = (Plan(400, 300, 100, 150), Plan(100_000, 300, 100, 150))
SMOKE = (Plan(400, 30, 20, 20),)

Lookup = Callable[[str], list[str]]  # supplier ids, best first


def looked_up(
    index: matching.SupplierIndex, text: str
) -> tuple[matching.Candidate | None, list[matching.Candidate]]:
    """What bot/items.py does for an item: `exact()`, and only if that finds nothing,
    `candidates()` (then the first of the pair is None)."""
    exact = index.exact(text)
    return exact, [] if exact is not None else index.candidates(text)


def _ids(found: tuple[matching.Candidate | None, list[matching.Candidate]]) -> list[str]:
    exact, offered = found
    return [exact.supplier_id] if exact is not None else [c.supplier_id for c in offered]


def ledgerlink_lookup(index: matching.SupplierIndex) -> Lookup:
    return lambda text: _ids(looked_up(index, text))


def _tied_miss(offered: list[matching.Candidate], expected_id: str) -> bool:
    """Whether `candidates()` put another supplier first that scores exactly as the right
    one: a miss decided by the order among equals, not by the scores. (An exact match does
    not rank: it offers nothing here.)"""
    if not offered or offered[0].supplier_id == expected_id:
        return False
    return any(c.supplier_id == expected_id and c.score == offered[0].score for c in offered)


BASELINE_WORKERS = 2  # cdist's threads: the machine the figures come from has 2 cores
_BASELINE_CHUNK = 50  # queries per cdist call: a 50 x 100,000 float32 matrix is 20 MB


class Ranked(NamedTuple):
    """One plain scorer's answer to one query."""

    ids: list[str]  # the best 3, ties by list order
    best: float  # the best score
    right: float | None  # the right supplier's score, given the right supplier


def baseline_top3(
    listed: Sequence[tuple[str, str]],
    texts: Sequence[str],
    expected: Sequence[str] | None = None,
) -> dict[str, list[Ranked]]:
    """Plain rapidfuzz per scorer, for each of `texts`: the ids of its best 3 and the best
    score, as `process.extract(text, names, scorer=..., processor=utils.default_process,
    limit=3)` would give them (ties by list order), and the score of its `expected` id if
    given, computed with `process.cdist` so every name is scored in C on BASELINE_WORKERS
    threads."""
    names = [utils.default_process(name) for _, name in listed]
    ids = [supplier_id for supplier_id, _ in listed]
    at_id = {supplier_id: at for at, supplier_id in enumerate(ids)}
    queries = [utils.default_process(text) for text in texts]
    found: dict[str, list[Ranked]] = {}
    for name, scorer in BASELINES.items():
        rows = found[name] = []
        for at in range(0, len(queries), _BASELINE_CHUNK):
            matrix = process.cdist(
                queries[at : at + _BASELINE_CHUNK],
                names,
                scorer=scorer,
                processor=None,
                dtype=numpy.float32,
                workers=BASELINE_WORKERS,
            )
            for offset, row in enumerate(matrix):
                best = numpy.argsort(-row, kind="stable")[:3]
                right = None
                if expected is not None:
                    right = float(row[at_id[expected[at + offset]]])
                rows.append(
                    Ranked([ids[i] for i in best], float(row[best[0]]) if len(best) else 0.0, right)
                )
    return found


def _share(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else float("nan")


@dataclass
class SetResult:
    split: str
    size: int
    kind: str
    count: int
    top1: float
    top3: float
    auto_wrong: int  # bills exact() would publish to another supplier
    baselines: dict[str, tuple[float, float]]  # top-1, top-3 on the same queries
    # Per baseline, queries ledgerlink has right first where it does not, and the reverse:
    # the paired comparison behind a difference in top-1 (most queries both get right).
    first_only: dict[str, tuple[int, int]]
    # Per scorer, ledgerlink first: (misses, those where the right supplier scored exactly as
    # the one put first, so only the order among equals put it second).
    tied: dict[str, tuple[int, int]]
    median_ms: float

    @property
    def target(self) -> float:
        return DESCRIPTOR_TARGET if self.kind == "descriptors" else TOP1_TARGET

    def ahead(self, at: int) -> bool:
        ours = (self.top1, self.top3)[at]
        return all(ours >= values[at] for values in self.baselines.values())


def measure_set(split, size, kind, queries, index, listed) -> SetResult:
    found, took = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(looked_up(index, query.text))
        took.append((time.perf_counter() - started) * 1000)
    offered = [_ids(pair) for pair in found]
    right1 = [
        bool(ids) and ids[0] == q.expected_id for q, ids in zip(queries, offered, strict=True)
    ]
    right3 = [q.expected_id in ids[:3] for q, ids in zip(queries, offered, strict=True)]
    auto_wrong = sum(
        exact is not None and exact.supplier_id != q.expected_id
        for q, (exact, _) in zip(queries, found, strict=True)
    )
    tied = {
        "ledgerlink": (
            right1.count(False),
            sum(
                _tied_miss(candidates, q.expected_id)
                for q, (_, candidates) in zip(queries, found, strict=True)
            ),
        )
    }
    base, first_only = {}, {}
    expected = [q.expected_id for q in queries]
    for name, rows in baseline_top3(listed, [q.text for q in queries], expected).items():
        theirs = [
            bool(r.ids) and r.ids[0] == q.expected_id for q, r in zip(queries, rows, strict=True)
        ]
        first_only[name] = (
            sum(a and not b for a, b in zip(right1, theirs, strict=True)),
            sum(b and not a for a, b in zip(right1, theirs, strict=True)),
        )
        tied[name] = (
            theirs.count(False),
            sum(not hit and r.right == r.best for hit, r in zip(theirs, rows, strict=True)),
        )
        base[name] = (
            _share(sum(theirs), len(queries)),
            _share(
                sum(q.expected_id in r.ids for q, r in zip(queries, rows, strict=True)),
                len(queries),
            ),
        )
    took.sort()
    return SetResult(
        split,
        size,
        kind,
        len(queries),
        _share(sum(right1), len(queries)),
        _share(sum(right3), len(queries)),
        auto_wrong,
        base,
        first_only,
        tied,
        took[len(took) // 2],
    )


@dataclass
class NegativeResult:
    split: str
    size: int
    count: int
    auto_published: int
    offered: float  # share with at least one candidate offered (the prompt's buttons)
    naive: dict[str, float]  # share each baseline scores at NAIVE_AUTO or more


def measure_negatives(split, size, queries, index, listed) -> NegativeResult:
    auto = sum(index.exact(q.text) is not None for q in queries)
    offered = sum(bool(index.candidates(q.text)) for q in queries)
    naive = {
        name: _share(sum(r.best >= NAIVE_AUTO for r in rows), len(queries))
        for name, rows in baseline_top3(listed, [q.text for q in queries]).items()
    }
    return NegativeResult(split, size, len(queries), auto, _share(offered, len(queries)), naive)


@dataclass
class PairsResult:
    count: int
    same: int
    auto: int
    auto_right: int
    top1: float
    baselines_top1: dict[str, float]
    wrong_first: list[str]


def measure_real_pairs() -> PairsResult:
    """Real companies: auto-publish precision (exact) and the right one first, for `same` pairs."""
    listed_names = sorted({listed for _, listed, _ in data.REAL_PAIRS})
    listed = [(f"R{i:02d}", name) for i, name in enumerate(listed_names)]
    id_of = {name: supplier_id for supplier_id, name in listed}
    index = matching.SupplierIndex.build(listed)
    same = {(q, id_of[n]) for q, n, label in data.REAL_PAIRS if label}
    different = {(q, id_of[n]) for q, n, label in data.REAL_PAIRS if not label}
    queries = sorted({q for q, _, _ in data.REAL_PAIRS})
    auto = auto_right = 0
    for query in queries:
        exact = index.exact(query)
        if exact is None:
            continue
        auto += 1
        wanted = {sid for q, sid in same if q == query}
        auto_right += (query, exact.supplier_id) not in different and (
            not wanted or exact.supplier_id in wanted
        )
    lookup = ledgerlink_lookup(index)
    wrong_first = []
    hits = 0
    for query, supplier_id in sorted(same):
        ids = lookup(query)
        if ids and ids[0] == supplier_id:
            hits += 1
        else:
            wrong_first.append(query)
    same_pairs = sorted(same)
    base = {
        name: _share(
            sum(r.ids[:1] == [sid] for r, (_, sid) in zip(rows, same_pairs, strict=True)),
            len(same_pairs),
        )
        for name, rows in baseline_top3(listed, [q for q, _ in same_pairs]).items()
    }
    return PairsResult(
        len(data.REAL_PAIRS),
        len(same),
        auto,
        auto_right,
        _share(hits, len(same)),
        base,
        wrong_first,
    )


ALL_KINDS = (*data.NOISY_KINDS, "descriptors")


def _queries(split, size: int, kind: str, noisy: int, descriptors: int) -> list[data.Query]:
    """One set's queries: `descriptors` statement lines, or `noisy` names of a noisy kind."""
    if kind == "descriptors":
        return data.descriptors(split, size, descriptors)
    return data.noisy_queries(split, size, kind, noisy)


def evaluate(plans: Sequence[Plan], log=print):
    """Every split at every size: noisy sets, descriptors and hard negatives; then real pairs."""
    sets: list[SetResult] = []
    negatives: list[NegativeResult] = []
    for plan in plans:
        for split in data.SPLITS:
            started = time.perf_counter()
            listed = data.descriptor_suppliers(split, plan.size)
            index = matching.SupplierIndex.build(listed)
            for kind in ALL_KINDS:
                queries = _queries(split, plan.size, kind, plan.queries, plan.descriptors)
                sets.append(measure_set(split.name, plan.size, kind, queries, index, listed))
                log(_set_line(sets[-1]))
            negatives.append(
                measure_negatives(
                    split.name,
                    plan.size,
                    data.hard_negatives(split, plan.size, plan.negatives),
                    index,
                    listed,
                )
            )
            log(_negative_line(negatives[-1]))
            log(f"  ({split.name}, {plan.size:,} suppliers: {time.perf_counter() - started:.0f} s)")
    pairs = measure_real_pairs()
    log(_pairs_line(pairs))
    return sets, negatives, pairs


def sign_test(wins: int, losses: int) -> float:
    """The exact two-sided sign test of a paired comparison (McNemar's exact test): the chance
    of a split of the `wins + losses` queries the two scorers disagree on at least as uneven as
    this one if each query were a fair coin between them. 1.0 when they never disagree."""
    n = wins + losses
    tail = sum(comb(n, k) for k in range(min(wins, losses) + 1))
    return min(1.0, 2 * tail / 2**n)


def _p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.3f}"


def _pair(values: tuple[float, float]) -> str:
    return f"{values[0]:.1f}/{values[1]:.1f}"


def _tied(tied: tuple[int, int]) -> str:
    missed, ties = tied
    return f"{ties} of {missed} misses tied"


def _scorer(
    name: str,
    shares: tuple[float, float],
    tied: tuple[int, int],
    paired: tuple[int, int] | None = None,
) -> str:
    """A scorer's top-1/top-3, for a baseline the queries only ledgerlink, or only it, has
    right first (`paired`) and the sign test of that, and how many of its misses are ties."""
    versus = ""
    if paired is not None:
        versus = f"+{paired[0]} -{paired[1]} {_p(sign_test(*paired))}, "
    return f"{name} {_pair(shares)} ({versus}{_tied(tied)})"


def _ours(r: SetResult) -> str:
    return _scorer("ledgerlink", (r.top1, r.top3), r.tied["ledgerlink"])


def _versus(r: SetResult, name: str) -> str:
    return _scorer(name, r.baselines[name], r.tied[name], r.first_only[name])


def _set_line(r: SetResult) -> str:
    base = ", ".join(_versus(r, name) for name in r.baselines)
    return (
        f"{r.split:8} {r.size:>7,} {r.kind:11} top-1 {r.top1:5.1f}% top-3 {r.top3:5.1f}% "
        f"({r.count} q, {_tied(r.tied['ledgerlink'])}, median {r.median_ms:.2f} ms, "
        f"auto-published wrong {r.auto_wrong}) | "
        f"top-1/top-3 on the same queries: {base}"
    )


def _negative_line(r: NegativeResult) -> str:
    naive = ", ".join(f"{name} {v:.1f}%" for name, v in r.naive.items())
    return (
        f"{r.split:8} {r.size:>7,} hard negatives ({r.count} q): auto-published {r.auto_published},"
        f" closest offered {r.offered:.1f}% | top score >= {NAIVE_AUTO:g}: {naive}"
    )


def _pairs_line(r: PairsResult) -> str:
    base = ", ".join(f"{name} {v:.1f}%" for name, v in r.baselines_top1.items())
    return (
        f"real-company pairs ({r.count}, {r.same} same): auto-published {r.auto}, right "
        f"{r.auto_right} (precision {_share(r.auto_right, r.auto):.1f}%); right first "
        f"{r.top1:.1f}% | {base}; not first: {', '.join(r.wrong_first) or 'none'}"
    )


def figures(section: str, sets, negatives, pairs) -> list[Figure]:
    """The results as bench/RESULTS.md rows, held-out beside dev, each with its baselines."""
    rows = []
    for r in sets:
        base = "; ".join(_versus(r, name) for name in r.baselines)
        versus = (
            f"top-1/top-3 on the same {r.count} q: {_ours(r)}; {base}; "
            f"auto-published to a wrong supplier: {r.auto_wrong}"
        )
        label = f"{r.split}, {r.size:,} suppliers, {r.kind} ({r.count} q)"
        rows.append(
            Figure(
                section,
                f"top-1, {label}",
                r.top1,
                "%",
                target=f"≥ {r.target:g}%, ahead of the baselines",
                met=r.top1 >= r.target and r.ahead(0) and r.auto_wrong == 0,
                versus=versus,
            )
        )
        if r.kind != "descriptors":
            rows.append(
                Figure(
                    section,
                    f"top-3, {label}",
                    r.top3,
                    "%",
                    target=f"≥ {TOP3_TARGET:g}%, ahead of the baselines",
                    met=r.top3 >= TOP3_TARGET and r.ahead(1),
                )
            )
    for r in negatives:
        naive = "; ".join(f"{name} {v:.1f}%" for name, v in r.naive.items())
        rows.append(
            Figure(
                section,
                f"hard negatives auto-published, {r.split}, {r.size:,} suppliers ({r.count} q)",
                r.auto_published,
                target="0",
                met=r.auto_published == 0,
                versus=f"closest suppliers offered for {r.offered:.1f}%; plain scorers' top score"
                f" ≥ {NAIVE_AUTO:g} (would be taken as sure): {naive}",
            )
        )
    base = "; ".join(f"{name} {v:.1f}%" for name, v in pairs.baselines_top1.items())
    rows.append(
        Figure(
            section,
            f"real-company pairs: auto-publish precision ({pairs.auto} auto-published of "
            f"{pairs.count} pairs)",
            _share(pairs.auto_right, pairs.auto),
            "%",
            target="100%",
            met=pairs.auto_right == pairs.auto,
        )
    )
    rows.append(
        Figure(
            section,
            f"real-company pairs: right supplier first ({pairs.same} `same` pairs)",
            pairs.top1,
            "%",
            versus=f"{base}; not first: {', '.join(pairs.wrong_first) or 'none'}",
        )
    )
    return rows


def _misses(index: matching.SupplierIndex, listed, queries: Sequence[data.Query]) -> list[str]:
    """A line per query whose supplier is not offered first: what was offered instead."""
    names = dict(listed)
    lookup = ledgerlink_lookup(index)
    lines = []
    for query in queries:
        ids = lookup(query.text)
        if ids[:1] == [query.expected_id]:
            continue
        rank = ids.index(query.expected_id) + 1 if query.expected_id in ids else None
        first = names[ids[0]] if ids else "nothing"
        lines.append(
            f"    {query.text!r} -> {first!r} (wanted {names[query.expected_id]!r}, "
            f"{'rank ' + str(rank) if rank else 'not offered'})"
        )
    return lines


def evaluate_dev_large(
    count: int,
    sizes: Sequence[int],
    queries: int,
    misses: bool,
    kinds: Sequence[str] = ALL_KINDS,
    log=print,
):
    """The noisy sets and descriptors (or those of `kinds`) of `count` more dev splits
    (`data.dev_large`), each split's figures and, per size and kind, the totals beside the
    plain scorers' on the same queries. Development data only: the held-out split is not
    touched."""
    totals: dict[tuple[int, str], list] = {}
    for size in sizes:
        for split in data.dev_large(count):
            listed = data.descriptor_suppliers(split, size)
            index = matching.SupplierIndex.build(listed)
            for kind in kinds:
                chosen = _queries(split, size, kind, queries, queries // 3)
                result = measure_set(split.name, size, kind, chosen, index, listed)
                log(_set_line(result))
                if misses:
                    for line in _misses(index, listed, chosen):
                        log(line)
                total = totals.setdefault((size, kind), Counter())
                total["count"] += result.count
                scorers = {"ledgerlink": (result.top1, result.top3), **result.baselines}
                for name, (top1, top3) in scorers.items():
                    total[name, "top1"] += top1 * result.count / 100
                    total[name, "top3"] += top3 * result.count / 100
                    total[name, "missed"] += result.tied[name][0]
                    total[name, "tied"] += result.tied[name][1]
                for name, (ours, theirs) in result.first_only.items():
                    total[name, "+"] += ours
                    total[name, "-"] += theirs
            negatives = data.hard_negatives(split, size, queries // 2)
            wrong = sum(index.exact(q.text) is not None for q in negatives)
            log(f"{split.name:8} {size:>7,} hard negatives auto-published: {wrong}")
    log("\ntotals, top-1/top-3 (ledgerlink; plain scorers on the same queries):")
    for (size, kind), total in totals.items():
        plain = ", ".join(_total_figures(total, name) for name in BASELINES)
        ours = _total_figures(total, "ledgerlink")
        log(f"  {size:>7,} {kind:11} {total['count']:5} q: {ours}; {plain}")


def _total_figures(total: Counter, name: str) -> str:
    """One scorer's figures summed over `--dev-large` splits, as `_ours` and `_versus` show
    them for one set."""
    n = total["count"]
    shares = (100 * total[name, "top1"] / n, 100 * total[name, "top3"] / n)
    tied = (total[name, "missed"], total[name, "tied"])
    paired = None if name == "ledgerlink" else (total[name, "+"], total[name, "-"])
    return _scorer(name, shares, tied, paired)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matcher_calibration")
    parser.add_argument("--smoke", action="store_true", help="400 suppliers, a few queries")
    parser.add_argument(
        "--dev-large",
        type=int,
        metavar="N",
        help="only N more dev splits (DEV's locales, other seeds), to find what fails",
    )
    parser.add_argument(
        "--sizes", default="400", help="with --dev-large: supplier counts, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=300, help="with --dev-large: per set")
    parser.add_argument("--misses", action="store_true", help="with --dev-large: list misses")
    parser.add_argument(
        "--kinds",
        default=",".join(ALL_KINDS),
        help=f"with --dev-large: sets, comma-separated, of {', '.join(ALL_KINDS)}",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.dev_large:
        sizes = [int(size) for size in args.sizes.split(",")]
        kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
        unknown = sorted(set(kinds) - set(ALL_KINDS))
        if unknown or not kinds:
            parser.error(
                f"--kinds: {', '.join(unknown) or 'none given'}; one of {', '.join(ALL_KINDS)}"
            )
        evaluate_dev_large(args.dev_large, sizes, args.queries, args.misses, kinds)
        return 0
    sets, negatives, pairs = evaluate(SMOKE if args.smoke else FULL)
    missed = [f.name for f in figures("matching", sets, negatives, pairs) if f.met is False]
    print("\ntargets missed: " + ("; ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
