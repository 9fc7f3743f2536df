"""SupplierIndex: exact lookups, ranked candidates, type-ahead search, adding a supplier."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bench.supplier_names import derive_queries, suppliers
from bot import matching
from bot.matching import (
    CLOSEST_WHEN_NOTHING,
    OFFER_FLOOR,
    THRESHOLD,
    Candidate,
    SupplierIndex,
    normalize,
    score,
    typo_ratio,
    with_plain,
)

SUPPLIERS = [
    ("s1", "Fine Foods Ltd"),
    ("s2", "Harris Plumbing & Heating Ltd"),
    ("s3", "Bartell LLC"),
    ("s4", "Twins 5"),
    ("s5", "Acme Tools"),
    ("s6", "Greenleaf Landscaping"),
    ("s7", "Harris Electrical"),
    ("s8", "Café Müller GmbH"),
    ("s9", "The Copper Kettle"),
    ("s10", "Harrison Plumbing"),
]


@pytest.fixture
def index() -> SupplierIndex:
    return SupplierIndex.build(SUPPLIERS)


@cache
def generated() -> tuple[list[tuple[str, str]], SupplierIndex]:
    names = suppliers(1000, seed=3)
    return names, SupplierIndex.build(names)


def ids(candidates: list[Candidate]) -> list[str]:
    return [candidate.supplier_id for candidate in candidates]


def test_build_counts_suppliers_and_keeps_the_last_name_of_a_repeated_id():
    """Each supplier id is indexed once, with the last name given for it."""
    index = SupplierIndex.build([("a", "Old Name Ltd"), ("b", "Other"), ("a", "New Name Ltd")])
    assert len(index) == 2
    assert index.exact("New Name Ltd") == Candidate("a", "New Name Ltd", 100.0)
    assert index.exact("Old Name Ltd") is None


def test_exact_matches_spelling_variants_and_returns_the_providers_name(index):
    """Case, punctuation, accents, "The" and legal-form spellings still match exactly."""
    assert index.exact("FINE FOODS LIMITED") == Candidate("s1", "Fine Foods Ltd", 100.0)
    assert index.exact("cafe muller gmbh").supplier_id == "s8"
    assert index.exact("Copper Kettle Ltd").supplier_id == "s9"
    assert index.exact("Harris Plumbing and Heating").supplier_id == "s2"


def test_exact_needs_a_compatible_legal_form(index):
    """A conflicting legal form is a different company; a missing one is compatible."""
    assert index.exact("Bartell PLC") is None
    assert index.exact("Bartell").supplier_id == "s3"
    assert index.exact("Fine Foods Inc") is None


def test_exact_is_none_for_a_near_miss_or_an_empty_name(index):
    """Only equal normalised names match exactly."""
    assert index.exact("Fine Food Ltd") is None
    assert index.exact("   ") is None
    assert index.exact("") is None


def test_exact_is_none_when_several_legal_forms_fit():
    """A bare "Acme" with "Acme Ltd" and "Acme Inc" listed is ambiguous: no exact match."""
    index = SupplierIndex.build([("1", "Acme Ltd"), ("2", "Acme Inc")])
    assert index.exact("Acme") is None
    assert index.exact("Acme Limited").supplier_id == "1"
    assert set(ids(index.candidates("Acme"))) == {"1", "2"}


def test_exact_prefers_the_same_legal_form_then_the_same_family():
    """The same legal form beats a missing one, and the same family beats a missing one."""
    index = SupplierIndex.build([("1", "Acme"), ("2", "Acme Limited"), ("3", "Zeta Pty Ltd")])
    assert index.exact("Acme Ltd").supplier_id == "2"
    assert index.exact("Acme").supplier_id == "1"
    assert index.exact("Zeta Ltd").supplier_id == "3"


def test_exact_takes_the_first_by_name_among_duplicates():
    """Duplicates with one legal form are the same company: the first by name is returned."""
    index = SupplierIndex.build([("2", "ACME LTD"), ("1", "Acme Limited")])
    assert index.exact("acme ltd") == Candidate("1", "Acme Limited", 100.0)


def test_candidates_are_the_closest_best_first(index):
    """The right supplier comes first, then the closest others, best first, none below the floor."""
    found = index.candidates("Harris Plumbng & Heating")
    assert ids(found)[0] == "s2"
    assert all(candidate.score >= OFFER_FLOOR for candidate in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_candidates_are_offered_even_when_none_is_sure(index):
    """A badly garbled name still gets the closest suppliers, below the close-match line."""
    found = index.candidates("Hrs Plmb Heatng")
    assert ids(found)[0] == "s2"
    assert found[0].score < THRESHOLD


def test_candidates_break_ties_by_name():
    """Candidates with the same score are ordered by name, whatever the input order."""
    names = [
        ("3", "Oak Tree Nurseries B"),
        ("1", "oak tree nurseries a"),
        ("2", "Oak Tree Nurseries C"),
    ]
    index = SupplierIndex.build(names)
    found = index.candidates("Oak Tree Nurseries")
    assert [c.name for c in found] == [
        "oak tree nurseries a",
        "Oak Tree Nurseries B",
        "Oak Tree Nurseries C",
    ]
    assert len({c.score for c in found}) == 1


def test_candidates_include_an_exact_match_once_at_the_top(index):
    """The exact match is offered once, first, with score 100."""
    found = index.candidates("Fine Foods Limited")
    assert ids(found).count("s1") == 1
    assert found[0] == Candidate("s1", "Fine Foods Ltd", 100.0)


def test_conflicting_legal_forms_and_numbers_rank_below_compatible_ones():
    """ "Bartell PLC" is offered "Bartell" first, then "Bartell LLC" (a legal form one typo
    away), then "Bartell GmbH" (another legal form, no close match); "Twins 5" is "Twins 5
    Ltd" before "Twins 6"."""
    index = SupplierIndex.build(
        [
            ("1", "Bartell LLC"),
            ("2", "Bartell"),
            ("3", "Twins 6"),
            ("4", "Twins 5 Ltd"),
            ("5", "Bartell GmbH"),
        ]
    )
    found = index.candidates("Bartell PLC")
    assert ids(found)[:3] == ["2", "1", "5"]
    assert found[2].score < THRESHOLD
    assert ids(index.candidates("Twins 5"))[0] == "4"
    assert index.exact("Bartell PLC").supplier_id == "2"


