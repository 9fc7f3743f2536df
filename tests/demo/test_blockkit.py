"""The playground's Block Kit renderer: each element ledgerlink uses, mrkdwn, and every kind of
message, form and tab the app sends, drawn without an "unsupported" box."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.matching import Candidate
from handlers import connection_messages, item_messages, messages, sync_messages
from playground import blockkit
from playground.blockkit import Context, mrkdwn
from store.workspaces import Settings
from tests.fakes.records import connection, item

ROOT = Path(__file__).resolve().parents[2]
CTX = Context(users={"U1": "Alex Admin", "U2": "Sam Staff"}, channels={"C1": "accounts"})
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def render(*blocks: dict, surface: str = "message", errors=None) -> str:
    return blockkit.blocks(list(blocks), CTX, surface=surface, errors=errors)


# -- mrkdwn -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* and _italic_ and ~gone~", "<b>bold</b> and <i>italic</i> and <s>gone</s>"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("2*3*4 is not bold", "2*3*4 is not bold"),
        ("`/integrations help`", "<code>/integrations help</code>"),
        ("```a *b*\nc```", "<pre>a *b*\nc</pre>"),
        ("line one\nline two", "line one<br>line two"),
        ("&gt; quoted\nafter", "<blockquote>quoted</blockquote>after"),
        (":white_check_mark: done :no_such_emoji:", "✅ done :no_such_emoji:"),
        ("Fish &amp; Chips &lt;Ltd&gt;", "Fish &amp; Chips &lt;Ltd&gt;"),
    ],
)
def test_mrkdwn_formatting(text, html):
    """Bold, italic, strike, code, code blocks, line breaks, quotes, emoji and Slack's escapes
    become the HTML Slack would show."""
    assert mrkdwn(text, CTX) == html


def test_mentions_and_links():
    """User, channel and special mentions show names; links open in a new tab."""
    html = mrkdwn("<@U1> in <#C1> <!here> see <https://example.org/a?b=1&amp;c=2|the docs>", CTX)
    assert '<span class="bk-mention">@Alex Admin</span>' in html
    assert '<span class="bk-mention">#accounts</span>' in html
    assert '<span class="bk-mention">@here</span>' in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer">the docs</a>'
    ) in html


def test_user_text_cannot_inject_html_or_script_links():
    """Markup in the text is shown as text, and only http(s)/mailto targets become links."""
    html = mrkdwn('<javascript:alert(1)|click> &lt;img src=x onerror="x"&gt; <b>', CTX)
    assert html == 'click &lt;img src=x onerror="x"&gt; b'  # text content, not markup


def test_plain_text_is_escaped_and_shows_emoji():
    """plain_text objects are escaped literally, with :emoji: codes drawn."""
    shown = blockkit.text_object(
        {"type": "plain_text", "text": "<b>*x* :warning:", "emoji": True}, CTX
    )
    assert shown == "&lt;b&gt;*x* ⚠️"


def test_every_emoji_the_app_uses_is_drawn():
    """Each :emoji: code in the handlers has a picture in the renderer's table."""
    used = set()
    for source in (ROOT / "handlers").glob("*.py"):
        used |= set(re.findall(r":([a-z_]+):", source.read_text()))
    assert used and used <= set(blockkit.EMOJI)


# -- blocks ------------------------------------------------------------------------------------


def test_section_with_fields_and_an_accessory():
    """A section shows its mrkdwn text, its fields in a grid and its accessory beside it."""
    html = render(
        {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "mrkdwn", "text": "*Status*"},
            "fields": [{"type": "mrkdwn", "text": "a"}, {"type": "plain_text", "text": "b"}],
            "accessory": {
                "type": "button",
                "action_id": "go",
                "text": {"type": "plain_text", "text": "Go"},
            },
        }
    )
    assert '<div class="bk-text"><b>Status</b></div>' in html
    assert '<div class="bk-fields"><div>a</div><div>b</div></div>' in html
    assert '<div class="bk-accessory"><button' in html and 'data-action-id="go"' in html


