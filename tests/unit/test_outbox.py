"""The outbox's rules with an injected clock and an in-memory Slack: claims, lanes, pacing,
Retry-After, backoff, coalescing, updates waiting for their post, fallbacks and grouping."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.clock import FixedClock
from bot.config import Config
from bot.items import ItemService
from bot.notify import Notifier
from bot.outbox import GROUP_THRESHOLD, Outbox
from bot.pacing import CHANNEL, Pacer
from handlers import outbox_messages
from handlers.render import render
from store import open_store
from tests.fakes.databases import BACKENDS
from tests.sync.fakes import NOW

TEAM = "T1"


class Answer(dict):
    def __init__(self, body: dict, status: int = 200, headers: dict | None = None):
        super().__init__(body)
        self.status_code = status
        self.headers = headers or {}


class MemorySlack:
    """The Web API methods the outbox calls; `refuse(method, error, status, retry_after)`
    makes the next call of `method` fail."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self._refusals: dict[str, list[Answer]] = {}
        self._ts = itertools.count(1)

    def refuse(self, method: str, error: str, *, status: int = 200, retry_after=None):
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        answer = Answer({"ok": False, "error": error}, status, headers)
        self._refusals.setdefault(method, []).append(answer)

    def _call(self, method: str, **args):
        self.calls.append((method, args))
        if self._refusals.get(method):
            raise SlackApiError("refused", self._refusals[method].pop(0))
        if method == "conversations.open":
            return Answer({"ok": True, "channel": {"id": "D" + args["users"]}})
        return Answer({"ok": True, "ts": f"{next(self._ts)}.000100"})

    def chat_postMessage(self, **args):
        return self._call("chat.postMessage", **args)

    def chat_update(self, **args):
        return self._call("chat.update", **args)

    def views_publish(self, **args):
        return self._call("views.publish", **args)

    def conversations_open(self, **args):
        return self._call("conversations.open", **args)

    def posted(self, channel: str | None = None) -> list[dict]:
        return [
            args
            for method, args in self.calls
            if method == "chat.postMessage" and channel in (None, args["channel"])
        ]


class Clients:
    def __init__(self, slack):
        self.slack = slack

    def for_delivery(self, team_id):
        return self.slack


class Ticks:
    """A monotonic clock for the pacer, moved with the FixedClock."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def ticks():
    return Ticks()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The outbox's tests that use the store run on both backends."""
    return request.param


@pytest.fixture
def store(database_target, clock):
    s = open_store(database_target, secret_key=Fernet.generate_key().decode(), clock=clock)
    yield s
    s.close()


@pytest.fixture
def slack():
    return MemorySlack()


def make_outbox(store, slack, clock, ticks) -> Outbox:
    return Outbox(
        store,
        Clients(slack),
        clock,
        pacer=Pacer(ticks),
        render_group=outbox_messages.grouped_prompts,
        render_note=outbox_messages.with_note,
        wall=clock.now,
    )


@pytest.fixture
def outbox(store, slack, clock, ticks):
    return make_outbox(store, slack, clock, ticks)


def later(clock, ticks, seconds: float) -> None:
    clock.advance(seconds=seconds)
    ticks.now += seconds


STEP = 1 / CHANNEL.per_second  # one post's allowance in a channel: a little over a second


def message(text: str) -> dict:
    return {"text": text, "blocks": []}


def new_item(store, supplier="Fresh Produce Co", channel="C1", submitted_by="U1"):
    item, _ = store.create_item(
        team_id=TEAM,
        source="api",
        supplier_key=supplier.lower(),
        values={"supplier_name": supplier, "date": "2026-11-20", "total": "4.50"},
        channel_id=channel,
        submitted_by=submitted_by,
    )
    return store.move_item(item.id, ("received",), "needs_supplier")


