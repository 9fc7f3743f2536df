"""The `/integrations` grammar, parsed by a pure function.

    connect xero|quickbooks · reconnect · disconnect · refresh [full] · status · settings ·
    warn-new-supplier on|off · submit · admins [list|add @user|remove @user] · help

`parse(text)` returns a `Command` or raises `UsageError`, whose message says what was wrong and,
where a word looks like a typo, what was probably meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from handlers.text import code

PROVIDER_ALIASES = {
    "xero": "xero",
    "quickbooks": "quickbooks",
    "qbo": "quickbooks",
    "quickbooks-online": "quickbooks",
    # Sandbox Books, the demo ledger: only `ledgerlink demo` sets it up.
    "sandbox": "sandbox",
}

# subcommand -> (arguments shown in help, one-line description)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "connect": ("xero|quickbooks", "Connect this workspace to Xero or QuickBooks Online (admins)"),
    "reconnect": ("", "Log in to the accounting software again and renew the connection (admins)"),
    "disconnect": ("", "Disconnect the accounting software; history is kept (admins)"),
    "refresh": ("[full]", "Sync accounts, suppliers, customers, tax rates and more now"),
    "status": ("", "Show the connection: organisation, who connected it, expiry, last sync"),
    "settings": ("", "Open the settings (admins)"),
    "warn-new-supplier": ("on|off", "Ask before creating a new supplier (admins)"),
    "submit": ("", "Submit a receipt or bill"),
    "admins": ("[add|remove @user]", "List ledgerlink admins, or add or remove one (admins)"),
    "help": ("", "Show this help"),
}
# `settings` is open to everyone: non-admins get a read-only view.
ADMIN_SUBCOMMANDS = frozenset({"connect", "reconnect", "disconnect", "warn-new-supplier"})
MAX_TEXT = 1000

_USER_REF = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()


class UsageError(ValueError):
    def __init__(self, message: str, *, suggestion: str | None = None):
        self.message = message
        self.suggestion = suggestion
        super().__init__(message)


def usage_line(name: str) -> str:
    args = SUBCOMMANDS[name][0]
    return f"/integrations {name} {args}".rstrip()


def parse(text: str | None) -> Command:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise UsageError("That command is too long.")
    words = text.split()
    if not words:
        return Command("overview")
    name, rest = words[0].lower(), words[1:]
    if name not in SUBCOMMANDS:
        tail = " ".join(rest)[:40]
        raise UsageError(
            f"I don't know {code(words[0])}.",
            suggestion=_closest(name, SUBCOMMANDS, template="/integrations {} ", tail=tail),
        )
    return _PARSERS.get(name, _no_arguments)(name, rest)


def parse_user(word: str) -> str:
    """A Slack user reference (`<@U123|name>` as Slack escapes it, or a bare ID) -> user ID."""
    match = _USER_REF.match(word)
    if not match:
        raise UsageError(f"{code(word)} isn't a Slack user. Mention them with @, like `@sam`.")
    return match.group(1) or match.group(2)


def _no_arguments(name: str, rest: list[str]) -> Command:
    if rest:
        raise UsageError(f"`{name}` takes no arguments. Usage: `{usage_line(name)}`")
    return Command(name)


def _connect(name: str, rest: list[str]) -> Command:
    if len(rest) != 1:
        raise UsageError(
            "Which accounting software? Usage: `/integrations connect xero` or "
            "`/integrations connect quickbooks`"
        )
    provider = PROVIDER_ALIASES.get(rest[0].lower())
    if provider is None:
        raise UsageError(
            f"I can't connect to {code(rest[0])}: choose `xero` or `quickbooks`.",
            suggestion=_closest(
                rest[0].lower(), PROVIDER_ALIASES, template="/integrations connect {}"
            ),
        )
    return Command(name, (provider,))


def _refresh(name: str, rest: list[str]) -> Command:
    if not rest:
        return Command(name)
    if len(rest) == 1 and rest[0].lower() == "full":
        return Command(name, ("full",))
    raise UsageError(f"Usage: `{usage_line(name)}`")


def _on_off(name: str, rest: list[str]) -> Command:
    if len(rest) == 1 and rest[0].lower() in ("on", "off"):
        return Command(name, (rest[0].lower(),))
    raise UsageError(f"Usage: `{usage_line(name)}`")


def _admins(name: str, rest: list[str]) -> Command:
    if not rest or (len(rest) == 1 and rest[0].lower() == "list"):
        return Command(name, ("list",))
    action = rest[0].lower()
    if action in ("add", "remove"):
        if len(rest) != 2:
            raise UsageError(f"Usage: `/integrations admins {action} @user`")
        return Command(name, (action, parse_user(rest[1])))
    raise UsageError(
        f"Usage: `{usage_line(name)}`",
        suggestion=_closest(action, ("list", "add", "remove"), template="/integrations admins {}"),
    )


_PARSERS = {
    "connect": _connect,
    "refresh": _refresh,
    "warn-new-supplier": _on_off,
    "admins": _admins,
}


def _closest(
    word: str, choices, *, template: str = "/integrations {}", tail: str = ""
) -> str | None:
    """The closest choice in `template`, followed by `tail` (the user's own words, which
    are never read as a format string)."""
    match = process.extractOne(word[:40], list(choices), scorer=fuzz.WRatio, score_cutoff=60)
    return (template.format(match[0]) + tail).strip() if match else None
