"""Normalisation: the rules that turn a supplier name into core, legal form and numbers."""

from __future__ import annotations

import pytest

from bot.matching import (
    MAX_NAME_CHARS,
    NormalizedName,
    legal_forms_compatible,
    match_key,
    normalize,
)


def test_case_and_whitespace_are_ignored():
    """Case and runs of whitespace do not change a name."""
    assert normalize("  FINE\t Foods \n").core == "fine foods"


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("Café Müller", "cafe muller"),
        ("Ørsted Wind Power", "orsted wind power"),
        ("Nordisk Trælast", "nordisk traelast"),
        ("Bäckerei Straße", "backerei strasse"),
        ("Łódź Œuvre", "lodz oeuvre"),
    ],
)
def test_accents_and_special_letters_are_folded(name, core):
    """Accents are removed and letters like ø, æ, ß, ł, œ are spelled in ASCII."""
    assert normalize(name).core == core


def test_punctuation_separates_words_and_apostrophes_vanish():
    """Punctuation is a word break, while an apostrophe joins the word it sits in."""
    assert normalize("Smith-Jones (UK), Builders!").core == "smith jones uk builders"
    assert normalize("McDonald\u2019s Restaurants").core == "mcdonalds restaurants"


def test_ampersand_and_plus_read_as_and():
    """`&`, `+` and "and" are the same word."""
    assert normalize("Smith & Jones") == normalize("Smith and Jones") == normalize("Smith+Jones")


def test_leading_the_is_dropped():
    """A leading "The" is dropped, but not one inside a name nor a name that is only "The"."""
    assert normalize("The Copper Kettle").core == "copper kettle"
    assert normalize("the the Copper Kettle").core == "copper kettle"
    assert normalize("Over The Moon").core == "over the moon"
    assert normalize("The").core == "the"


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("J.P. Morgan", "jp morgan"),
        ("J. P. Morgan", "jp morgan"),
        ("J P Morgan", "jp morgan"),
        ("A.B.C Plumbing", "abc plumbing"),
        ("I.B.M. United Kingdom", "ibm united kingdom"),
    ],
)
def test_dotted_abbreviations_and_initials_are_joined(name, core):
    """Letters with dots, or single letters in a row, form one word."""
    assert normalize(name).core == core


def test_a_few_abbreviations_are_spelled_out():
    """Unambiguous abbreviations ("Bros", "Intl", "Svcs", "Centre") read as the full word."""
    assert normalize("Smith Bros").core == normalize("Smith Brothers").core
    assert normalize("Acme Int'l Svcs").core == "acme international services"
    assert normalize("Riverside Centre").core == normalize("Riverside Center").core


@pytest.mark.parametrize(
    ("suffix", "canonical"),
    [
        ("Ltd", "ltd"),
        ("Ltd.", "ltd"),
        ("Limited", "ltd"),
        ("Inc.", "inc"),
        ("Incorporated", "inc"),
        ("Corp", "corp"),
        ("Corporation", "corp"),
        ("Co.", "co"),
        ("Company", "co"),
        ("& Co", "co"),
        ("L.L.C.", "llc"),
        ("LLP", "llp"),
        ("PLC", "plc"),
        ("Pty Ltd", "pty ltd"),
        ("Pty. Limited", "pty ltd"),
        ("Pvt Ltd", "pvt ltd"),
        ("Co., Ltd.", "co ltd"),
        ("GmbH", "gmbh"),
        ("GmbH & Co. KG", "gmbh co kg"),
        ("AG", "ag"),
        ("S.A.", "sa"),
        ("SAS", "sas"),
        ("S.A.R.L.", "sarl"),
        ("B.V.", "bv"),
        ("N.V.", "nv"),
        ("AB", "ab"),
        ("Oy", "oy"),
        ("A/S", "as"),
        ("ApS", "aps"),
        ("S.r.l.", "srl"),
        ("S.p.A.", "spa"),
        ("K.K.", "kk"),
        ("Sdn. Bhd.", "sdn bhd"),
    ],
)
def test_trailing_legal_forms_are_split_off_in_canonical_spelling(suffix, canonical):
    """A trailing legal form leaves the core and is stored in one spelling per form."""
    assert normalize(f"Harbour Trading {suffix}") == NormalizedName(
        "harbour trading", canonical, ()
    )


def test_legal_form_words_elsewhere_stay_in_the_core():
    """Only a trailing legal form is split off; the same word elsewhere is part of the name."""
    assert normalize("Limited Edition Prints") == NormalizedName("limited edition prints", None, ())


def test_a_name_that_is_only_a_legal_form_keeps_it_as_its_core():
    """A lone "Ltd" is a core, not an empty name with a legal form."""
    assert normalize("Ltd") == NormalizedName("ltd", None, ())
    assert normalize("Co. Ltd.") == NormalizedName("co", "ltd", ())


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("Twins 5", ("5",)),
        ("Unit 007 Motors", ("7",)),
        ("24/7 Locksmiths", ("24", "7")),
        ("3M United Kingdom", ("3",)),
        ("Unit ٣ Motors", ("3",)),
        ("Acme Foods", ()),
    ],
)
def test_numbers_are_the_digit_groups_without_leading_zeros(name, numbers):
    """Digit groups, in any script, become ASCII numbers without leading zeros."""
    assert normalize(name).numbers == numbers