def test_context_header_and_divider():
    """Context is small print, headers are headings, dividers are rules."""
    html = render(
        {"type": "header", "text": {"type": "plain_text", "text": "ledgerlink"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Item #1 · _draft_"}]},
        {"type": "divider"},
    )
    assert "<h3>ledgerlink</h3>" in html
    assert '<div class="bk-block bk-context"><span>Item #1 · <i>draft</i></span></div>' in html
    assert "<hr>" in html


def test_buttons_with_styles_links_and_confirm_dialogs():
    """Buttons carry their block and action ids, primary/danger styles, a link target, and a
    confirm dialog with its title, mrkdwn text and both answers."""
    html = render(
        {
            "type": "actions",
            "block_id": "b1",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ok",
                    "style": "primary",
                    "value": "1",
                    "text": {"type": "plain_text", "text": "Create"},
                },
                {
                    "type": "button",
                    "action_id": "link",
                    "url": "https://sandbox.test/a?b=1&c=2",
                    "text": {"type": "plain_text", "text": "Connect"},
                },
                {
                    "type": "button",
                    "action_id": "bye",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Disconnect"},
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "mrkdwn", "text": "It *stops*."},
                        "confirm": {"type": "plain_text", "text": "Disconnect"},
                        "deny": {"type": "plain_text", "text": "Keep"},
                        "style": "danger",
                    },
                },
            ],
        }
    )
    assert 'class="bk-button bk-primary" data-block-id="b1" data-action-id="ok"' in html
    assert 'data-url="https://sandbox.test/a?b=1&amp;c=2">Connect ↗</button>' in html
    assert 'class="bk-button bk-danger" data-block-id="b1" data-action-id="bye"' in html
    dialog = html.split('<template class="bk-confirm">', 1)[1]
    assert "Sure?" in dialog and "It <b>stops</b>." in dialog
    assert "data-deny>Keep</button>" in dialog
    assert 'class="bk-button bk-danger" data-confirm>Disconnect</button>' in dialog


def test_static_select_with_options_groups_and_an_initial_option():
    """Static selects list their options (or groups) with the initial one chosen."""
    option = lambda text, value: {"text": {"type": "plain_text", "text": text}, "value": value}  # noqa: E731
    html = render(
        {
            "type": "actions",
            "block_id": "p",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "org",
                    "options": [option("A", "1"), option("B", "2")],
                    "initial_option": option("B", "2"),
                    "placeholder": {"type": "plain_text", "text": "Pick"},
                },
                {
                    "type": "static_select",
                    "action_id": "grouped",
                    "option_groups": [
                        {
                            "label": {"type": "plain_text", "text": "Expenses"},
                            "options": [option("429 General", "429")],
                        }
                    ],
                },
            ],
        }
    )
    assert '<option value="" disabled>Pick</option>' in html
    assert '<option value="2" selected>B</option>' in html
    assert '<optgroup label="Expenses"><option value="429">429 General</option></optgroup>' in html


def test_external_and_conversation_selects():
    """External selects are search boxes with their minimum query length; conversation
    selects list the workspace's channels with the initial one chosen."""
    html = render(
        {
            "type": "actions",
            "block_id": "pick_7",
            "elements": [
                {
                    "type": "external_select",
                    "action_id": "search",
                    "min_query_length": 1,
                    "placeholder": {"type": "plain_text", "text": "Search all suppliers"},
                },
                {"type": "conversations_select", "action_id": "ch", "initial_conversation": "C1"},
            ],
        }
    )
    assert 'class="bk-external" data-block-id="pick_7" data-action-id="search"' in html
    assert 'data-min-query="1"' in html and 'placeholder="Search all suppliers"' in html
    assert '<option value="C1" selected>#accounts</option>' in html


def test_input_blocks_with_labels_hints_optional_and_errors():
    """Inputs show their label, "(optional)", hint and a field error; text inputs keep their
    initial value and limits; date pickers and checkboxes show their initial state."""
    html = render(
        {
            "type": "input",
            "block_id": "total",
            "label": {"type": "plain_text", "text": "Total"},
            "hint": {"type": "plain_text", "text": "Including tax"},
            "element": {
                "type": "plain_text_input",
                "action_id": "t",
                "initial_value": "12.50",
                "max_length": 20,
            },
        },
        {
            "type": "input",
            "block_id": "desc",
            "optional": True,
            "label": {"type": "plain_text", "text": "Description"},
            "element": {"type": "plain_text_input", "action_id": "d", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "when",
            "label": {"type": "plain_text", "text": "Date"},
            "element": {"type": "datepicker", "action_id": "w", "initial_date": "2026-11-26"},
        },
        {
            "type": "input",
            "block_id": "warn",
            "label": {"type": "plain_text", "text": "New suppliers"},
            "element": {
                "type": "checkboxes",
                "action_id": "c",
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Warn me"},
                        "value": "on",
                        "description": {"type": "plain_text", "text": "Ask first"},
                    }
                ],
                "initial_options": [
                    {"text": {"type": "plain_text", "text": "Warn me"}, "value": "on"}
                ],
            },
        },
        surface="modal",
        errors={"total": "not an amount: 'lots'"},
    )
    assert 'class="bk-block bk-input-block bk-invalid" data-block-id="total"' in html
    assert '<div class="bk-error" role="alert">not an amount: &#x27;lots&#x27;</div>' in html
    assert '<div class="bk-hint">Including tax</div>' in html
    assert 'value="12.50"' in html and 'maxlength="20"' in html
    assert 'Description <span class="bk-optional">(optional)</span>' in html
    assert '<textarea class="bk-input" rows="3"' in html
    assert '<input type="date" class="bk-input"' in html and 'value="2026-11-26"' in html
    assert (
        'type="checkbox" name="c" value="on" checked' in html and "<small>Ask first</small>" in html
    )


