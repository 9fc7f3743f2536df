"""The matching benchmark's plain-scorer baselines are what `process.extract` would return."""

from __future__ import annotations

import pytest
from rapidfuzz import process, utils

from bench import eval_names
from bench.matcher_calibration import BASELINES, baseline_top3


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