def test_a_channel_gets_its_burst_then_one_a_second(outbox, slack, clock, ticks):
    """Five messages for one channel: three go at once (the burst), the rest one a second
    (a little slower: Slack must never see them early)."""
    with outbox.transaction():
        for n in range(5):
            outbox.post(TEAM, "C1", message(f"m{n}"))
    assert [p["text"] for p in slack.posted()] == ["m0", "m1", "m2"]
    later(clock, ticks, STEP - 0.01)
    assert outbox.run_once()[0] == 0
    later(clock, ticks, 0.01)
    assert outbox.run_once()[0] == 1
    later(clock, ticks, STEP)
    outbox.run_once()
    assert [p["text"] for p in slack.posted()] == ["m0", "m1", "m2", "m3", "m4"]


def test_retry_after_is_waited_out_exactly_and_order_is_kept(outbox, slack, clock, ticks):
    """A 429 with Retry-After: 5 holds the channel for exactly 5 s; what was queued after it
    in the channel waits too, then goes in order at the channel's pace; another channel is
    not held."""
    slack.refuse("chat.postMessage", "ratelimited", status=429, retry_after=5)
    with outbox.transaction():
        outbox.post(TEAM, "C1", message("first"))
        outbox.post(TEAM, "C1", message("second"))
        outbox.post(TEAM, "C2", message("elsewhere"))
    assert [p["text"] for p in slack.posted()] == ["first", "elsewhere"]
    later(clock, ticks, 4.99)
    assert outbox.run_once()[0] == 0
    later(clock, ticks, 0.01)
    outbox.run_once()
    assert [p["text"] for p in slack.posted("C1")] == ["first", "first"]
    later(clock, ticks, STEP)
    outbox.run_once()
    assert [p["text"] for p in slack.posted("C1")] == ["first", "first", "second"]


def test_server_errors_back_off_and_tokens_trouble_waits_longer(outbox, slack, clock, ticks):
    """A 503 is retried after 1 s, then 2 s; invalid_auth after 5 minutes."""
    slack.refuse("chat.postMessage", "service_unavailable", status=503)
    slack.refuse("chat.postMessage", "service_unavailable", status=503)
    outbox.post(TEAM, "C1", message("flaky"))
    later(clock, ticks, 1)
    outbox.run_once()
    later(clock, ticks, 1.9)
    assert outbox.run_once()[0] == 0
    later(clock, ticks, 0.1)
    assert outbox.run_once()[0] == 1
    assert len(slack.posted()) == 3
    slack.refuse("chat.postMessage", "invalid_auth")
    outbox.post(TEAM, "C3", message("token"))
    later(clock, ticks, 299)
    assert outbox.run_once()[0] == 0
    later(clock, ticks, 1)
    assert outbox.run_once()[0] == 1


def test_a_claimed_row_is_never_sent_by_another_sender(store, slack, clock, ticks):
    """Two senders on one database: a row one of them holds is not the other's to send."""
    first, second = (make_outbox(store, slack, clock, ticks) for _ in range(2))
    row_id = store.add_outbox(
        team_id=TEAM, method="chat.postMessage", purpose="notice", lane="chan:T1:C1",
        payload=message("once"), channel="C1",
    )  # fmt: skip
    assert store.claim_outbox(row_id, first.owner, 30) is not None
    assert second.run_once()[0] == 0 and slack.posted() == []
    assert store.claim_outbox(row_id, second.owner, 30) is None


def test_a_newer_message_replaces_a_post_not_sent_yet(store, outbox, slack, clock, ticks):
    """The item's message changes twice before Slack has it: one post, with the latest."""
    items = [new_item(store) for _ in range(4)]
    for item in items[:3]:  # use up the channel's burst
        outbox.item_message(item, message(f"prompt {item.id}"), ["C1"], prompt=True)
    item = items[3]
    outbox.item_message(item, message("prompt"), ["C1"], prompt=True)
    outbox.item_message(item, message("answered"), ["C1"])
    later(clock, ticks, STEP)
    outbox.run_once()
    assert [p["text"] for p in slack.posted()][-1] == "answered"
    assert store.item(item.id).prompt_ts


