"""The outbox end to end: `ledgerlink serve` against a fake Slack that paces like Slack (about
one post a second per channel; faster ones get 429 with Retry-After). Bursts read as one
grouped message, Retry-After is waited out, a SIGKILL loses nothing and sends nothing twice,
a refused channel falls back once, and two processes share one outbox."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import STAFF
from tests.e2e.chat import button, click_of, db_rows
from tests.e2e.test_items_e2e import post_item, wait_until
from tests.e2e.test_items_e2e import workspace as connected  # noqa: F401 (the items tests' fixture)
from tests.fakes.databases import both_backends, database_for

pytestmark = pytest.mark.e2e

OWN_PROMPT = re.compile(r"Item #(\d+) ·")


def blocks_text(call) -> str:
    blocks = call.args.get("blocks") or []
    return json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks, ensure_ascii=False)


def landed(fake, methods=("chat.postMessage", "chat.update")):
    return [c for c in fake.calls if c.method in methods and c.refused is None]


def own_prompts(fake) -> dict[int, int]:
    """Item id -> how many of its own supplier prompts Slack accepted."""
    counts: dict[int, int] = {}
    for call in landed(fake, ("chat.postMessage",)):
        if "is not a supplier" in call.args.get("text", ""):
            for found in set(OWN_PROMPT.findall(blocks_text(call))):
                counts[int(found)] = counts.get(int(found), 0) + 1
    return counts


def grouped(fake) -> set[int]:
    """Items listed with an Open button in a grouped message Slack accepted."""
    seen = set()
    for call in landed(fake):
        if "item_open_prompt" in blocks_text(call):
            for block in json.loads(blocks_text(call)):
                if block.get("accessory", {}).get("action_id") == "item_open_prompt":
                    seen.add(int(block["accessory"]["value"]))
    return seen


def history_of(chat, item_id: int) -> list[str]:
    rows = database_for(chat.server.env).rows(
        "SELECT detail FROM item_events WHERE item_id = ?", (item_id,)
    )
    return [detail or "" for (detail,) in rows]


def visible(fake) -> set[int]:
    return set(own_prompts(fake)) | grouped(fake)


def burst(chat, token, count: int, *, channels=("C0001",), label="Burst") -> list[int]:
    def one(n):
        response = post_item(
            chat,
            token,
            supplier=f"{label} Supplier {n:03d}",
            total=f"{10 + n}.00",
            reference=f"{label[:3].upper()}-{n}",
            channel=channels[n % len(channels)],
            submitted_by=STAFF,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(one, range(count)))


def test_a_burst_of_30_prompts_is_visible_within_35_seconds(connected, fake_slack):  # noqa: F811
    """30 new-supplier items at once into one channel, with Slack pacing: every item is
    visible (its own prompt, or a line in a grouped message with an Open button) within
    35 s, fewer than 30 messages were posted, and nothing was retried before Retry-After."""
    chat, token = connected
    fake_slack.pace()
    started = time.monotonic()
    ids = burst(chat, token, 30)
    wait_until(lambda: set(ids) <= visible(fake_slack), "all 30 items visible", timeout=35)
    assert time.monotonic() - started < 35
    posts = [c for c in landed(fake_slack, ("chat.postMessage",)) if c.args["channel"] == "C0001"]
    assert len(posts) < 30
    assert grouped(fake_slack)  # the burst was grouped
    assert fake_slack.early_retries == 0
    assert max(own_prompts(fake_slack).values()) == 1


def test_open_posts_the_grouped_items_prompt_in_the_thread(connected, fake_slack):  # noqa: F811
    """A grouped item's Open button posts its own prompt (with its buttons) in the grouped
    message's thread, once; answering it there marks it answered in the grouped message."""
    chat, token = connected
    ids = burst(chat, token, 12, label="Opened")
    wait_until(lambda: set(ids) <= visible(fake_slack), "every item visible")
    target = min(grouped(fake_slack) & set(ids))
    [(group_ts,)] = db_rows(chat.server.env, "SELECT ts FROM message_groups")
    chat.click(
        click_of({"action_id": "item_open_prompt", "type": "button", "value": str(target)}),
        user=STAFF,
        wait=False,
    )
    wait_until(lambda: target in own_prompts(fake_slack), "the opened prompt")
    [prompt] = [
        c
        for c in landed(fake_slack, ("chat.postMessage",))
        if f"Item #{target} ·" in blocks_text(c)
    ]
    assert (prompt.args["channel"], prompt.args["thread_ts"]) == ("C0001", group_ts)
    again = chat.click(
        click_of({"action_id": "item_open_prompt", "type": "button", "value": str(target)}),
        user=STAFF,
    )
    assert "is in the thread" in again["text"]
    assert own_prompts(fake_slack)[target] == 1
    create = button({"blocks": json.loads(blocks_text(prompt))}, "item_create_supplier")
    chat.click(click_of(create), user=STAFF, wait=False)

    def marked(fake):
        return [
            c
            for c in landed(fake, ("chat.update",))
            if c.args.get("ts") == group_ts
            and re.search(rf"#{target} · .*published", blocks_text(c))
        ]

    fake_slack.wait_for(marked, timeout=20)


