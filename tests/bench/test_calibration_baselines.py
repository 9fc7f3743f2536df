"""The matching benchmark's plain-scorer baselines are what `process.extract` would return."""

from __future__ import annotations

import pytest
from rapidfuzz import process, utils

from bench import eval_names
from bench.matcher_calibration import BASELINES, baseline_top3, measure_set
from bot.matching import SupplierIndex


@pytest.mark.parametrize("kind", ["typos", "mixed"])
def test_cdist_baselines_equal_extract(kind):
    """Best 3 ids (ties by list order) and best score per scorer, computed in bulk with
    `process.cdist`, equal one `process.extract(..., limit=3)` per query."""
    listed = eval_names.descriptor_suppliers(eval_names.DEV, 400)
    texts = [q.text for q in eval_names.noisy_queries(eval_names.DEV, 400, kind, 40)]
    names = [utils.default_process(name) for _, name in listed]
    ids = [supplier_id for supplier_id, _ in listed]
    found = baseline_top3(listed, texts)
    for name, scorer in BASELINES.items():
        for text, (top3, best) in zip(texts, found[name], strict=True):
            expected = process.extract(
                utils.default_process(text), names, scorer=scorer, processor=None, limit=3
            )
            assert top3 == [ids[at] for _, _, at in expected], (name, text)
            assert best == pytest.approx(expected[0][1], abs=1e-3), (name, text)


def test_the_paired_comparison_counts_the_queries_only_one_side_has_right_first():
    """Beside each baseline, the queries ledgerlink has right first where the baseline does
    not, and the reverse: counted query by query, they are the difference in top-1."""
    listed = eval_names.descriptor_suppliers(eval_names.DEV, 400)
    queries = eval_names.noisy_queries(eval_names.DEV, 400, "mixed", 60)
    index = SupplierIndex.build(listed)
    result = measure_set("dev", 400, "mixed", queries, index, listed)
    ours = []
    for query in queries:
        exact = index.exact(query.text)
        first = exact.supplier_id if exact else index.candidates(query.text)[0].supplier_id
        ours.append(first == query.expected_id)
    found = baseline_top3(listed, [q.text for q in queries])
    # WRatio misses several of these first where ledgerlink does not (dev, 400, mixed).
    assert result.first_only["WRatio"][0] > 0
    for name, rows in found.items():
        theirs = [ids[0] == q.expected_id for (ids, _), q in zip(rows, queries, strict=True)]
        only_ours = sum(a and not b for a, b in zip(ours, theirs, strict=True))
        only_theirs = sum(b and not a for a, b in zip(ours, theirs, strict=True))
        assert result.first_only[name] == (only_ours, only_theirs), name
        difference = 100 * (only_ours - only_theirs) / len(queries)
        assert result.top1 - result.baselines[name][0] == pytest.approx(difference)
