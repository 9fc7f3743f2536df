"""Hostile text in every message builder: names and words that people and providers typed never
format, mention or link anything in Slack.

Part of the hostile-input suite (tests/reliability/test_hostile_input.py drives the running
app). The builders are found by inspecting handlers/messages.py and handlers/*_messages.py, so
a new builder is tested as soon as it exists: each parameter must be listed below as user text
(fed hostile text) or as ledgerlink's own value, or the test fails and says which.

Two oracles for each mrkdwn field (and each fallback `text`):
- no formatting character of the hostile text that could format reaches it raw: the hostile
  text surrounds `*`, `_`, `~` and backticks with a broken bar, so a raw one sits next to it
  (`_` and `~` between two letters cannot format, and are kept as typed); no `<` or `>` is
  left beyond ledgerlink's own mentions, every `&` starts an entity, and no line break from
  the text starts a new line (which `>` would turn into a quote);
- drawn by the playground's mrkdwn renderer, the message has exactly the same markup as the
  same message built with a plain word in place of the hostile text.
"""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.matching import Candidate
from handlers.grammar import UsageError
from playground.blockkit import Context, mrkdwn
from store.connections import Connection
from store.items import Item
from store.workspaces import Settings
from tests.fakes import records

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["handlers.messages"] + [
    f"handlers.{path.stem}" for path in sorted((ROOT / "handlers").glob("*_messages.py"))
]
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
MARK = "\u00a6"  # ¦: next to every formatting character of the hostile text that could format
HOSTILE = (
    f"({MARK}*{MARK}*{MARK} {MARK}_{MARK}_{MARK} {MARK}~{MARK}~{MARK} {MARK}`{MARK}`{MARK} "
    f"*bold* _it_ ~gone~ `code` ```block``` <!channel> <@U0BOSS> <https://evil.example|x> "
    f"{MARK}&{MARK} &amp;lt; {MARK}\n> quoted\n{MARK}\r\u2028{MARK} "
    "invalid_grant a*b*c x~y~z a`b`c)"
)
PLAIN = "Plain"


class OneOf(tuple):
    """Variants of an argument: the builder is called once per variant."""


def one_of(*values) -> OneOf:
    return OneOf(values)


def build_item(text: str, **changes) -> Item:
    values = dict(
        source="api",
        supplier_name=text,
        supplier_key="k",
        supplier_display=text,
        reference=text,
        description=text,
        category=text,
        tax=text,
        last_error=text,
    )
    return records.item(**{**values, **changes})


def build_connection(text: str, **changes) -> Connection:
    values = dict(provider="xero", tenant_name=text, status_reason=text)
    return records.connection(**{**values, **changes})


def outcome(text: str, **changes) -> SimpleNamespace:
    values = dict(ok=False, seconds=1.5, counts={}, error=text, full=False, result="failed")
    return SimpleNamespace(**{**values, **changes})


# Each parameter that carries user or provider text: how to build it from that text (with
# variants, so each branch of a builder sees the text).
USER_TEXT = {
    "item": lambda t: one_of(
        build_item(t),
        build_item(t, status="published", resolution="chosen", resolved_by="U1"),
        build_item(t, status="published", resolution="created", resolved_by="U1"),
        build_item(t, status="held", submitted_by=None, resolved_by=None),
    ),
    "original": lambda t: build_item(t, id=3),
    "connection": lambda t: one_of(
        build_connection(t),
        build_connection(t, status="expired"),
        build_connection(t, status="revoked", status_reason=None),
    ),
    "grant": lambda t: SimpleNamespace(
        id="g1", tenants=[SimpleNamespace(name=t), SimpleNamespace(name=t + "2")]
    ),
    "candidates": lambda t: [Candidate(f"s{n}", f"{t} {n}", 90 - n) for n in range(14)],
    "settings": lambda t: one_of(
        Settings(notification_channel="C1", default_account_code=t),
        Settings(default_account_code=t),
    ),
    "accounts": lambda t: one_of([(t, t), ("429", t)], [(str(n), t) for n in range(150)]),
    "outcome": lambda t: one_of(
        outcome(t),
        outcome(t, result="expired"),
        outcome(t, result="deferred"),
        outcome(t, ok=True, result="ok"),
    ),
    "values": lambda t: {"item_supplier_block": {"item_supplier": {"value": t}}},
    "errors": lambda t: {"supplier": t, "other": t},
    # What a provider's rules changed on a bill (it quotes the supplier's reference).
    "notes": lambda t: one_of((t, t), ()),
}
for _name in (
    "org_name",
    "words",
    "reason",
    "note",
    "old_name",
    "new_name",
    "revoke_error",
    "error",
    "scope",
    "chosen",
    "detail",
    "last_error",
    "text",
):
    USER_TEXT[_name] = lambda t: t