def test_an_update_waits_for_the_post_it_updates(store, outbox, slack, clock, ticks):
    """While the item's post is being sent, its update waits; then updates that message."""
    item = new_item(store)
    row_id = store.add_outbox(
        team_id=TEAM, method="chat.postMessage", purpose="prompt", lane="chan:T1:C1",
        payload=message("prompt"), channel="C1", item_id=item.id,
    )  # fmt: skip
    claimed = store.claim_outbox(row_id, "someone-else", 30)
    outbox.item_message(item, message("published"), ["C1"])
    assert slack.calls == []
    store.outbox_sent(claimed, "someone-else", channel="C1", ts="9.000100", posted=True)
    outbox.run_once()
    assert slack.calls == [
        ("chat.update", {"channel": "C1", "ts": "9.000100", "text": "published", "blocks": []})
    ]


def test_a_refused_channel_falls_back_once_with_the_reason(store, outbox, slack):
    """channel_not_found: the message goes once to the next target, saying why, and the
    item's history records the attempt; the refused channel is not tried again."""
    item = new_item(store, channel="CGONE")
    slack.refuse("chat.postMessage", "channel_not_found")
    outbox.item_message(item, message("prompt"), ["CGONE", "CNOTIFY", "@U1"], prompt=True)
    assert [p["channel"] for p in slack.posted()] == ["CGONE", "CNOTIFY"]
    assert "could not post this in <#CGONE> (channel_not_found)" in slack.posted()[1]["text"]
    assert store.item(item.id).prompt_channel == "CNOTIFY"
    history = [e["detail"] or "" for e in store.item_events(item.id)]
    assert any("channel_not_found; posting it in <#CNOTIFY> instead" in d for d in history)
    assert outbox.run_once()[0] == 0


def test_the_last_fallback_is_the_submitters_dm(store, outbox, slack):
    """Both channels refused for good: the submitter gets it by DM."""
    item = new_item(store, channel="CGONE")
    slack.refuse("chat.postMessage", "not_in_channel")
    slack.refuse("chat.postMessage", "is_archived")
    outbox.item_message(item, message("prompt"), ["CGONE", "COLD", "@U1"], prompt=True)
    assert [p["channel"] for p in slack.posted()] == ["CGONE", "COLD", "DU1"]


def test_a_burst_of_prompts_becomes_one_grouped_message(store, outbox, slack, clock, ticks):
    """More than a handful of prompts waiting for one channel are listed in one message with
    an Open button each; answering one updates that message."""
    items = [new_item(store, supplier=f"Supplier {n}") for n in range(GROUP_THRESHOLD + 4)]
    with outbox.transaction():
        for item in items:
            outbox.item_message(item, message(f"prompt {item.id}"), ["C1"], prompt=True)
    [group] = slack.posted()
    buttons = [b["accessory"]["value"] for b in group["blocks"] if "accessory" in b]
    assert buttons == [str(item.id) for item in items]
    assert store.item(items[0].id).prompt_ts is None  # listed, not posted on its own
    answered = store.move_item(items[5].id, ("needs_supplier",), "discarded")
    outbox.item_message(answered, message("discarded"), ["C1"])
    method, update = slack.calls[-1]
    assert method == "chat.update" and update["ts"] == "1.000100"
    assert f"#{items[5].id} · *Supplier 5*" in str(update["blocks"])
    assert ":wastebasket: discarded" in str(update["blocks"])
    assert update["text"].startswith(f":exclamation: {len(items) - 1} of {len(items)} items")
    assert [p["text"] for p in slack.posted()] == [group["text"]]  # no flood of prompts


def test_a_handful_of_prompts_keep_their_own_messages(store, outbox, slack, clock, ticks):
    """Up to the threshold, each prompt is its own message, as before."""
    items = [new_item(store, supplier=f"Supplier {n}") for n in range(GROUP_THRESHOLD)]
    with outbox.transaction():
        for item in items:
            outbox.item_message(item, message(f"prompt {item.id}"), ["C1"], prompt=True)
    later(clock, ticks, STEP)
    outbox.run_once()
    later(clock, ticks, STEP)
    outbox.run_once()
    assert [p["text"] for p in slack.posted()] == [f"prompt {item.id}" for item in items]


