"""Resolving a typed category against a synced chart of accounts (bot/categories.py)."""

from __future__ import annotations

from bot.categories import normalize, resolve_category
from providers.base import Record


def account(remote_id, name, code=None, *, active=True, **raw) -> Record:
    return Record("account", remote_id, name, code, active, raw={"Name": name, **raw})


XERO = [
    account("a-400", "Café Supplies", "400", Type="EXPENSE", Class="EXPENSE"),
    account("a-401", "Office Supplies", "401", Type="EXPENSE", Class="EXPENSE"),
    account("a-410", "Travel - National", "410", Type="EXPENSE", Class="EXPENSE"),
    account("a-300", "Purchases (old)", "300", active=False, Type="DIRECTCOSTS"),
    account("a-200", "Sales", "200", Type="REVENUE", Class="REVENUE"),
]
QBO = [  # QuickBooks: no account numbers, the Id is the code
    account("13", "Meals and Entertainment", "13", AccountType="Expense"),
    account("20", "Supplies", "20", AccountType="Expense"),
    account("21", "Supplies", "21", AccountType="Cost of Goods Sold"),
    account("35", "Checking", "35", AccountType="Bank"),
]


def test_names_compare_without_case_accents_or_punctuation():
    """ "cafe-supplies", "CAFÉ SUPPLIES" and "Café  Supplies" are one name; "&" reads "and"."""
    assert normalize("  Café-Supplies! ") == "cafe supplies"
    for typed in ("cafe-supplies", "CAFÉ SUPPLIES", "Café  Supplies", "cafe supplies."):
        assert resolve_category(XERO, typed).account.remote_id == "a-400", typed
    assert resolve_category(QBO, "meals & entertainment").account.remote_id == "13"


def test_a_code_or_an_id_names_the_account():
    """The code wins (case-insensitive), then the provider's id."""
    assert resolve_category(XERO, "401").account.name == "Office Supplies"
    assert resolve_category(XERO, "A-410").account.name == "Travel - National"
    assert resolve_category(QBO, "13").account.name == "Meals and Entertainment"


def test_a_name_two_accounts_share_is_ambiguous_and_lists_both():
    """Two QuickBooks accounts called "Supplies": refused, both named, use the code."""
    resolution = resolve_category(QBO, "supplies")
    assert resolution.account is None
    assert "could be any of 2 accounts" in resolution.error
    assert "Use the account's code" in resolution.error
    assert resolution.suggestions == ("Supplies", "Supplies")


def test_archived_and_non_expense_accounts_are_refused_by_name():
    """An archived account and a revenue account are named in the refusal, not taken."""
    archived = resolve_category(XERO, "300")
    assert archived.account is None and "Purchases (old) (300) is archived" in archived.error
    sales = resolve_category(XERO, "Sales")
    assert sales.account is None and "Sales (200) is not an expense account" in sales.error
    bank = resolve_category(QBO, "checking")
    assert bank.account is None and "not an expense account" in bank.error


def test_an_unknown_category_suggests_the_closest_expense_accounts():
    """A typo gets the nearest expense accounts' names (with their codes), best first."""
    resolution = resolve_category(XERO, "Cafe Suplies")
    assert resolution.account is None
    assert resolution.suggestions[0] == "Café Supplies (400)"
    assert "Sales" not in " ".join(resolution.suggestions)
    assert "Closest: Café Supplies (400)" in resolution.error


def test_without_account_types_every_active_account_counts_as_an_expense():
    """A chart whose accounts do not say their type (a provider we cannot read it from)."""
    plain = [account("1", "Stationery", "500"), account("2", "Old", "501", active=False)]
    assert resolve_category(plain, "stationery").account.remote_id == "1"
    assert "archived" in resolve_category(plain, "501").error
