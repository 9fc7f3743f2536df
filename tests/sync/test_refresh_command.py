"""`/integrations refresh` through the Bolt app, in-process: signed requests in, fake Slack out.

The app is the real one (`create_app`) with the fake provider; requests are dispatched the way
the HTTP route does, and replies land at the fake Slack server's response_url.
"""

from __future__ import annotations

from slack_bolt.request import BoltRequest
from slack_sdk.models.blocks import Block

from providers.base import LIST_KINDS, ProviderUnavailable
from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.fakes.slack_requests import signed_headers, slash_command


def refresh(app, fake_slack, text="refresh", *, user=STAFF, key="r1"):
    body = slash_command(
        text, user_id=user, team_id=fake_slack.team_id, response_url=fake_slack.response_url(key)
    )
    response = app.dispatch(BoltRequest(body=body, headers=signed_headers(SIGNING_SECRET, body)))
    assert response.status == 200
    return response


def replies(fake_slack, key="r1", count=1):
    return fake_slack.wait_for(
        lambda fake: (
            (found := [r.args for r in fake.responses if r.method == key])[count - 1 :] and found
        )
    )


def assert_valid_blocks(message):
    for block in message["blocks"]:
        Block.parse(block).validate_json()


def test_refresh_answers_at_once_then_replaces_the_reply_with_counts(
    app, provider, connection, fake_slack
):
    """Anyone may refresh: "Refreshing…" first, then the same message shows what changed."""
    provider.put("account", "a1", "Office")
    provider.put("account", "a2", "Travel")
    for n in range(3):
        provider.put("supplier", f"s{n}", f"Supplier {n}")

    refresh(app, fake_slack)

    first, final = replies(fake_slack, count=2)
    assert first["text"] == ":arrows_counterclockwise: Refreshing Xero data for *Acme Ltd*…"
    assert final["replace_original"] is True
    assert final["text"].startswith(":white_check_mark: Refreshed Xero data for *Acme Ltd* in ")
    assert final["text"].endswith(
        ": +2 categories, +3 suppliers; customers, tax rates, tracking options and payment "
        "methods unchanged."
    )
    assert_valid_blocks(final)
    run = app.deps.store.latest_sync_run(connection.id)
    assert (run.result, run.requested_by, run.trigger) == ("ok", STAFF, "command")


def test_second_refresh_reports_updates_and_new_ones(app, provider, connection, fake_slack):
    """Changes and additions of one kind read "N suppliers updated (M new)"."""
    provider.put("supplier", "s1", "Acme")
    provider.put("supplier", "s2", "Bolt")
    app.deps.sync.run(connection.id)
    provider.put("supplier", "s1", "Acme Ltd")
    provider.put("supplier", "s3", "Cosy")
    provider.put("supplier", "s2", "Bolt", active=False)

    refresh(app, fake_slack)

    final = replies(fake_slack, count=2)[1]
    assert "3 suppliers updated (1 new, 1 archived)" in final["text"]


def test_staff_cannot_ask_for_a_full_refresh(app, provider, connection, fake_slack):
    """`refresh full` is for admins: staff get a polite refusal and nothing is fetched."""
    refresh(app, fake_slack, "refresh full", user=STAFF)
    (reply,) = replies(fake_slack)
    assert reply["text"].startswith("Sorry, only ledgerlink admins can run a full refresh.")
    assert "`/integrations refresh`" in reply["text"]
    assert provider.fetches() == []


