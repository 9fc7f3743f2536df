"""Property-based tests (hypothesis) of everything that reads text from people or providers:
the slash-command grammar, the item validator, the name normaliser and supplier index, the
mrkdwn escaping and the messages built from it, and Bolt's reading of whole Slack requests.

Arbitrary unicode, empty and huge text, control and format characters, mrkdwn and HTML
injection: never a crash, always a clear answer, and nothing echoed that Slack would read as
a mention, a channel ping, a link or an entity. Runs are derandomized (the same examples on
every run, so CI cannot flake) and keep no example database.
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.app import create_app
from bot.clock import SystemClock
from bot.config import Config
from bot.http import HttpApp, slack_blueprint
from bot.item_input import FIELDS, LIMITS, parse_item
from bot.matching import MAX_NAME_CHARS, SupplierIndex, match_key, normalize
from handlers import ids, messages
from handlers import item_messages as msgs
from handlers.grammar import Command, UsageError, parse
from handlers.text import bold, code, escape
from store import open_store
from tests.conftest import SIGNING_SECRET
from tests.fakes import records
from tests.fakes.slack import FakeSlack, mrkdwn_of
from tests.fakes.slack_requests import signed_headers

# Example counts, as reported in README.md ("## Reliability").
EXAMPLES = {
    "grammar": 2000,
    "item validator": 1500,
    "normaliser": 1000,
    "supplier index": 200,
    "escaping": 1000,
    "messages": 400,
    "Slack requests": 150,
}


def examples(name: str):
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- strategies --------------------------------------------------------------------------------

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0BOSS>",
    "<@U0BOSS|boss>",
    "<#C0SECRET|secret>",
    "<https://evil.example|click me>",
    "&",
    "&amp;",
    "&lt;!channel&gt;",
    "*bold*",
    "`code`",
    "```",
    "<script>alert(1)</script>",
    "{0}",
    "{}",
    "}{",
    "%s",
    "\x00",
    "\u202e",
    "\u200b",
    "\ud800",
    "\n",
    "\t",
    "  ",
]
WORDS = [
    "connect",
    "conect",
    "xero",
    "quickbooks",
    "qbo",
    "admins",
    "add",
    "remove",
    "list",
    "refresh",
    "full",
    "warn-new-supplier",
    "on",
    "off",
    "status",
    "stauts",
    "help",
    "settings",
    "submit",
]
hostile = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(INJECTIONS),
    st.lists(st.sampled_from(INJECTIONS + WORDS), max_size=8).map(" ".join),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["&", "<", "x", "é", "\u0301"]), st.integers(0, 5000)
    ),
)
command_text = st.one_of(
    hostile,
    st.lists(st.one_of(st.sampled_from(WORDS + INJECTIONS), st.text(max_size=10)), max_size=6).map(
        " ".join
    ),
)
SAFE_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def assert_safe_mrkdwn(text: str) -> None:
    """No raw `<` (mention, ping, link) beyond ledgerlink's own validated mentions, no `>`,
    and every `&` starts one of the three entities Slack knows."""
    stripped = SAFE_MENTION.sub("", text)
    assert "<" not in stripped and ">" not in stripped, text
    assert not re.search(r"&(?!amp;|lt;|gt;)", stripped), text


def assert_valid_message(message: dict) -> None:
    """Safe mrkdwn everywhere, and blocks within Block Kit's limits (slack_sdk checks)."""
    assert_safe_mrkdwn(message["text"])
    for text in mrkdwn_of(message["blocks"]):
        assert_safe_mrkdwn(text)
    for block in message["blocks"]:
        Block.parse(block).validate_json()


# -- the grammar -------------------------------------------------------------------------------


@examples("grammar")
@given(command_text)
def test_grammar_answers_every_text_clearly(text):
    """`parse` returns a known command or a UsageError whose message (and "did you mean")
    renders as safe mrkdwn within Block Kit's limits; it never raises anything else."""
    try:
        command = parse(text)
    except UsageError as error:
        assert error.message
        assert_valid_message(messages.usage_error_message(error))
        return
    assert isinstance(command, Command)
    if command.name == "admins" and command.args[0] != "list":
        assert re.fullmatch(r"[UW][A-Z0-9]{2,}", command.args[1])
    if command.name == "connect":
        assert command.args[0] in ("xero", "quickbooks", "sandbox")


