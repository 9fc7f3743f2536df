"""Readings found on the larger dev set (`python -m bench.matcher_calibration --dev-large`):
noise inside a word, a name of no close supplier, a mixed-case name with a number or a
country code, and the evaluation data's own rules."""

from __future__ import annotations

import random

from bench import eval_names
from bot.matching import SupplierIndex, match_key, query_forms, squeezed


def _first(suppliers: list[str], query: str) -> str | None:
    index = SupplierIndex.build([(f"s{i}", name) for i, name in enumerate(suppliers)])
    found = index.candidates(query)
    return found[0].name if found else None


def test_squeezed_drops_control_characters_and_punctuation_inside_words_only():
    """Noise between two letters goes; hyphens, "&", spaces and clean names stay as they are."""
    assert squeezed("Whit^akerLLC") == "WhitakerLLC"
    assert squeezed("We\x07berInc") == "WeberInc"
    assert squeezed("Fa\u200buer") == "Fauer"
    assert squeezed("CharpentierS.A.S.") == "CharpentierSAS."
    assert squeezed("Smith-Jones & Co") is None
    assert squeezed("Acme Ltd.") is None


def test_a_word_broken_by_punctuation_and_a_glued_legal_form_finds_the_supplier():
    """ "Whit^akerLLC" is Whitaker LLC, not White LLC: the name is also read whole."""
    names = ["White LLC", "Whitaker LLC", "Whitaker Inc", "Baker LLC", "Whitmore LLC"]
    assert _first(names, "Whit^akerLLC") == "Whitaker LLC"
    assert _first(names, "Whit\x07akerLLC") == "Whitaker LLC"


def test_the_reading_never_makes_an_exact_match_and_keys_are_unchanged():
    """Only a lookup reads the name squeezed: match keys (and so learnt rules) and the
    auto-publish rule keep punctuation as a word break."""
    index = SupplierIndex.build([("s1", "Smithjones Ltd")])
    assert index.exact("Smith,jones Ltd") is None
    assert match_key("Smith,jones Ltd") != match_key("Smithjones Ltd")
    assert index.candidates("Smith,jones Ltd")[0].name == "Smithjones Ltd"


def test_a_name_of_no_close_supplier_still_offers_the_closest():
    """ "IFM" scores no supplier OFFER_FLOOR through its words: the closest in letters come."""
    names = ["IFF", "Interflora Group", "Mercer PLC", "Dawson Ltd", "Quigley Inc"]
    assert _first(names, "IFM") == "IFF"


def test_a_name_no_reading_shortlists_still_offers_the_closest_three():
    """ "Ot3x Trading" scores no supplier OFFER_FLOOR (Otto is 37.5 by plain ratio): the
    prompt still offers the three closest, Otto first."""
    names = ["Otto", "Interflora Group", "Mercer PLC", "Dawson Ltd", "Quigley Inc", "Hale LLC"]
    index = SupplierIndex.build([(f"s{i}", name) for i, name in enumerate(names)])
    offered = index.candidates("Ot3x Trading")
    assert [candidate.name for candidate in offered][:1] == ["Otto"]
    assert len(offered) == 3
    assert index.exact("Ot3x Trading") is None


def test_a_mixed_case_name_with_a_number_is_read_once():
    """Store numbers come off statement lines (capitals, a "*", a domain), not off names."""
    assert len(query_forms("Unit 645 Tree Surgery Ltd")) == 1
    merchants = [form.normalized.core for form in query_forms("TESCO STORES 3217 LONDON")]
    assert "tesco stores london" in merchants


def test_a_trailing_country_code_is_read_off_but_not_the_word_before_it():
    """ "Cherry-Rsuh UK" is Cherry-Rush with "UK" added, not Cherry Inc less "Rsuh"."""
    names = ["Cherry Inc", "Cherry LLC", "Cherry-Rush", "Rush PLC", "Cherry-Rossi"]
    assert _first(names, "Cherry-Rsuh UK") == "Cherry-Rush"
    cores = [form.normalized.core for form in query_forms("Hofmann UK")]
    assert cores == ["hofmann uk", "hofmann"]


def test_a_dropped_word_leaves_two_words_besides_and():
    """The noise model never turns "Merritt and Sons" into "and Sons" (any "... and Sons")."""
    rng = random.Random(5)
    seen = {eval_names._word(rng, "Merritt and Sons") for _ in range(400)}
    assert "and Sons" not in seen and "Merritt and" not in seen
    assert "Merritt Sons" in seen  # "and" itself may go


def test_dev_large_splits_are_dev_locales_with_other_names():
    """The larger dev set keeps DEV's locales and draws other suppliers than DEV does."""
    splits = eval_names.dev_large(2)
    assert [split.locales for split in splits] == [eval_names.DEV.locales] * 2
    names = [{name for _, name in eval_names.suppliers(split, 50)} for split in splits]
    dev = {name for _, name in eval_names.suppliers(eval_names.DEV, 50)}
    assert len(names[0] & dev) < 10 and len(names[0] & names[1]) < 10