def test_admins_can_ask_for_a_full_refresh(app, provider, connection, fake_slack):
    """An admin's `refresh full` fetches every list whole, even with cursors stored."""
    provider.put("supplier", "s1", "Acme")
    app.deps.sync.run(connection.id)
    stored = {kind: app.deps.store.list_cursor(connection.id, kind) for kind in LIST_KINDS}
    assert None not in stored.values()  # a plain refresh would fetch only what changed
    provider.calls.clear()

    refresh(app, fake_slack, "refresh full", user=ADMIN)

    first, final = replies(fake_slack, count=2)
    assert first["text"] == ":arrows_counterclockwise: Refreshing all Xero data for *Acme Ltd*…"
    assert final["text"].startswith(":white_check_mark: Full refresh of Xero data")
    assert provider.fetches() == [("fetch_list", kind, None) for kind in LIST_KINDS]
    assert app.deps.store.audit_entries(fake_slack.team_id)[0]["action"] == "refresh_full"


def test_a_refresh_while_one_runs_says_who_started_it(app, provider, connection, fake_slack):
    """The second refresh is refused politely, naming who started the running one and when."""
    provider.hold("account")
    refresh(app, fake_slack, user=ADMIN, key="first")
    assert provider.held.wait(5)

    refresh(app, fake_slack, user=STAFF, key="second")

    (busy,) = replies(fake_slack, "second")
    assert busy["text"].startswith(
        ":hourglass: A refresh of Xero data for *Acme Ltd* is already running: <@UADMIN> "
        "started it at <!date^"
    )
    assert "26 Nov 2026 09:00 UTC" in busy["text"]
    provider.release()
    final = replies(fake_slack, "first", count=2)[1]
    assert final["text"].startswith(":white_check_mark:")


def test_refresh_when_nothing_is_connected(app, provider, fake_slack):
    """Without a connection the reply is the not-connected message."""
    refresh(app, fake_slack)
    (reply,) = replies(fake_slack)
    assert reply["text"].startswith("Not connected. An admin can run `/integrations connect")


def test_refresh_of_an_expired_connection_offers_reconnect(app, provider, connection, fake_slack):
    """An expired connection is not fetched; the reply says so with a Reconnect button."""
    app.deps.store.set_connection_status(connection.id, "expired", reason="test")

    refresh(app, fake_slack)

    (reply,) = replies(fake_slack)
    assert "has expired" in reply["text"]
    button = reply["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("connection_reconnect", str(connection.id))
    assert_valid_blocks(reply)
    assert provider.fetches() == []


def test_a_failed_refresh_says_why_in_plain_words(app, provider, connection, fake_slack):
    """A provider failure replaces "Refreshing…" with the error, and the lists are kept."""
    provider.fail("supplier", ProviderUnavailable("Xero answered 503 twice"), page=0)

    refresh(app, fake_slack)

    final = replies(fake_slack, count=2)[1]
    assert final["replace_original"] is True
    assert final["text"] == (
        ":warning: Couldn't refresh Xero data for *Acme Ltd*: Xero didn't answer properly "
        "(Xero answered 503 twice). ledgerlink will try again shortly.\n"
        "The lists from the last sync are kept."
    )


def test_a_long_refresh_updates_its_reply_with_progress(app, provider, connection, fake_slack):
    """While a long list is read the reply says how far it got ("… 6 of about 10 suppliers"),
    in place, and the outcome still replaces it last."""
    for n in range(10):
        provider.put("supplier", f"s{n}", f"Supplier {n}")
    ticks = iter(range(0, 10_000, 3))  # every reading of the engine's clock: 3 s later
    app.deps.sync._monotonic = lambda: float(next(ticks))

    refresh(app, fake_slack)

    found = fake_slack.wait_for(
        lambda fake: (
            (answers := [r.args for r in fake.responses if r.method == "r1"])
            and answers[-1]["text"].startswith(":white_check_mark:")
            and answers
        )
    )
    progress = [a for a in found[1:-1] if "of about 10 suppliers" in a["text"]]
    assert progress and all(a["replace_original"] is True for a in progress)
    assert progress[0]["text"].startswith(
        ":arrows_counterclockwise: Refreshing Xero data for *Acme Ltd*… "
    )
    assert_valid_blocks(progress[0])
    assert found[-1]["text"].startswith(":white_check_mark: Refreshed Xero data")