def test_candidates_respect_the_limit():
    """No more than `limit` candidates come back."""
    names = [(str(i), f"Harbour Freight {chr(65 + i)}{chr(65 + i)}x") for i in range(20)]
    index = SupplierIndex.build(names)
    assert len(index.candidates("Harbour Freight")) == 13
    assert len(index.candidates("Harbour Freight", limit=3)) == 3
    assert index.candidates("Harbour Freight", limit=0) == []


def test_candidates_find_joined_words(index):
    """A name equal but for spaces is a candidate with score 100."""
    assert index.candidates("Green Leaf Landscaping")[0] == Candidate(
        "s6", "Greenleaf Landscaping", 100.0
    )


def test_the_shortlist_finds_the_best_scoring_supplier():
    """Candidates come from a shortlist, yet a close match is the one `score` puts first."""
    names, index = generated()
    normalized = [(name, normalize(name)) for _, name in names]
    for query in derive_queries(names, 40, seed=4):
        wanted = normalize(query.text)
        best = max(with_plain(score(wanted, n), query.text, name) for name, n in normalized)
        found = index.candidates(query.text)
        if best >= THRESHOLD:
            assert found and found[0].score == pytest.approx(best), query


def test_a_typo_in_the_first_letter_is_found():
    """ "Xorkery" for "Corkery" and "Woffmann" for "Hoffmann": the first letter is no anchor."""
    index = SupplierIndex.build(
        [("1", "Torphy-Corkery"), ("2", "Torphy PLC"), ("3", "Hoffmann"), ("4", "Hoffmann-Roth")]
    )
    assert ids(index.candidates("Torphy-Xorkery"))[0] == "1"
    assert ids(index.candidates("Woffmann"))[0] == "3"


