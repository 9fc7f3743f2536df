"""Scoring: word similarity, the legal-form and number rules, initials, names cut short."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.matching import (
    LEGAL_FORM_CONFLICT,
    LEGAL_FORM_ON_ONE_SIDE,
    LEGAL_FORM_ONLY_IN_QUERY,
    LEGAL_FORM_TYPO_CONFLICT,
    PLURAL_SIMILARITY,
    THRESHOLD,
    normalize,
    score,
    word_similarity,
)


def pair_score(a: str, b: str) -> float:
    return score(normalize(a), normalize(b))


@pytest.mark.parametrize(
    ("query", "supplier"),
    [
        ("Fine Food Ltd", "Fine Foods Limited"),
        ("Harris Plumbng Ltd", "Harris Plumbing Ltd"),
        ("Office Supplies Bristol", "Bristol Office Supplies"),
        ("Harris Plumbing", "Harris Plumbing & Heating Ltd"),
        ("Green Leaf Landscaping", "Greenleaf Landscaping"),
        ("Sunrise Bakery Pty Ltd", "Sunrise Bakery Ltd"),
        ("Twins 5", "Twins 5 Ltd"),
    ],
)
def test_close_names_reach_the_threshold(query, supplier):
    """Plurals, typos, swapped, dropped and joined words and compatible legal forms stay close."""
    assert pair_score(query, supplier) >= THRESHOLD


@pytest.mark.parametrize(
    ("query", "supplier"),
    [
        ("Bartell PLC", "Bartell GmbH"),
        ("Acme Widgets Inc", "Acme Widgets Corp"),
        ("Twins 5", "Twins 6"),
        ("Studio 54 Events", "Studio 45 Events"),
        ("Acme Foods", "Acme Tools"),
        ("Harris Plumbing", "Harris Electrical"),
    ],
)
def test_different_companies_stay_below_the_threshold(query, supplier):
    """Conflicting legal forms or numbers, and a different distinctive word, are not a match."""
    assert pair_score(query, supplier) < THRESHOLD


def test_equal_names_score_100_and_legal_conflicts_scale_down():
    """The same core scores 100; a legal form on one side scales it down a little, more when
    only the query has it, more for a legal form one typo from the other, and a conflicting
    legal form below THRESHOLD."""
    assert pair_score("Bartell PLC", "BARTELL P.L.C.") == 100.0
    assert pair_score("Bartell", "Bartell PLC") == pytest.approx(100.0 * LEGAL_FORM_ON_ONE_SIDE)
    assert pair_score("Bartell PLC", "Bartell") == pytest.approx(100.0 * LEGAL_FORM_ONLY_IN_QUERY)
    assert pair_score("Bartell PLC", "Bartell LLC") == pytest.approx(
        100.0 * LEGAL_FORM_TYPO_CONFLICT
    )
    assert pair_score("Andersson AS", "Andersson SA") == pytest.approx(
        100.0 * LEGAL_FORM_TYPO_CONFLICT
    )
    assert pair_score("Bartell PLC", "Bartell GmbH") == pytest.approx(100.0 * LEGAL_FORM_CONFLICT)
    assert LEGAL_FORM_CONFLICT < LEGAL_FORM_TYPO_CONFLICT < LEGAL_FORM_ONLY_IN_QUERY


def test_a_number_on_one_side_only_costs_less_than_a_different_number():
    """A number missing on one side costs less than a different number."""
    assert pair_score("Twins 6", "Twins 5") < pair_score("Twins", "Twins 5") < 100


def test_a_typo_beats_a_missing_word():
    """A name with a typo ranks above a shorter name that leaves a query word unexplained."""
    query = "Black Spoke Weldnig"
    assert pair_score(query, "Black Spoke Welding") > pair_score(query, "Black Spoke")


def test_a_typo_in_the_first_letter_still_matches():
    """A typo anywhere counts, the first letter included: "Xorkery" is "Corkery" misspelt."""
    assert word_similarity("xorkery", "corkery") >= 80.0
    assert word_similarity("plumbng", "plumbing") >= 80.0
    assert word_similarity("torphy", "schumm") == 0.0
    query = "Torphy-Xorkery"
    assert pair_score(query, "Torphy-Corkery") > pair_score(query, "Torphy PLC")


def test_one_shared_word_does_not_outrank_a_one_letter_difference():
    """ "Kshlerin-Schumn" is "Kshlerin-Schumm", not "Schumm LLC", which only shares a word."""
    query = "Kshlerin-Schumn"
    assert pair_score(query, "Kshlerin-Schumm") > pair_score(query, "Schumm LLC")


@pytest.mark.parametrize(
    ("query", "supplier"),
    [
        ("IBM", "International Business Machines"),
        ("P&G", "Procter & Gamble"),
        ("I.B.M.", "International Business Machines Corp"),
    ],
)
def test_initials_match_the_name_they_abbreviate(query, supplier):
    """An acronym made of the name's initials ("and", "of" skipped) is a close match."""
    assert pair_score(query, supplier) >= THRESHOLD
    assert pair_score(query, "Ibis Media Ltd") < pair_score(query, supplier)


def test_a_name_cut_short_matches_its_beginning():
    """A statement truncates names: "WILSONHODGE" is close to "Wilson-Hodges Inc"."""
    assert pair_score("WILSONHODGE", "Wilson-Hodges Inc") >= THRESHOLD
    assert pair_score("WILSONHODGE", "Wilson-Hodges Inc") > pair_score("WILSONHODGE", "Wilson")


def test_a_legal_form_run_into_the_name_still_counts():
    """ "DillPLC" (a lost space) ranks "Dill PLC" above "Dill LLC"."""
    assert pair_score("DillPLC", "Dill PLC") > pair_score("DillPLC", "Dill LLC")


def test_plurals_are_the_same_word():
    """A plural and its singular are the same word, just below the word itself."""
    assert word_similarity("supply", "supplies") == PLURAL_SIMILARITY
    assert word_similarity("foods", "food") == PLURAL_SIMILARITY
    assert word_similarity("food", "food") == 100.0 > PLURAL_SIMILARITY
    assert word_similarity("foods", "tools") < PLURAL_SIMILARITY


def test_empty_names_score_zero():
    """A name with nothing to compare never matches, not even another empty one."""
    assert pair_score("", "Acme") == 0.0
    assert pair_score("😀", "😀") == 0.0


@given(st.text(max_size=60), st.text(max_size=60))
def test_score_is_bounded(a, b):
    """Any two texts score between 0 and 100 (the query may be cut short, so not symmetric)."""
    assert 0.0 <= pair_score(a, b) <= 100.0
    assert 0.0 <= pair_score(b, a) <= 100.0
