"""Choose the supplier matcher's scorer and threshold by measurement on the labelled pairs.

    python -m bench.matcher_calibration

reads tests/matching/labelled_pairs.csv (`query,supplier,label`, label `same` or `different`),
scores every pair with several rapidfuzz scorers and with ledgerlink's own (`bot.matching.score`),
and prints precision, recall and F1 per scorer and threshold. The plain rapidfuzz scorers see the
names as `rapidfuzz.utils.default_process` leaves them; "WRatio + rules" runs WRatio on the
normalised cores with ledgerlink's legal-form and number rules, to show what normalisation alone
brings. The chosen point (marked `*`) is ledgerlink's scorer at the threshold with the best recall
among those with precision >= 0.95, the best precision among those, then the lowest threshold;
`bot.matching.THRESHOLD` must equal it (the script says so if it does not).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, utils

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


def _row(name: str, m: Metrics, mark: str = "") -> str:
    return (
        f"{mark:1} {name:32} {m.threshold:5.1f} {m.precision:9.3f} {m.recall:6.3f} {m.f1:6.3f}"
        f" {m.true_positives:4} {m.false_positives:4} {m.false_negatives:4}"
    )


def main() -> int:
    pairs = load_pairs()
    same = sum(pair.same for pair in pairs)
    print(f"{len(pairs)} labelled pairs: {same} same, {len(pairs) - same} different")
    print(f"  {'scorer':32} {'thr':>5} {'precision':>9} {'recall':>6} {'F1':>6}   TP   FP   FN")
    scored_by = {name: scores(scorer, pairs) for name, scorer in SCORERS.items()}
    chosen = choose(scored_by["ledgerlink"])
    for name, scored in scored_by.items():
        for threshold in TABLE_THRESHOLDS:
            print(_row(name, metrics(scored, threshold)))
        best = choose(scored)
        mark = "*" if name == "ledgerlink" else ""
        print(_row(f"{name} best recall @ P>=0.95", best, mark))
        best_f1 = max((metrics(scored, float(t)) for t in range(50, 101)), key=lambda m: m.f1)
        print(_row(f"{name} best F1", best_f1))
    print(
        f"\nchosen: ledgerlink scorer, threshold {chosen.threshold:g}: precision"
        f" {chosen.precision:.3f}, recall {chosen.recall:.3f}, F1 {chosen.f1:.3f}"
    )
    print(f"\nmisclassified at {chosen.threshold:g}:")
    for pair, (value, _) in zip(pairs, scored_by["ledgerlink"], strict=True):
        if (value >= chosen.threshold) != pair.same:
            kind = "missed" if pair.same else "wrongly matched"
            print(f"  {kind:15} {value:5.1f}  {pair.query!r} / {pair.supplier!r}")
    if chosen.threshold != matching.THRESHOLD:
        print(f"\nbot.matching.THRESHOLD is {matching.THRESHOLD:g}: set it to {chosen.threshold:g}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