def test_a_word_in_capitals_with_an_accent_and_a_typo_is_no_reference():
    """A line in capitals drops long words of no supplier as statement references, but
    "HÅKAASSON" is "Håkansson" mistyped once its accent is folded as the suppliers' are."""
    index = SupplierIndex.build([("1", "Jansson Håkansson HB"), ("2", "Jansson HB")])
    assert ids(index.candidates("JANSSON HÅKAASSON HB"))[0] == "1"


def test_two_letters_swapped_are_one_typo():
    """ "Meyrs" is "Myers" with two letters swapped, and "Meyer" with one dropped and one
    added: a swap is one slip of the fingers, so Myers comes first (plain `fuzz.ratio` ties
    them, and the tie would go to Meyer by name)."""
    index = SupplierIndex.build(
        [("1", "Meyer LLC"), ("2", "Myers LLC"), ("3", "Mallet"), ("4", "Vallet")]
    )
    assert ids(index.candidates("Meyrs LLC"))[0] == "2"
    assert ids(index.candidates("aVllet"))[0] == "4"


def test_two_letters_swapped_are_one_typo_in_the_whole_name_too():
    """Comparing whole names, a swap counts as one edit too: "oBwen Ltd" is Bowen Ltd with
    two letters swapped, before Owen Ltd with a letter added (plain `fuzz.ratio` of the whole
    names puts Owen first); "Vaughna Ltd" is Vaughan Ltd before Vaughn Ltd."""
    index = SupplierIndex.build(
        [("1", "Owen Ltd"), ("2", "Bowen Ltd"), ("3", "Vaughn Ltd"), ("4", "Vaughan Ltd")]
    )
    assert ids(index.candidates("oBwen Ltd"))[:2] == ["2", "1"]
    assert ids(index.candidates("Vaughna Ltd"))[:2] == ["4", "3"]


def test_a_digit_in_place_of_a_letter_is_one_typo():
    """A digit where a name has a letter is that letter misread or mistyped, one edit, as a
    letter dropped is: "Ste5in" is Stedin before Stein, "1edlund AB" Hedlund AB before
    Edlund AB. A digit in place of another digit is no typo but another number."""
    index = SupplierIndex.build(
        [("1", "Stein"), ("2", "Stedin"), ("3", "Edlund AB"), ("4", "Hedlund AB")]
    )
    assert ids(index.candidates("Ste5in"))[:2] == ["2", "1"]
    assert ids(index.candidates("1edlund AB"))[:2] == ["4", "3"]
    assert typo_ratio("ste5in", "stedin") > typo_ratio("ste5in", "stein")
    assert typo_ratio("twins 5", "twins 6") == fuzz.ratio("twins 5", "twins 6")


def test_a_letter_replaced_is_one_typo_before_two_but_after_a_letter_added():
    """ "Rode Group" is Rose Group with one letter replaced, and Rhodes Group with two letters
    dropped: one typo comes first (plain `fuzz.ratio` counts a letter replaced as two edits
    and puts Rhodes first). Among single typos the order stays: "Gvillet" is Gillet with a
    letter added before Guillet with one replaced."""
    index = SupplierIndex.build(
        [("1", "Rhodes Group"), ("2", "Rose Group"), ("3", "Guillet"), ("4", "Gillet")]
    )
    assert ids(index.candidates("Rode Group"))[:2] == ["2", "1"]
    assert ids(index.candidates("Gvillet"))[:2] == ["4", "3"]
    assert fuzz.ratio("rode", "rose") < fuzz.ratio("rode", "rhodes")
    assert typo_ratio("rode", "rhodes") < typo_ratio("rode", "rose") < typo_ratio("rode", "rod")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab12 ", max_size=6), st.text(alphabet="ab12 ", max_size=6))
def test_typo_ratio_credits_no_edit_twice(a: str, b: str):
    """A swap and a digit in place of a letter can be the same edit ("a1" / "1b"): however
    the credits add up, two different names stay below 100, and never closer than with
    every edit costing one (OSA)."""
    value = typo_ratio(a, b)
    assert value >= fuzz.ratio(a, b)
    if a != b:
        assert value < 100
        if a and b:
            assert value <= 100 * (1 - OSA.distance(a, b) / (len(a) + len(b))) + 1e-9