# Parameters that are ledgerlink's own values (IDs Slack signed, settings, enums, numbers,
# times, and mrkdwn or blocks the app wrote itself).
OWN = {
    "actor": "U1",
    "user_id": "U1",
    "submitted_by": one_of("U2", None),
    "admins": one_of(("U1", "U2"), ()),
    "action": "add",
    "changed": one_of(True, False),
    "on": one_of(True, False),
    "provider": one_of("xero", "quickbooks", "sandbox"),
    "requested": one_of("quickbooks", "xero"),
    "configured": ("xero", "quickbooks"),
    "url": "https://login.xero.test/authorize?a=1&b=2",
    "public_url": "https://ledgerlink.test",
    "purpose": one_of("connect", "reconnect"),
    "now": NOW,
    "moment": NOW,
    "retry_at": NOW,
    "today": date(2026, 11, 26),
    "count": one_of(1, 3),
    "failures": 3,
    "seconds": one_of(2.5, 125.0),
    "connection_id": 1,
    "item_id": 4,
    "full": one_of(False, True),
    "can_switch": one_of(True, False),
    "reconnected": one_of(False, True),
    "editable": one_of(True, False),
    "is_admin": one_of(True, False),
    "bill_statuses": ("DRAFT", "AUTHORISED"),
    "metadata": "C1",
    "name": "status",
    "block_id": "b1",
    "counts": {"supplier": {"new": 2, "updated": 1}, "account": {}},
    "running": SimpleNamespace(requested_by="U1", started_at=NOW),
    "run": SimpleNamespace(counts={"supplier": {"new": 1}}),
    "last_ok": one_of(SimpleNamespace(finished_at=NOW), None),
    "what": one_of("edit", "discard", "retry", "publish_anyway"),
    "permalink_hint": " <https://slack.test/archives/C1/p1|See the prompt>.",
    "extra_status": "Last synced today.",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Done*"}}],
    "kinds": one_of(("supplier", "customer"), ("account",)),
    "progress": one_of(
        SimpleNamespace(kinds=("supplier", "customer"), read=12_000, expected=100_000),
        SimpleNamespace(kinds=("tax_rate",), read=3, expected=None),
    ),
}
# Where a name means something else in one builder.
OVERRIDES = {
    ("handlers.messages", "usage_error_message", "error"): lambda t: UsageError(
        "I don't know `that`.", suggestion=t
    ),
    ("handlers.messages", "refusal_message", "action"): lambda t: "manage the connection",
    ("handlers.messages", "error_message", "text"): lambda t: "ledgerlink wrote *this*.",
    ("handlers.messages", "section", "text"): lambda t: "ledgerlink wrote *this*.",
    # The outbox's grouped message lists items; a fallback's note and the "opened" answer are
    # ledgerlink's own words around a message it built; the App Home counts Slack's errors.
    ("handlers.outbox_messages", "grouped_prompts", "group"): lambda t: None,
    ("handlers.outbox_messages", "grouped_prompts", "items"): lambda t: one_of(
        [build_item(t), build_item(t, id=5, status="published", supplier_display="Other")],
        [build_item(t, status="discarded", submitted_by=None)],
    ),
    ("handlers.outbox_messages", "with_note", "message"): lambda t: {
        "text": "ledgerlink wrote *this*.",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Done*"}}],
    },
    ("handlers.outbox_messages", "with_note", "note"): lambda t: (
        "ledgerlink could not post this in <#C1> (channel_not_found)."
    ),
    ("handlers.outbox_messages", "opened", "where"): lambda t: "this message",
    ("handlers.outbox_messages", "home_queue", "summary"): lambda t: one_of(
        {"waiting": 2, "waiting_reasons": {t: 2}, "failed": 1, "failed_reasons": {t: 1}},
        {"waiting": 0, "waiting_reasons": {}, "failed": 0, "failed_reasons": {}},
    ),
}


# Wording stored as plain text (a sync run's error, a connection's status reason), not
# mrkdwn: it must keep what the provider said as is, and every message showing it escapes it
# (those messages are tested here with hostile text in its place: `error`, `detail`, ...).
STORED_WORDS = {"rate_limited_text", "revoked_text", "unavailable_text", "refused_text"}


def builders():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, function in vars(module).items():
            if (
                inspect.isfunction(function)
                and function.__module__ == module_name
                and not name.startswith("_")
            ):
                yield pytest.param(module_name, name, function, id=f"{module_name}.{name}")


def _variants(value) -> tuple:
    return value if isinstance(value, OneOf) else (value,)


