"""Validating a submitted item (from the HTTP API or the Slack form): a pure function.

`parse_item(data)` returns the cleaned `ItemInput` or a dict of per-field errors, worded for
the person who sent it. Nothing is trusted: types, sizes, dates, amounts and IDs are checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

LIMITS = {
    "supplier": 200,
    "currency": 3,
    "tax": 50,
    "reference": 255,
    "description": 4000,
    "category": 50,
    "external_id": 200,
}
MAX_TOTAL = Decimal("1000000000000")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co"})
FIELDS = (
    "supplier",
    "date",
    "total",
    "currency",
    "tax",
    "due_date",
    "reference",
    "description",
    "category",
    "channel",
    "submitted_by",
    "external_id",
)
# The fields read as text, in FIELDS order; the dates and the total are parsed on their own.
_TEXT_FIELDS = tuple(name for name in FIELDS if name not in ("date", "total", "due_date"))


@dataclass(frozen=True)
class ItemInput:
    supplier: str
    date: str
    total: str
    currency: str | None = None
    tax: str | None = None
    due_date: str | None = None
    reference: str | None = None
    description: str | None = None
    category: str | None = None
    channel: str | None = None
    submitted_by: str | None = None
    external_id: str | None = None
    # (field, text as submitted) for text that had control characters or odd whitespace
    # turned into spaces: the item's history keeps what was sent.
    cleaned: tuple[tuple[str, str], ...] = ()

    def values(self) -> dict:
        """The stored item's columns."""
        return {
            "supplier_name": self.supplier,
            "date": self.date,
            "due_date": self.due_date,
            "total": self.total,
            "currency": self.currency,
            "tax": self.tax,
            "reference": self.reference,
            "description": self.description,
            "category": self.category,
        }


def parse_item(data) -> tuple[ItemInput | None, dict[str, str]]:
    if not isinstance(data, dict):
        return None, {"body": "expected a JSON object with the item's fields"}
    errors: dict[str, str] = {}
    for name in data:
        if name not in FIELDS:
            errors[str(name)[:50]] = "unknown field"
    values: dict[str, str | None] = {}
    cleaned: list[tuple[str, str]] = []
    for name in _TEXT_FIELDS:
        value, error = _text(
            data.get(name), LIMITS.get(name, 40), allow_number=name in ("tax", "external_id")
        )
        if error:
            errors[name] = error
        elif isinstance(raw := data.get(name), str) and any(
            unicodedata.category(ch) in _UNPRINTABLE for ch in raw
        ):
            cleaned.append((name, raw))
        values[name] = value
    if not values["supplier"] and "supplier" not in errors:
        errors["supplier"] = "required"
    for name in ("date", "due_date"):
        value, error = _date(data.get(name))
        if error:
            errors[name] = error
        values[name] = value
    if values["date"] is None and "date" not in errors:
        errors["date"] = "required (YYYY-MM-DD)"
    if values["date"] and values["due_date"] and values["due_date"] < values["date"]:
        errors["due_date"] = "is before the date"
    total, error = _amount(data.get("total"))
    if error:
        errors["total"] = error
    if values["currency"] is not None:
        values["currency"] = values["currency"].upper()
        if not _CURRENCY.match(values["currency"]):
            errors["currency"] = "a three-letter ISO 4217 code, like GBP"
    if values["channel"] is not None and not _CHANNEL.match(values["channel"]):
        errors["channel"] = "not a Slack channel ID (like C012AB3CD)"
    if values["submitted_by"] is not None and not _USER.match(values["submitted_by"]):
        errors["submitted_by"] = "not a Slack user ID (like U012AB3CD)"
    if errors:
        return None, errors
    return ItemInput(total=total, cleaned=tuple(cleaned), **values), {}


def _text(value, limit: int, *, allow_number: bool = False) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if allow_number and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            value = str(value)
        except ValueError:  # an integer too long for str() (over 4300 digits)
            return None, f"too long (at most {limit} characters)"
    if not isinstance(value, str):
        return None, "must be text"
    # Control, format, surrogate and private-use characters (mojibake like "\x80" from a badly
    # decoded receipt, zero-width spaces) become spaces, as odd whitespace does: the item gets in.
    value = " ".join(
        "".join(" " if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in value).split()
    )
    if len(value) > limit:
        return None, f"too long (at most {limit} characters)"
    return value or None, None


def _date(value) -> tuple[str | None, str | None]:
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, "must be a date like 2026-11-26"
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        return None, f"not a date like 2026-11-26: {value[:30]!r}"
    if not 2000 <= parsed.year <= 2100:
        return None, "must be between the years 2000 and 2100"
    return parsed.isoformat(), None


def _amount(value) -> tuple[str | None, str | None]:
    if value is None or value == "":
        return None, "required (a positive amount like 12.50)"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, 'must be a number or a decimal string like "12.50"'
    try:
        amount = (
            Decimal(str(value).strip().replace(",", ""))
            if isinstance(value, str)
            else Decimal(str(value))
        )
    except InvalidOperation:
        return None, f"not an amount: {str(value)[:30]!r}"
    except ValueError:  # an integer too long for str() (over 4300 digits)
        return None, "is implausibly large"
    if not amount.is_finite():
        return None, "must be a finite amount"
    if amount <= 0:
        return None, "must be greater than 0"
    if amount >= MAX_TOTAL:
        return None, "is implausibly large"
    if amount.as_tuple().exponent < -4:
        return None, "has more than 4 decimal places"
    return format(
        amount.quantize(Decimal("0.01")) if amount.as_tuple().exponent >= -2 else amount, "f"
    ), None