def test_unknown_blocks_and_elements_are_visible_not_dropped():
    """A block or element the renderer does not know is shown as an "unsupported" box."""
    html = render({"type": "video"}, {"type": "actions", "elements": [{"type": "timepicker"}]})
    assert html.count("bk-unsupported") == 2


def test_modal_and_home():
    """A modal shows its title, blocks, general error and Cancel/Submit; the Home tab its blocks."""
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Submit a receipt"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    html = blockkit.modal(view, CTX, view_id="V1", errors={"_": "We had some trouble"})
    assert 'data-view-id="V1"' in html and "Submit a receipt" in html
    assert "data-view-close>Cancel</button>" in html and "data-view-submit>Submit</button>" in html
    assert "We had some trouble" in html
    home = blockkit.home({"type": "home", "blocks": view["blocks"]}, CTX, view_id="V2")
    assert 'class="bk-home" data-view-id="V2"' in home and "hi" in home


# -- everything the app sends ------------------------------------------------------------------


def app_messages() -> dict[str, dict]:
    """One of each message, form and tab ledgerlink sends, built by the app's own builders."""
    grant = SimpleNamespace(id="g1", tenants=[SimpleNamespace(name="A"), SimpleNamespace(name="B")])
    candidates = [Candidate(f"s{i}", f"Supplier {i}", 90 - i) for i in range(8)]
    accounts = [("429", "General Expenses"), ("453", "Office Expenses")]
    outcome = SimpleNamespace(ok=True, seconds=1.2, counts={}, error=None, full=False, result="ok")
    return {
        "help": messages.help_message(),
        "overview": messages.overview_message(None, NOW),
        "status": messages.status_message(connection(), NOW),
        "login link": connection_messages.login_link(
            "sandbox", "https://s.test/oauth/authorize", purpose="connect"
        ),
        "choose organisation": connection_messages.choose_tenant(grant, "sandbox"),
        "confirm switch": connection_messages.confirm_tenant_switch(grant, "A", "B"),
        "connected": connection_messages.connected(connection()),
        "already connected": connection_messages.already_connected(
            connection(), "xero", NOW, can_switch=True
        ),
        "disconnect": connection_messages.disconnect_prompt(connection()),
        "settings": connection_messages.settings_view(
            Settings(notification_channel="C1"),
            accounts=accounts,
            bill_statuses=("DRAFT", "AUTHORISED"),
            editable=True,
        ),
        "settings read-only": connection_messages.settings_view(
            Settings(), accounts=accounts, bill_statuses=("DRAFT",), editable=False
        ),
        "home (admin)": connection_messages.home_view(
            connection=connection(), now=NOW, is_admin=True, configured=("sandbox",)
        ),
        "home (staff, not connected)": connection_messages.home_view(
            connection=None, now=NOW, is_admin=False, configured=("sandbox",)
        ),
        "supplier prompt": item_messages.supplier_prompt(
            item(), "Harbour Lane Café Ltd", candidates
        ),
        "published": item_messages.published(
            item(status="published", resolution="chosen", resolved_by="U1"), "sandbox"
        ),
        "publish error": item_messages.publish_error(item(status="failed"), "Line 1: no account"),
        "expired": item_messages.connection_expired(
            item(status="held"), connection(status="expired")
        ),
        "duplicate": item_messages.duplicate(item(status="held"), item(id=3)),
        "form": item_messages.item_form(metadata="C1", accounts=accounts, today=date(2026, 11, 26)),
        "form, many accounts": item_messages.item_form(
            metadata="C1",
            accounts=[(str(n), f"Account {n}") for n in range(150)],
            today=date(2026, 11, 26),
        ),
        "refreshing": sync_messages.refreshing(connection(), full=False),
        "refreshed": sync_messages.refresh_outcome(connection(), outcome),
        "expired notice": sync_messages.connection_expired_notice(connection(status="expired")),
        "reminder": sync_messages.expiry_reminder(connection(), NOW),
    }


@pytest.mark.parametrize(("name", "payload"), list(app_messages().items()))
def test_every_message_the_app_sends_renders_fully(name, payload):
    """Each message, form and tab the app builds is drawn with no unsupported part, and every
    interactive element it has is clickable by its block and action id."""
    if payload.get("type") == "modal":
        html = blockkit.modal(payload, CTX, view_id="V1")
    elif payload.get("type") == "home":
        html = blockkit.home(payload, CTX, view_id="V1")
    else:
        html = blockkit.message_body(payload["text"], payload["blocks"], CTX)
    assert "bk-unsupported" not in html
    blocks = payload["blocks"]
    action_ids = set()
    for block in blocks:
        elements = [*block.get("elements", []), block.get("element"), block.get("accessory")]
        action_ids |= {e["action_id"] for e in elements if e and e.get("action_id")}
    for action_id in action_ids:
        assert f'data-action-id="{action_id}"' in html, action_id
