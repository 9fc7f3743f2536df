"""Smoke: a 1,000-supplier index of generated names finds the supplier behind derived queries."""

from __future__ import annotations

from bench.supplier_names import derive_queries, supplier_names, suppliers
from bot.matching import SupplierIndex, normalize

# Measured on this seed: all 254 derived queries find their supplier first. Pinned a little lower:
# a dropped word can make another supplier just as close.
MIN_TOP_1 = 0.95
MIN_IN_CANDIDATES = 0.98


def test_generated_names_are_realistic_and_distinct():
    """The generator gives multi-word names, legal forms, initials and numbers, all distinct."""
    names = supplier_names(1000, seed=7)
    assert len({normalize(name).core for name in names}) == 1000
    assert names == supplier_names(1000, seed=7)
    assert sum(len(name.split()) >= 2 for name in names) > 900
    assert sum(normalize(name).legal_form is not None for name in names) > 400
    assert sum(bool(normalize(name).numbers) for name in names) > 40
    assert any(name.isupper() or "." in name for name in names)


def test_derived_queries_find_their_supplier():
    """Typos, swaps, dropped words and legal-form changes lead back to the supplier."""
    listed = suppliers(1000, seed=7)
    index = SupplierIndex.build(listed)
    queries = derive_queries(listed, 300, seed=107)
    matched = [query for query in queries if query.expected_id is not None]
    first = found = 0
    for query in matched:
        exact = index.exact(query.text)
        offered = [candidate.supplier_id for candidate in index.candidates(query.text)]
        if query.kind in ("variant", "legal_form"):
            assert exact is not None, query
        top = exact.supplier_id if exact else next(iter(offered), None)
        first += top == query.expected_id
        found += top == query.expected_id or query.expected_id in offered
    assert {query.kind for query in queries} >= {"typo", "swap", "drop", "legal_form", "no_match"}
    assert first / len(matched) >= MIN_TOP_1
    assert found / len(matched) >= MIN_IN_CANDIDATES


def test_no_match_queries_have_no_exact_match():
    """A name that is not listed never matches exactly."""
    listed = suppliers(1000, seed=7)
    index = SupplierIndex.build(listed)
    for query in derive_queries(listed, 300, seed=107):
        if query.expected_id is None:
            assert index.exact(query.text) is None, query