# -- the item validator ------------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([400, -30, 63]).map(lambda e: 10**e if e > 0 else -(10**-e)),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile,
)
# Past 4300 digits even str() refuses an int: only a validator called directly can get one.
huge = st.just(5000).map(lambda digits: 10**digits)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
plausible = st.fixed_dictionaries(
    {
        "supplier": st.one_of(hostile, st.text(min_size=1, max_size=40)),
        "date": st.one_of(st.dates().map(str), st.text(max_size=12), json_scalar),
        "total": st.one_of(
            st.decimals(allow_nan=True, allow_infinity=True).map(str),
            st.integers(-5, 10**13),
            st.floats(),
            st.text(string.digits + ".,-e ", max_size=12),
            json_scalar,
        ),
    },
    optional={
        name: st.one_of(json_scalar, st.lists(json_scalar, max_size=2))
        for name in (*FIELDS, "unknown")
        if name not in ("supplier", "date", "total")
    },
)


@examples("item validator")
@given(st.one_of(plausible, json_value, st.fixed_dictionaries({"total": huge, "tax": huge})))
def test_item_validator_answers_every_body(data):
    """`parse_item` accepts a clean item or names each bad field in words; never raises."""
    item, errors = parse_item(data)
    if item is None:
        assert errors and all(isinstance(k, str) and len(k) <= 50 for k in errors)
        assert all(isinstance(v, str) and v.isprintable() for v in errors.values())
        assert all(0 < len(v) <= 400 for v in errors.values())
        return
    assert errors == {}
    assert 0 < len(item.supplier) <= LIMITS["supplier"]
    assert item.supplier == " ".join(item.supplier.split())
    total = Decimal(item.total)
    assert total > 0 and total.as_tuple().exponent >= -4
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item.date)
    for name in ("reference", "description", "tax", "category"):
        value = getattr(item, name)
        assert value is None or 0 < len(value) <= LIMITS[name]


# -- the normaliser and the index --------------------------------------------------------------


@examples("normaliser")
@given(hostile)
def test_normaliser_accepts_any_name(name):
    """`normalize` and `match_key` take any text: the core is at most 200 characters of
    case-folded words separated by single spaces, and the key is stable."""
    normalized = normalize(name)
    assert len(normalized.core) <= MAX_NAME_CHARS
    assert normalized.core == normalized.core.strip()
    assert "  " not in normalized.core
    assert not re.search(r"[^\w ]|_", normalized.core)
    assert all(not n.startswith("0") or n == "0" for n in normalized.numbers)
    assert match_key(name) == match_key(name)


@examples("normaliser")
@given(st.text(alphabet=string.printable))
def test_normaliser_ignores_case_and_spacing(name):
    """ASCII names that differ only in case or in spacing get the same key."""
    assert match_key(name) == match_key(name.upper()) == match_key(f"  {name.lower()} ")


@examples("supplier index")
@given(st.lists(hostile, min_size=1, max_size=15), hostile)
def test_supplier_index_answers_any_query(names, query):
    """The supplier index builds from any names and answers exact, candidates and search for
    any query; a name with words finds itself exactly."""
    index = SupplierIndex.build((str(n), name) for n, name in enumerate(names))
    index.candidates(query)
    index.search(query, limit=100)
    for name in names:
        if normalize(name).core:
            assert index.exact(name) is not None


# -- escaping and messages ---------------------------------------------------------------------


@examples("escaping")
@given(hostile)
def test_escaping_leaves_nothing_slack_would_read(text):
    """`escape`, `bold` and `code` leave no `<`, `>` or bare `&`; code has no backtick inside
    and bold no asterisk to end it early."""
    for shown in (escape(text), bold(text), code(text, limit=100)):
        assert_safe_mrkdwn(shown)
    assert "`" not in code(text, limit=100)[1:-1]
    assert "*" not in bold(text)[1:-1]


# Resolved and published, so every message shows all it can.
ITEM = records.item(
    id=12, resolution="chosen", resolved_by="U0ADMIN", bill_id="B1", bill_url="https://x.test/b1"
)
item_text = st.one_of(hostile.map(lambda t: " ".join(t.split())[:200]), st.sampled_from(INJECTIONS))


@examples("messages")
@given(
    supplier=item_text.filter(bool),
    reference=st.one_of(st.none(), item_text.map(lambda t: t[:255] or None)),
    words=hostile.map(lambda t: t[:500]),
    org=item_text,
    names=st.lists(item_text.filter(bool), max_size=14),
)
def test_item_messages_show_user_and_provider_text_safely(supplier, reference, words, org, names):
    """Every item message built from hostile supplier names, references, organisation names,
    candidate names and provider error words is safe mrkdwn within Block Kit's limits."""
    item = replace(ITEM, supplier_name=supplier, reference=reference, supplier_display=supplier)
    candidates = [SimpleNamespace(supplier_id=str(n), name=name) for n, name in enumerate(names)]
    for message in (
        msgs.supplier_prompt(item, org, candidates),
        msgs.published(item, "xero", note=words),
        msgs.publish_error(item, words),
        msgs.queued(item, words),
        msgs.duplicate(item, item),
        msgs.discarded(item, "U0ADMIN"),
        msgs.already_resolved(item),
        msgs.prompt_reminder(item),
        msgs.publishing(item),
    ):
        assert_valid_message(message)