def test_suppliers_scoring_exactly_alike_go_by_the_letter_pairs_they_share():
    """One typo can leave two names exactly as close in every measure; the one keeping more
    of the query's neighbouring letter pairs comes first, not the first by name: a doubled
    letter dropped ("Tan AB" is Tann AB, with "an" and "n ", before Tain AB) or letters
    dropped beside each other ("Grupo Madr" keeps "ma", "ad", "dr" of Madrid, two of
    Amador's)."""
    index = SupplierIndex.build(
        [
            ("1", "Tain AB"),
            ("2", "Tann AB"),
            ("3", "Grupo Amador S.L."),
            ("4", "Grupo Madrid S.L."),
        ]
    )
    for query, right, other in (("Tan AB", "2", "1"), ("Grupo Madr S.L.", "4", "3")):
        found = index.candidates(query)
        assert ids(found)[:2] == [right, other]
        assert found[0].score == found[1].score


def test_misspelt_words_in_order_beat_the_same_words_reordered():
    """ "Jones-Cilon": one misspelt word in order (Jones-Wilson) beats a misspelt word and the
    words reordered (Colon-Jones), two changes."""
    index = SupplierIndex.build([("1", "Colon-Jones"), ("2", "Jones-Wilson")])
    assert ids(index.candidates("Jones-Cilon"))[0] == "2"


def test_two_typos_in_one_word_are_found_through_shared_letters():
    """ "Molanov" is two letters short of "Molchanov": no one-letter deletion of either meets
    the other, and "Milanov Ltd" is close enough that nothing else is searched; the names
    sharing most trigrams with the query are scored too."""
    index = SupplierIndex.build([("m", "Molchanov"), ("i", "Milanov Ltd")])
    assert ids(index.candidates("Molanov"))[:2] == ["m", "i"]


def test_two_typos_beside_a_common_word_are_found_among_that_words_suppliers(monkeypatch):
    """ "Balec Group" is Bailey Group with a letter added and one changed: "balec" is close to
    no indexed word but "ale" (Ale Group, gathered first), and "group" has more suppliers than
    the budget gathers (at 100,000 suppliers, thousands; here the budget is made small), so
    the closest in characters of "group"'s suppliers are scored too."""
    monkeypatch.setattr(matching, "POSTINGS_BUDGET", 5)
    others = ["Abbott", "Curtis", "Dunn", "Fisher", "Graham", "Hughes", "Jensen", "Knight"]
    index = SupplierIndex.build(
        [("bailey", "Bailey Group"), ("ale", "Ale Group")]
        + [(name.lower(), f"{name} Group") for name in others]
    )
    assert "bailey" in ids(index.candidates("Balec Group"))[:3]


def test_split_joined_and_run_together_names_are_found():
    """Noise that moves spaces: "Co mier-St^nton", "ScottLLC", "ClarkWilmiams"."""
    index = SupplierIndex.build(
        [
            ("1", "Cormier-Stanton"),
            ("2", "Scott LLC"),
            ("3", "Scott Inc"),
            ("4", "Clark-Williams"),
            ("5", "Clark Group"),
        ]
    )
    assert ids(index.candidates("Co mier-St^nton"))[0] == "1"
    assert ids(index.candidates("ScottLLC"))[0] == "2"
    assert ids(index.candidates("ClarkWilmiams"))[0] == "4"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SQ *BLUE BOTTLE COFFEE", "1"),
        ("SUMUP *BLUE BOTTLE", "1"),
        ("PAYPAL *BLUEBOTTLECOF", "1"),
        ("AMZN Mktp UK*2K4RT0XY5", "2"),
        ("UBER *TRIP HELP.UBER.COM", "3"),
        ("TESCO STORES 3217 LONDON GB", "4"),
        ("ADOBE *CREATIVE CLOUD", "5"),
    ],
)
def test_card_statement_lines_find_the_merchant(line, expected):
    """Processor prefixes, references, store numbers, domains and cut names are seen through."""
    index = SupplierIndex.build(
        [
            ("1", "Blue Bottle Coffee Ltd"),
            ("2", "Amazon EU S.a.r.l."),
            ("3", "Uber BV"),
            ("4", "Tesco Stores Ltd"),
            ("5", "Adobe Systems Software Ireland Ltd"),
            ("6", "Bottle Shop Ltd"),
            ("7", "Trip Advisor Ltd"),
            ("8", "London Stores"),
        ]
    )
    assert ids(index.candidates(line))[0] == expected
    assert index.exact(line) is None