def test_leading_zeros_go_from_the_core_too():
    """Leading zeros go from the core as well, so "Unit 007" is "Unit 7"."""
    assert normalize("Unit 007 Motors").core == "unit 7 motors"


def test_match_key_joins_core_and_legal_form():
    """The match key is `core|legal form`, equal for every spelling of the same name."""
    assert match_key("Fine Foods Limited") == "fine foods|ltd"
    assert match_key("FINE FOODS LTD.") == "fine foods|ltd"
    assert match_key("The Fine Foods") == "fine foods|"


def test_names_are_truncated_before_matching():
    """Only the first MAX_NAME_CHARS characters of a name count."""
    long_name = "Acme " + "x" * MAX_NAME_CHARS
    assert normalize(long_name + " Ltd") == normalize(long_name + " Inc")
    assert len(normalize("word " * 1000).core) <= MAX_NAME_CHARS


def test_control_characters_emoji_and_invisible_characters_are_word_breaks():
    """Characters that are not letters or digits separate words and never reach the core."""
    assert normalize("Acme\x00Foods\u200b😀 Ltd\x7f").core == "acme foods"
    assert normalize("😀🎉\x00 \u200b") == NormalizedName("", None, ())


def test_other_scripts_are_transliterated():
    """Letters of other scripts are spelled in Latin letters; ideographs a syllable each."""
    moscow = "\u041c\u043e\u0441\u043a\u0432\u0430"  # Moscow, in Cyrillic
    assert normalize(f"{moscow} Trading").core == "moskva trading"
    assert normalize("东京 商事").core == "dong jing shang shi"
    assert normalize("华为技术有限公司") == NormalizedName("hua wei ji shu", "co ltd", ())
    assert normalize("株式会社山田").legal_form == "kk"


def test_legal_forms_written_first_in_cyrillic_are_found():
    """ "ZAO «...»" (in Cyrillic) has the legal form zao, whatever is written after it."""
    zao = "\u0417\u0410\u041e"
    assert normalize(f"{zao} «Ivanov»") == NormalizedName("ivanov", "zao", ())


@pytest.mark.parametrize(
    ("prefix", "legal_form"),
    [("\u0418\u041f", "ip"), ("\u0420\u0410\u041e", "rao"), ("\u041d\u041f\u041e", "npo")],
)
def test_russian_sole_traders_and_associations_written_first_are_legal_forms(prefix, legal_form):
    """IP (a sole trader), RAO and NPO in Cyrillic before a name are its legal form, not its
    first word (which made "IRK" the initials of "IP «Rybakov Kornilova»"); the same letters
    in Latin script stay words of the name: "Srinivasa Rao", "Acme IP"."""
    assert normalize(f"{prefix} «Rybakov Kornilova»") == NormalizedName(
        "rybakov kornilova", legal_form, ()
    )
    assert normalize("Srinivasa Rao") == NormalizedName("srinivasa rao", None, ())
    assert normalize("Acme IP") == NormalizedName("acme ip", None, ())
    assert normalize("Acme NPO").legal_form is None


def test_digits_inside_words_are_not_numbers_but_codes_are():
    """ "Hi1bert" holds a typo, not the number 1; "A1", "M25" and "3M" are codes with numbers."""
    assert normalize("Hi1bert Gibson").numbers == ()
    assert normalize("A1 Motors").numbers == ("1",)
    assert normalize("M25 Haulage").numbers == ("25",)
    assert normalize("Unit 7 Motors").numbers == ("7",)


def test_a_digit_between_two_letters_of_a_short_word_is_a_typo():
    """ "Pohl OHG m3H" is Pohl OHG mbH mistyped, not a name with the number 3; a digit at
    either end of a short word is still a code ("3M", "A1")."""
    assert normalize("Pohl OHG m3H").numbers == ()
    assert normalize("Clement a6d Sons").numbers == ()
    assert normalize("3M United Kingdom").numbers == ("3",)


@pytest.mark.parametrize(
    ("a", "b", "compatible"),
    [
        ("ltd", "ltd", True),
        ("ltd", None, True),
        (None, None, True),
        ("ltd", "pty ltd", True),
        ("co ltd", "co", True),
        ("co ltd", "ltd", True),
        ("plc", "llc", False),
        ("inc", "corp", False),
        ("co", "ltd", False),
        ("gmbh", "ag", False),
    ],
)
def test_legal_form_compatibility(a, b, compatible):
    """Legal forms are compatible when either is missing or they share a family."""
    assert legal_forms_compatible(a, b) is compatible
    assert legal_forms_compatible(b, a) is compatible