def test_a_429_with_retry_after_5_is_waited_out(connected, fake_slack):  # noqa: F811
    """Slack answers the prompt's post with 429 and Retry-After: 5: nothing is posted to that
    channel for 5 s, then the prompt lands, once."""
    chat, token = connected
    fake_slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=5)
    [item] = burst(chat, token, 1, label="Patient")
    wait_until(lambda: item in own_prompts(fake_slack), "the prompt", timeout=20)
    [refused] = [c for c in fake_slack.calls_to("chat.postMessage") if c.refused]
    after = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.args["channel"] == "C0001" and c.at > refused.at
    ]
    assert after[0].at - refused.at >= 5.0
    assert after[0].at - refused.at < 8.0  # and not much later
    assert own_prompts(fake_slack)[item] == 1
    history = history_of(chat, item)
    assert any("Slack asked to wait 5 s" in (d or "") for d in history)


@both_backends
def test_sigkill_with_messages_queued_loses_none_and_sends_none_twice(
    connected,  # noqa: F811
    fake_slack,
    serve,
    provider_env,
):
    """Slack fails the first posts (500) so messages are queued when the server is killed
    with SIGKILL; after a restart every item is visible and none was posted twice."""
    chat, token = connected
    fake_slack.pace()
    for _ in range(12):
        fake_slack.fail_next("chat.postMessage", status=500, error="internal_error")
    ids = burst(chat, token, 20, channels=("C0001", "C0002", "C0003", "C0004"), label="Killed")
    queued = db_rows(chat.server.env, "SELECT count(*) FROM outbox WHERE state = 'queued'")[0][0]
    assert queued > 0
    chat.server.process.kill()
    chat.server.process.wait()
    serve(**provider_env)
    wait_until(lambda: set(ids) <= visible(fake_slack), "every item visible", timeout=60)
    appearances = own_prompts(fake_slack)
    for item_id in grouped(fake_slack):
        appearances[item_id] = appearances.get(item_id, 0) + 1
    assert all(appearances[i] == 1 for i in ids), appearances
    wait_until(
        lambda: not db_rows(chat.server.env, "SELECT id FROM outbox WHERE state = 'queued'"),
        "an empty outbox",
    )


@both_backends
def test_two_processes_share_one_outbox_without_duplicates(
    connected,  # noqa: F811
    fake_slack,
    serve,
    provider_env,
):
    """Two `serve` processes on one database, items arriving at both: every item is visible
    and each appears in exactly one posted message."""
    chat, token = connected
    second = serve(**provider_env)
    fake_slack.pace()
    servers = [chat.server, second]

    def one(n):
        response = httpx.post(
            f"{servers[n % 2].url}/api/items",
            json={
                "supplier": f"Shared Supplier {n:03d}",
                "date": "2026-11-20",
                "total": f"{20 + n}.00",
                "channel": ("C0001", "C0002", "C0003")[n % 3],
                "submitted_by": STAFF,
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(one, range(24)))
    wait_until(lambda: set(ids) <= visible(fake_slack), "every item visible", timeout=45)
    posts = Counter()
    for call in landed(fake_slack, ("chat.postMessage",)):
        text = blocks_text(call)
        found = (
            {int(i) for i in OWN_PROMPT.findall(text)}
            if "is not a supplier" in call.args.get("text", "")
            else set()
        )
        found |= {
            int(b["accessory"]["value"])
            for b in json.loads(text)
            if b.get("accessory", {}).get("action_id") == "item_open_prompt"
        }
        posts.update(found)
    assert all(posts[i] == 1 for i in ids), posts


def test_a_refused_channel_falls_back_once_and_history_says_so(connected, fake_slack):  # noqa: F811
    """A prompt for an archived channel is posted once in the connection's channel with the
    reason, the archived channel is not tried again, and the item's history records both."""
    chat, token = connected
    fake_slack.fail_next("chat.postMessage", error="is_archived")
    response = post_item(chat, token, supplier="Archive Supplies", channel="CARCHIVE1")
    item = response.json()["id"]
    wait_until(lambda: item in own_prompts(fake_slack), "the fallback prompt")
    tried = [
        c.args["channel"]
        for c in fake_slack.calls_to("chat.postMessage")
        if f"Item #{item} ·" in blocks_text(c)
    ]
    assert tried == ["CARCHIVE1", "C0001"]
    [fallback] = [
        c for c in landed(fake_slack, ("chat.postMessage",)) if f"Item #{item} ·" in blocks_text(c)
    ]
    assert "could not post this in <#CARCHIVE1> (is_archived)" in blocks_text(fallback)
    history = history_of(chat, item)
    assert any("is_archived; posting it in <#C0001> instead" in (d or "") for d in history)