# -- whole Slack requests through the HTTP layer -----------------------------------------------

ACTION_IDS = sorted(v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str))
sender = {
    "team": st.fixed_dictionaries({"id": st.sampled_from(["T0001", "T9"])}),
    "user": st.fixed_dictionaries(
        {"id": st.sampled_from(["UADMIN", "USTAFF"]), "team_id": st.just("T0001")}
    ),
    "trigger_id": st.just("1.2.3"),
}
action = st.fixed_dictionaries(
    {"action_id": st.sampled_from(ACTION_IDS) | st.text(min_size=1, max_size=10)},
    optional={
        "value": hostile,
        "selected_option": st.fixed_dictionaries({"value": hostile}),
        "block_id": hostile,
    },
)
view = st.fixed_dictionaries(
    {
        "type": st.just("modal"),
        "callback_id": st.sampled_from([ids.ITEM_VIEW, ids.SETTINGS_VIEW, "other"]),
        "state": st.fixed_dictionaries(
            {"values": st.dictionaries(st.text(max_size=20), json_value, max_size=3)}
        ),
    },
    optional={"private_metadata": hostile},
)
# Requests shaped like Slack's, with hostile values: these reach the listeners.
slack_shaped = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("block_actions"), "actions": st.lists(action, min_size=1, max_size=2)}
        | sender
    ),
    st.fixed_dictionaries({"type": st.just("view_submission"), "view": view} | sender),
    st.fixed_dictionaries(
        {
            "type": st.just("block_suggestion"),
            "action_id": st.sampled_from([ids.SEARCH_SUPPLIERS, ids.ITEM_CATEGORY, "x"]),
            "block_id": hostile,
            "value": hostile,
        }
        | sender
    ),
)
# Requests of any other shape: parts missing or of the wrong type.
misshapen = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "shortcut", "nonsense"])},
    optional={
        "team": json_value,
        "user": json_value,
        "actions": st.one_of(st.lists(action | json_value, max_size=2), json_value),
        "view": st.one_of(view, json_value),
        "callback_id": st.sampled_from([ids.SUBMIT_SHORTCUT, "x"]) | json_value,
        "trigger_id": json_value,
    },
)


@pytest.fixture
def slack_endpoint(tmp_path):
    """ledgerlink's WSGI app (router, Bolt, every listener) in process, on a fake Slack."""
    fake = FakeSlack().start()
    store = open_store(str(tmp_path / "l.db"), secret_key=None)
    config = Config(
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        db_path=str(tmp_path / "l.db"),
    )
    app = create_app(
        config,
        store=store,
        providers={},
        clock=SystemClock(),
        client=WebClient(base_url=fake.api_url, token=fake.bot_token),
    )
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append
    logging.getLogger("ledgerlink").addHandler(handler)
    client = httpx.Client(
        transport=httpx.WSGITransport(app=HttpApp([slack_blueprint(app, verify_requests=True)])),
        base_url="http://ledgerlink.test",
    )
    yield client, errors, fake, app
    client.close()
    logging.getLogger("ledgerlink").removeHandler(handler)
    app.deps.executor.shutdown(wait=True)
    store.close()
    fake.stop()


def test_any_signed_slack_request_is_answered_without_a_server_error(slack_endpoint):
    """Signed interaction payloads of any shape (forged, partial, wrong types) get 2xx or 4xx,
    never a 5xx, and no listener fails with an unhandled error."""
    client, errors, fake, app = slack_endpoint
    statuses: Counter[int] = Counter()

    @examples("Slack requests")
    @given(st.one_of(slack_shaped, misshapen, json_value))
    def send(data):
        if isinstance(data, dict):
            data.setdefault("response_url", fake.response_url("fuzz"))
        body = str(httpx.QueryParams({"payload": json.dumps(data)}))
        headers = signed_headers(SIGNING_SECRET, body)
        response = client.post("/slack/events", content=body.encode(), headers=headers)
        assert response.status_code < 500, (data, response.status_code, response.text)
        statuses[response.status_code] += 1

    send()
    app.deps.executor.shutdown(wait=True)  # listeners answer after the ack
    assert [record.getMessage() for record in errors] == []
    assert statuses[200] and statuses[400], statuses  # some reached the listeners, some not
