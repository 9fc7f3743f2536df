"""The item validator shared by the HTTP API and the Slack form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.item_input import parse_item

VALID = {"supplier": "Costa Coffee", "date": "2026-11-26", "total": "12.5"}


def test_minimal_item_is_accepted_and_cleaned():
    """Supplier, date and total suffice; the total is normalised to two decimals."""
    item, errors = parse_item(VALID)
    assert errors == {}
    assert (item.supplier, item.date, item.total) == ("Costa Coffee", "2026-11-26", "12.50")


def test_numbers_and_optional_fields():
    """A numeric total, currency in any case and a numeric tax are accepted."""
    item, errors = parse_item(
        {
            **VALID,
            "total": 99,
            "currency": "gbp",
            "tax": 2.5,
            "due_date": "2026-12-26",
            "channel": "C012AB3CD",
            "submitted_by": "U012AB3CD",
            "external_id": 77,
        }
    )
    assert errors == {}
    assert (item.total, item.currency, item.tax, item.external_id) == ("99.00", "GBP", "2.5", "77")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"supplier": None}, "supplier", "required"),
        ({"supplier": 5}, "supplier", "must be text"),
        ({"supplier": "x" * 201}, "supplier", "too long"),
        ({"supplier": "\x07\u200b"}, "supplier", "required"),
        ({"date": None}, "date", "required"),
        ({"date": "26/11/2026"}, "date", "not a date"),
        ({"date": "1999-01-01"}, "date", "between"),
        ({"total": None}, "total", "required"),
        ({"total": "0"}, "total", "greater than 0"),
        ({"total": -3}, "total", "greater than 0"),
        ({"total": "twelve"}, "total", "not an amount"),
        ({"total": True}, "total", "must be a number"),
        ({"total": "NaN"}, "total", "finite"),
        ({"total": "1e20"}, "total", "implausibly large"),
        ({"total": "1.23456"}, "total", "decimal places"),
        ({"currency": "POUNDS"}, "currency", "too long"),
        ({"currency": "G1P"}, "currency", "ISO 4217"),
        ({"due_date": "2026-11-01"}, "due_date", "before the date"),
        ({"channel": "#general"}, "channel", "channel ID"),
        ({"submitted_by": "bob"}, "submitted_by", "user ID"),
        ({"reference": "r" * 300}, "reference", "too long"),
        ({"totl": "12"}, "totl", "unknown field"),
    ],
)
def test_each_bad_field_is_named(change, field, words):
    """Every malformed field gets its own error, in plain words."""
    item, errors = parse_item({**VALID, **change})
    assert item is None
    assert words in errors[field]


def test_not_an_object():
    """A JSON array or string is refused as a whole."""
    assert parse_item([VALID])[1] == {"body": "expected a JSON object with the item's fields"}


@given(
    st.dictionaries(
        st.text(max_size=20),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=300),
            st.lists(st.integers(), max_size=3),
        ),
        max_size=15,
    )
)
def test_never_crashes(data):
    """Arbitrary JSON-like input gets a result or per-field errors, never an exception."""
    item, errors = parse_item(data)
    assert (item is None) == bool(errors)


def test_control_characters_become_spaces_and_the_submitted_text_is_kept():
    """A stray control or zero-width character is a space, not a refusal; the original is kept."""
    item, errors = parse_item({**VALID, "supplier": "Hil\x80bert\u200b  Gibson\x00 Ltd"})
    assert errors == {}
    assert item.supplier == "Hil bert Gibson Ltd"
    assert item.cleaned == (("supplier", "Hil\x80bert\u200b  Gibson\x00 Ltd"),)


def test_plain_text_records_nothing_cleaned():
    """Ordinary text, even with extra spaces, is not reported as cleaned."""
    item, _ = parse_item({**VALID, "supplier": "  Costa   Coffee "})
    assert (item.supplier, item.cleaned) == ("Costa Coffee", ())