def test_the_pacer_holds_a_key_for_a_retry_after(ticks):
    """After `hold`, no call under the key until the time has passed."""
    pacer = Pacer(ticks)
    pacer.hold(TEAM, "channel:C1", 5)
    assert pacer.wait(TEAM, "channel:C1") == pytest.approx(5)
    ticks.now += 5
    assert pacer.take(TEAM, "channel:C1")
    assert pacer.take(TEAM, "channel:C2")


def test_a_row_gives_up_after_a_day(store, outbox, slack, clock, ticks):
    """A message Slack keeps failing (5xx) is retried for a day, then marked failed."""
    for _ in range(40):
        slack.refuse("chat.postMessage", "internal_error", status=500)
    outbox.post(TEAM, "C1", message("doomed"))
    for _ in range(30):
        later(clock, ticks, 3600)
        outbox.run_once()
    summary = store.outbox_summary(TEAM, failed_since=NOW - timedelta(days=1))
    assert (summary["waiting"], summary["failed"]) == (0, 1)


def test_a_grouped_prompt_nobody_answered_is_reminded_in_the_groups_thread(
    store, outbox, slack, clock, ticks
):
    """A day after a burst, each grouped item nobody answered is reminded once, in the
    grouped message's thread and by DM to its submitter."""
    service = ItemService(
        config=Config(),
        store=store,
        providers={},
        clock=clock,
        notifier=Notifier(outbox, store, render=render),
        executor=None,
    )
    items = [new_item(store, supplier=f"Supplier {n}") for n in range(GROUP_THRESHOLD + 1)]
    with outbox.transaction():
        for item in items:
            outbox.item_message(item, message(f"prompt {item.id}"), ["C1"], prompt=True)
    assert len(slack.posted()) == 1  # the grouped message
    later(clock, ticks, 25 * 3600)
    assert service.remind_prompts(clock.now()) == len(items)
    assert service.remind_prompts(clock.now()) == 0
    later(clock, ticks, 60)
    outbox.run_once()
    replies = [p for p in slack.posted("C1") if p.get("thread_ts")]
    assert len(replies) == len(items) and {p["thread_ts"] for p in replies} == {"1.000100"}
    assert len(slack.posted("DU1")) == len(items)
    assert "prompt" not in str(slack.posted()[1:])  # reminders, not the prompts again


def test_the_app_home_counts_what_waits_and_what_slack_refused(store, outbox, slack):
    """The App Home line: messages waiting with Slack's last error, and refusals of the day."""
    slack.refuse("chat.postMessage", "invalid_auth")
    slack.refuse("chat.postMessage", "msg_too_long")
    outbox.post(TEAM, "C1", message("waits"))
    outbox.post(TEAM, "C2", message("refused"))
    summary = store.outbox_summary(TEAM, failed_since=NOW - timedelta(days=1))
    assert summary == {
        "waiting": 1,
        "waiting_reasons": {"invalid_auth": 1},
        "failed": 1,
        "failed_reasons": {"msg_too_long": 1},
    }
    [block] = outbox_messages.home_queue(summary)
    Block.parse(block).validate_json()
    text = block["elements"][0]["text"]
    assert "1 message(s) waiting to be delivered (last errors: 1 invalid_auth)" in text
    assert "1 message(s) Slack refused today: 1 msg_too_long" in text
    assert outbox_messages.home_queue(store.outbox_summary("T9", failed_since=NOW)) == [
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": ":outbox_tray: Every message has been delivered."}
            ],
        }
    ]


def test_grouped_messages_are_valid_block_kit_and_escape_user_text(store):
    """A full grouped message (40 items, hostile names) is valid Block Kit, within Slack's 50
    blocks, and the names are escaped."""
    items = [new_item(store, supplier=f"<!channel> & Co {n}") for n in range(40)]
    rendered = outbox_messages.grouped_prompts(None, items)
    assert len(rendered["blocks"]) <= 50
    for block in rendered["blocks"]:
        Block.parse(block).validate_json()
    assert "<!channel>" not in json.dumps(rendered) and "&lt;!channel&gt; &amp; Co 0" in str(
        rendered["blocks"]
    )
