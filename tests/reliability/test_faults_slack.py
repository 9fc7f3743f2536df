"""Slack Web API faults while posting supplier prompts and reminders: rate limits and 5xx are
retried, missing channels and revoked tokens are reported, and the item is never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import STAFF
from tests.reliability.stack import blocks_of, wait_until

pytestmark = pytest.mark.e2e


def prompts_for(stack, item_id: int) -> list:
    return [
        call
        for call in stack.slack.calls_to("chat.postMessage")
        if "is not a supplier" in call.args.get("text", "")
        and f"Item #{item_id} " in str(blocks_of(call.args))
    ]


def stored(stack, item_id: int) -> tuple:
    [row] = stack.rows(
        "SELECT status, supplier_name, total, prompt_channel, prompt_ts FROM items WHERE id = ?",
        (item_id,),
    )
    return row


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 1), (500, None), (503, None)], ids=["429", "500", "503"]
)
def test_rate_limit_and_server_errors_are_retried(stack, status, retry_after):
    """A 429 with Retry-After, or a 5xx, on the prompt's chat.postMessage is retried by the
    outbox: the prompt is posted once and the item waits for its answer."""
    stack.slack.fail_next(
        "chat.postMessage", status=status, error="ratelimited", retry_after=retry_after
    )
    item = stack.post_item(supplier=f"Slack Flake {status}", submitted_by=STAFF).json()
    assert item["status"] == "needs_supplier"
    wait_until(lambda: stored(stack, item["id"])[4], "the prompt's ts to be recorded")
    assert len(prompts_for(stack, item["id"])) == 2  # the failure, then the retry
    status_now, _, _, channel, ts = stored(stack, item["id"])
    assert (status_now, channel) == ("needs_supplier", "C0001") and ts


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_missing_channel_falls_back_and_is_reported(stack, error):
    """When the item's channel is gone (or the app is not in it) the prompt goes to the
    workspace's notification channel instead, and the item's history says why."""
    stack.slack.fail_next("chat.postMessage", error=error)
    item = stack.post_item(supplier=f"Lost Channel {error}", channel="CGONE0001").json()
    assert item["status"] == "needs_supplier"
    wait_until(lambda: stored(stack, item["id"])[4], "the fallback prompt's ts to be recorded")
    tried = [call.args["channel"] for call in prompts_for(stack, item["id"])]
    assert tried == ["CGONE0001", "C0001"]
    assert stored(stack, item["id"])[3] == "C0001"
    shown = stack.item(item["id"])
    assert shown["status"] == "needs_supplier" and shown["supplier"] == f"Lost Channel {error}"
    assert any(error in (event["detail"] or "") for event in shown["history"]), shown


def test_revoked_slack_token_keeps_the_item_and_reposts_later(stack):
    """With Slack refusing the bot token (invalid_auth) nothing can be posted: the item keeps
    its status and data in the database and the API, its history says so, and the prompt is
    posted by a later tick once Slack accepts the token again."""
    stack.slack.fail_next("chat.postMessage", error="invalid_auth")
    response = stack.post_item(supplier="Token Trouble Traders", total="77.70")
    assert response.status_code == 201
    item = response.json()
    wait_until(
        lambda: any(
            "invalid_auth" in (event["detail"] or "") for event in stack.item(item["id"])["history"]
        ),
        "the refused post in the item's history",
    )
    assert len(prompts_for(stack, item["id"])) == 1
    status, supplier, total, channel, ts = stored(stack, item["id"])
    assert (status, supplier, total, channel, ts) == (
        "needs_supplier",
        "Token Trouble Traders",
        "77.70",
        None,
        None,
    )
    shown = stack.item(item["id"])
    assert shown["status"] == "needs_supplier" and shown["total"] == "77.70"
    assert any("invalid_auth" in (event["detail"] or "") for event in shown["history"])
    stack.tick(datetime.now(UTC) + timedelta(minutes=10))
    assert len(prompts_for(stack, item["id"])) == 2
    assert stored(stack, item["id"])[3:] != (None, None)
    stack.tick(datetime.now(UTC) + timedelta(minutes=20))
    assert len(prompts_for(stack, item["id"])) == 2


def test_reminder_rate_limited_is_retried(stack):
    """A prompt reminder that meets a 429 is retried with the same message and delivered in
    the prompt's thread; the item keeps waiting for its answer."""
    item = stack.post_item(supplier="Reminder Rate Ltd", submitted_by=STAFF).json()
    wait_until(lambda: stored(stack, item["id"])[4], "the prompt")
    before = len(stack.slack.calls_to("chat.postMessage"))
    stack.slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    stack.tick(datetime.now(UTC) + timedelta(hours=25))
    posted = stack.slack.calls_to("chat.postMessage")[before:]
    [refused] = [call for call in posted if call.refused]
    retried = [c for c in posted if c.args == refused.args and c.at > refused.at]
    assert len(retried) == 1 and not retried[0].refused  # the same message, once more
    assert retried[0].at - refused.at >= 1.0  # not before its Retry-After
    assert [
        call
        for call in posted
        if f"Item #{item['id']} from" in call.args.get("text", "") and call.args.get("thread_ts")
    ]
    assert stack.item(item["id"])["status"] == "needs_supplier"