def calls(module_name: str, name: str, function, text: str) -> list[tuple[tuple, dict]]:
    """The argument lists to call a builder with, `text` standing for what people typed."""
    choices: dict[str, list] = {}
    for parameter in inspect.signature(function).parameters.values():
        key = (module_name, name, parameter.name)
        if parameter.kind is parameter.VAR_POSITIONAL:
            continue
        if key in OVERRIDES:
            choices[parameter.name] = _variants(OVERRIDES[key](text))
        elif parameter.name in USER_TEXT:
            choices[parameter.name] = _variants(USER_TEXT[parameter.name](text))
        elif parameter.name in OWN:
            choices[parameter.name] = _variants(OWN[parameter.name])
        else:
            pytest.fail(
                f"{module_name}.{name} takes {parameter.name!r}: list it in USER_TEXT (what "
                "people or providers typed) or OWN (ledgerlink's own values) in this test"
            )
    runs = max((len(v) for v in choices.values()), default=1)
    built = []
    for n in range(runs):
        args = {key: values[n % len(values)] for key, values in choices.items()}
        positional = [
            args.pop(p.name)
            for p in inspect.signature(function).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in args
        ]
        built.append((tuple(positional), args))
    return built


def mrkdwn_fields(node, *, top: bool = True) -> list[str]:
    """Every text Slack reads as mrkdwn: mrkdwn objects, a message's fallback `text`, and a
    text helper's own result."""
    if isinstance(node, str):
        return [node] if top else []
    if isinstance(node, list):
        return [text for child in node for text in mrkdwn_fields(child, top=False)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") == "mrkdwn" else []
    if top and isinstance(node.get("text"), str) and "blocks" in node:
        found.append(node["text"])
    return found + [text for value in node.values() for text in mrkdwn_fields(value, top=False)]


OWN_CONTROLS = re.compile(
    r"<(?:[@#][UWC][A-Z0-9]+|!date\^[^<>|]+\|[^<>]+|https://slack\.test/[^<>]+)>"
)


def assert_inert(text: str) -> None:
    for char in "*_~`":
        assert f"{MARK}{char}" not in text and f"{char}{MARK}" not in text, (char, text)
    for word in ("*bold*", "_it_", "~gone~", "`code`", "```"):
        assert word not in text, (word, text)
    rest = OWN_CONTROLS.sub("", text)
    assert "<" not in rest and ">" not in rest, text
    assert not re.search(r"&(?!amp;|lt;|gt;)", rest), text
    assert f"{MARK}\n" not in text and f"{MARK}\r" not in text and "\u2028" not in text, text
    assert not any(line.startswith("&gt;") for line in text.splitlines()), text


def markup(text: str) -> list[str]:
    """The tags the playground's mrkdwn renderer draws for a text, in order."""
    html = mrkdwn(text, Context(users={"U1": "Alex", "U2": "Sam"}, channels={"C1": "accounts"}))
    return re.findall(r"</?[a-z]+[^>]*>", html)


ALL_BUILDERS = list(builders())


def test_every_builder_module_is_inspected():
    """The inspection finds the four message modules and their builders, so the tests below
    cannot pass by finding nothing."""
    assert set(MODULES) >= {
        "handlers.messages",
        "handlers.connection_messages",
        "handlers.item_messages",
        "handlers.sync_messages",
    }
    names = {param.values[1] for param in ALL_BUILDERS}
    assert {"supplier_prompt", "published", "status_text", "confirm_tenant_switch"} <= names
    assert len(names) > 60


@pytest.mark.parametrize(("module_name", "name", "function"), ALL_BUILDERS)
def test_user_text_cannot_format_any_message(module_name, name, function):
    """Built with hostile names, references, organisation names and provider words, no mrkdwn
    field holds a formatting character, mention, link or line break from that text, and the
    message draws with exactly the markup it has when the text is a plain word."""
    hostile_calls = calls(module_name, name, function, HOSTILE)
    if name in STORED_WORDS:
        for args, kwargs in hostile_calls:
            assert HOSTILE in function(*args, **kwargs)
        return
    plain_calls = calls(module_name, name, function, PLAIN)
    for (args, kwargs), (plain_args, plain_kwargs) in zip(hostile_calls, plain_calls, strict=True):
        hostile_fields = mrkdwn_fields(function(*args, **kwargs))
        plain_fields = mrkdwn_fields(function(*plain_args, **plain_kwargs))
        assert len(hostile_fields) == len(plain_fields)
        for shown, plain in zip(hostile_fields, plain_fields, strict=True):
            assert_inert(shown)
            assert markup(shown) == markup(plain), (shown, plain)


def test_hostile_text_reaches_the_messages_shown_as_typed():
    """The hostile text is really in the messages (so the test above checks something), with
    each formatting character shown as its lookalike rather than dropped."""
    from handlers import item_messages, sync_messages

    prompt = item_messages.supplier_prompt(build_item(HOSTILE), HOSTILE, [])
    reminder = sync_messages.expiry_reminder(build_connection(HOSTILE), NOW)
    for message in (prompt, reminder):
        text = message["text"]
        assert f"{MARK}\u2217{MARK}" in text and f"{MARK}\u02cd{MARK}" in text
        assert f"{MARK}\u223c{MARK}" in text and f"{MARK}\u02cb{MARK}" in text
        assert f"{MARK}&amp;{MARK}" in text and "&lt;!channel&gt;" in text
        assert "invalid_grant a\u2217b\u2217c x~y~z a\u02cbb\u02cbc" in text