def test_acronyms_find_the_name_they_abbreviate():
    """ "IBM" and "P&G" are offered the companies whose initials they are."""
    index = SupplierIndex.build(
        [
            ("1", "International Business Machines Corporation"),
            ("2", "The Procter & Gamble Company"),
            ("3", "IBIS Media Ltd"),
        ]
    )
    assert ids(index.candidates("IBM"))[0] == "1"
    assert ids(index.candidates("P&G"))[0] == "2"


def test_two_letters_as_one_word_are_weak_initials():
    """ "^HL" is DHL with a letter lost, not one of the many names whose initials are HL;
    "P&G", two letters written apart, is still Procter & Gamble's initials."""
    index = SupplierIndex.build(
        [("1", "Hill-Lutz"), ("2", "Haley-Lang"), ("3", "DHL"), ("4", "Procter & Gamble")]
    )
    assert ids(index.candidates("^HL"))[0] == "3"
    assert ids(index.candidates("P&G"))[0] == "4"
    assert index.candidates("P&G")[0].score >= THRESHOLD


def test_search_ranks_whole_name_then_prefix_then_word_then_substring(index):
    """Whole name, then name prefix, then word prefix, then inside a word, then fuzzy."""
    index = SupplierIndex.build(
        [("w", "Acme Harris"), ("p", "Harris Plumbing"), ("e", "Harris"), ("s", "Pharrisee Co")]
    )
    found = index.search("harris")
    assert [(c.supplier_id, c.score) for c in found] == [
        ("e", 100.0),
        ("p", 90.0),
        ("w", 80.0),
        ("s", 70.0),
    ]


def test_search_falls_back_to_fuzzy_matches(index):
    """A typo in what was typed still finds the supplier, below every text match."""
    found = index.search("Harris Plumbng & Heating")
    assert ids(found)[0] == "s2"
    assert 0 < found[0].score < 70


def test_search_normalises_what_was_typed(index):
    """Typed text is normalised like names: case, accents, punctuation, "&"."""
    assert ids(index.search("CAFÉ MÜL")) == ["s8"]
    assert ids(index.search("plumbing & heat")) == ["s2"]


def test_search_with_no_text_lists_suppliers_alphabetically(index):
    """Empty text lists the first suppliers by name."""
    found = index.search("", limit=3)
    assert [c.name for c in found] == ["Acme Tools", "Bartell LLC", "Café Müller GmbH"]


def test_search_respects_the_limit():
    """Search returns at most `limit` results, the first alphabetically when many tie."""
    _, index = generated()
    found = index.search("s", limit=25)
    assert len(found) == 25
    assert index.search("s", limit=0) == []


def test_with_supplier_adds_one_and_leaves_the_original_unchanged(index):
    """The new index knows the new supplier; the one it came from does not."""
    added = index.with_supplier("s11", "Green Leaf Landscaping Ltd")
    assert len(added) == len(index) + 1
    assert added.exact("green leaf landscaping").supplier_id == "s11"
    assert "s11" in ids(added.candidates("Greenleaf Landscaping"))
    assert "s11" in ids(added.search("green leaf"))
    assert len(index) == len(SUPPLIERS)
    assert index.exact("green leaf landscaping") is None
    assert ids(index.candidates("Greenleaf Landscaping")) == ["s6"]
    assert "s11" not in ids(index.search("green leaf"))


