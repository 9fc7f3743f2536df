"""The fake Slack refuses what Slack refuses, so a malformed message fails the test that sent
it instead of passing unseen."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack import FakeSlack

TOO_LONG = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "fine"}}


@pytest.fixture(scope="module")
def _shared_slack():
    fake = FakeSlack().start()
    fake.add_user("UADMIN", admin=True)
    yield fake
    fake.stop()


@pytest.fixture
def fake_slack(_shared_slack):
    """One fake for the module (stopping one takes half a second)."""
    _shared_slack.refused.clear()
    return _shared_slack


@pytest.fixture
def client(fake_slack):
    return WebClient(base_url=fake_slack.api_url, token=fake_slack.bot_token)


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


def test_messages_with_invalid_blocks_are_refused(client, fake_slack):
    """A section over 3,000 characters, or more than 50 blocks, is `invalid_blocks` for
    postMessage, postEphemeral and update; a message with neither text nor blocks is
    `no_text`; and the fake remembers each refusal for the end-of-test check."""
    posted = client.chat_postMessage(channel="C0001", text="ok", blocks=[SECTION])
    assert posted["ok"]

    assert error_of(
        lambda: client.chat_postMessage(channel="C0001", text="t", blocks=[TOO_LONG])
    ) == ("invalid_blocks")
    assert error_of(
        lambda: client.chat_postMessage(channel="C0001", text="t", blocks=[SECTION] * 51)
    ) == ("invalid_blocks")
    assert error_of(
        lambda: client.chat_postEphemeral(
            channel="C0001", user="UADMIN", text="t", blocks=[TOO_LONG]
        )
    ) == ("invalid_blocks")
    assert error_of(
        lambda: client.chat_update(channel="C0001", ts=posted["ts"], text="t", blocks=[TOO_LONG])
    ) == ("invalid_blocks")
    empty = httpx.post(
        f"{fake_slack.api_url}chat.postMessage",
        json={"channel": "C0001"},
        headers={"Authorization": f"Bearer {fake_slack.bot_token}"},
    )
    assert empty.json() == {"ok": False, "error": "no_text"}
    with pytest.raises(AssertionError, match="Slack refused what the app built"):
        fake_slack.assert_nothing_malformed()


def test_views_with_invalid_blocks_are_refused(client, fake_slack):
    """A modal whose title is over 24 characters, or with an invalid block, is refused with
    `invalid_arguments`, as Slack refuses it."""
    title = {"type": "plain_text", "text": "t"}
    good = {"type": "modal", "title": title, "blocks": [SECTION]}
    assert client.views_publish(user_id="UADMIN", view={**good, "type": "home"})["ok"]

    long_title = {**good, "title": {"type": "plain_text", "text": "x" * 25}}
    assert error_of(lambda: client.views_open(trigger_id="1.2", view=long_title)) == (
        "invalid_arguments"
    )
    bad_block = {**good, "blocks": [TOO_LONG]}
    assert error_of(lambda: client.views_update(view_id="V1", view=bad_block)) == (
        "invalid_arguments"
    )
    fake_slack.refused.clear()


def test_response_url_refuses_invalid_blocks(fake_slack):
    """A response URL answers 400 `invalid_blocks` to a malformed message and 200 to a good
    one."""
    url = fake_slack.response_url("r9")
    bad = httpx.post(url, json={"text": "t", "blocks": [TOO_LONG]})
    good = httpx.post(url, json={"text": "t", "blocks": [SECTION]})
    assert (bad.status_code, bad.text) == (400, "invalid_blocks")
    assert (good.status_code, good.text) == (200, "ok")
    fake_slack.refused.clear()


def test_update_needs_a_message_the_app_posted(client):
    """`chat.update` of a `ts` never posted is `message_not_found`, and in a channel the app
    never posted in `channel_not_found`; a message the app posted can be updated."""
    posted = client.chat_postMessage(channel="C0001", text="first")

    assert client.chat_update(channel="C0001", ts=posted["ts"], text="second")["ok"]
    assert error_of(lambda: client.chat_update(channel="C0001", ts="1.000001", text="x")) == (
        "message_not_found"
    )
    assert error_of(lambda: client.chat_update(channel="C0NOWHERE", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )
