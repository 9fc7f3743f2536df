"""Categories: which account of the synced chart a typed category means. Pure functions.

People name an account the way their accounting software shows it: by code where the chart has
codes (Xero: "400"), by name where it mostly has none (QuickBooks: "Supplies"), or by the id an
integration handed them. `resolve_category` accepts all three, for every provider: the code
(case-insensitive), then the provider's id, then the name compared without case, accents or
punctuation ("Café supplies", "cafe-supplies" and "CAFE SUPPLIES" are one name; "&" reads as
"and"). A name two
accounts share
is ambiguous and refused with both listed; an archived account or one that is not for expenses
is refused by name; an unknown category is refused with the closest expense accounts' names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from providers.base import Record

SUGGESTIONS = 3
# Account types meant for bills, per provider: Xero's Class/Type, QuickBooks' AccountType.
EXPENSE_TYPES = frozenset(
    {
        "EXPENSE",
        "DIRECTCOSTS",
        "OVERHEADS",
        "Expense",
        "Other Expense",
        "Cost of Goods Sold",
    }
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Resolution:
    """The account a category means, or why none: `error` in plain words (not escaped) and
    `suggestions`, the closest expense accounts' labels."""

    account: Record | None
    error: str | None = None
    suggestions: tuple[str, ...] = ()


def normalize(text: str) -> str:
    """Lower case, no accents, "&" as "and", other punctuation as spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def is_expense(record: Record) -> bool:
    raw = record.raw
    return (
        raw.get("Class") == "EXPENSE"
        or raw.get("Type") in EXPENSE_TYPES
        or raw.get("AccountType") in EXPENSE_TYPES
    )


def expense_accounts(records: Iterable[Record]) -> list[Record]:
    """The active expense accounts; all active accounts when the provider's types are unknown
    (no account says what it is for)."""
    active = [r for r in records if r.active]
    expenses = [r for r in active if is_expense(r)]
    return expenses or active


def label(record: Record) -> str:
    """ "Supplies (400)": the name, with the code when it is a real code (not just the id)."""
    code = record.code if record.code and record.code != record.remote_id else None
    return f"{record.name} ({code})" if code else record.name


def _names(record: Record) -> set[str]:
    names = {record.name, record.raw.get("FullyQualifiedName") or ""}
    return {normalize(name) for name in names if name}


def resolve_category(accounts: Sequence[Record], text: str) -> Resolution:
    """The account of `accounts` (the synced chart, archived ones included) that `text` names."""
    wanted = " ".join((text or "").split())
    if not wanted:
        return Resolution(None, "Choose an account from the chart of accounts.")
    folded, key = wanted.casefold(), normalize(wanted)
    found = [a for a in accounts if a.code and a.code.casefold() == folded]
    if not found:
        found = [a for a in accounts if a.remote_id.casefold() == folded]
    if not found and key:
        found = [a for a in accounts if key in _names(a)]
    if len(found) > 1:
        active = [a for a in found if a.active]
        found = active if len(active) == 1 else found
    if len(found) > 1:
        listed = ", ".join(label(a) for a in found[:5])
        return Resolution(
            None,
            f"“{wanted}” could be any of {len(found)} accounts: {listed}. Use the account's "
            "code, or its full name.",
            tuple(label(a) for a in found[:SUGGESTIONS]),
        )
    if not found:
        suggestions = closest(accounts, wanted)
        hint = f" Closest: {', '.join(suggestions)}." if suggestions else ""
        return Resolution(
            None,
            f"No account “{wanted}” in the chart of accounts (by code, name or id).{hint}",
            suggestions,
        )
    account = found[0]
    if not account.active:
        suggestions = closest(accounts, account.name)
        hint = f" Closest: {', '.join(suggestions)}." if suggestions else ""
        return Resolution(None, f"The account {label(account)} is archived.{hint}", suggestions)
    expenses = expense_accounts(accounts)
    if account not in expenses:
        suggestions = closest(accounts, wanted)
        hint = f" Closest: {', '.join(suggestions)}." if suggestions else ""
        return Resolution(
            None, f"The account {label(account)} is not an expense account.{hint}", suggestions
        )
    return Resolution(account)


def closest(accounts: Sequence[Record], text: str, limit: int = SUGGESTIONS) -> tuple[str, ...]:
    """The labels of the expense accounts whose names are nearest `text`."""
    choices = {i: normalize(a.name) for i, a in enumerate(expense_accounts(accounts))}
    if not choices:
        return ()
    pool = expense_accounts(accounts)
    ranked = process.extract(normalize(text), choices, scorer=fuzz.WRatio, limit=limit)
    return tuple(label(pool[index]) for _, _, index in ranked)