def test_with_supplier_matches_a_full_rebuild():
    """Adding a supplier gives the same answers as building the index with it."""
    names, index = generated()
    extra = ("new", "Harbour Lights Fine Foods Ltd")
    added, rebuilt = index.with_supplier(*extra), SupplierIndex.build([*names, extra])
    for text in ("Harbour Lights Fine Food", "harbour", "Fine Foods", extra[1]):
        assert added.candidates(text) == rebuilt.candidates(text)
        assert added.search(text) == rebuilt.search(text)
        assert added.exact(text) == rebuilt.exact(text)


def test_with_supplier_renames_an_existing_id(index):
    """Adding an id that is already indexed replaces its name."""
    renamed = index.with_supplier("s1", "Finest Foods Ltd")
    assert len(renamed) == len(index)
    assert renamed.exact("Finest Foods Ltd").supplier_id == "s1"
    assert renamed.exact("Fine Foods Ltd") is None


def test_building_pauses_the_cycle_collector_and_restores_it(monkeypatch):
    """The collector is off while an index is built (no cycles are made; collections would walk
    the whole heap) and as it was afterwards, even when a build fails."""
    seen = []

    def spy(name: str):
        seen.append(gc.isenabled())
        if name == "Broken":
            raise RuntimeError("a name the normaliser chokes on")
        return normalize(name)

    monkeypatch.setattr(matching, "normalize", spy)
    assert gc.isenabled()
    SupplierIndex.build([("1", "Acme Ltd")])
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError):
        SupplierIndex.build([("1", "Acme"), ("2", "Broken")])
    assert gc.isenabled()
    gc.disable()
    try:
        SupplierIndex.build(SUPPLIERS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_empty_index_answers_nothing():
    """Every lookup on an index with no suppliers is empty."""
    index = SupplierIndex.build([])
    assert len(index) == 0
    assert index.exact("Acme") is None
    assert index.candidates("Acme") == []
    assert index.search("Acme") == []
    assert index.search("") == []


def test_odd_supplier_names_are_indexed_without_harm():
    """Empty, legal-form-only, emoji and huge names are indexed and only match themselves."""
    odd = [("e", ""), ("l", "Ltd"), ("j", "😀😀"), ("h", "Huge " * 500), ("c", "A\x00B\x1fC")]
    index = SupplierIndex.build([*odd, ("n", "Normal Supplies")])
    assert index.exact("Ltd").supplier_id == "l"
    assert index.exact("Huge " * 300).supplier_id == "h"
    assert index.exact("abc").supplier_id == "c"
    assert index.exact("😀😀") is None
    assert ids(index.candidates("Normal Supplies")) == ["n"]


# Every code point, lone surrogates included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=300)


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT)
def test_lookups_never_crash_on_arbitrary_text(text):
    """Any text, with control characters, emoji or stray surrogates, gets an answer: the
    suppliers scoring OFFER_FLOOR or more, or else at most the CLOSEST_WHEN_NOTHING closest,
    best first."""
    _, index = generated()
    index.exact(text)
    offered = index.candidates(text)
    scores = [candidate.score for candidate in offered]
    assert scores == sorted(scores, reverse=True)
    if offered and scores[0] < OFFER_FLOOR:
        assert len(offered) <= CLOSEST_WHEN_NOTHING
        assert all(0 <= score < OFFER_FLOOR for score in scores)
    else:
        assert all(OFFER_FLOOR <= score <= 100 for score in scores)
    assert len(index.search(text, limit=10)) <= 10


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=8), ANY_TEXT), max_size=15), ANY_TEXT)
def test_building_never_crashes_on_arbitrary_suppliers(suppliers_, text):
    """Any supplier names build an index that answers lookups."""
    index = SupplierIndex.build(suppliers_)
    index.exact(text)
    index.candidates(text)
    index.search(text)
    index.with_supplier("new", text).search(text)


def test_concurrent_readers_see_the_same_answers():
    """Many threads reading one index at once get what a single reader gets."""
    names, index = generated()
    texts = [query.text for query in derive_queries(names, 40, seed=5)]
    expected = [index.candidates(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(index.candidates, texts * 4))
    assert results == expected * 4
