"""The sync and notice messages: wording, escaping, and valid Block Kit, without Slack."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from slack_sdk.models.blocks import Block

from bot.sync import SyncAlreadyRunning, SyncOutcome, SyncProgress
from handlers import sync_messages as m
from tests.sync.fakes import NOW

CONNECTION = SimpleNamespace(
    id=7,
    provider="xero",
    tenant_name="<!channel> *Acme* & Co",
    expires_at=NOW + timedelta(days=7),
    status="active",
    status_reason=None,
)


def counts(**kinds):
    return {
        kind: dict(zip(("new", "updated", "deactivated"), values, strict=True))
        for kind, values in kinds.items()
    }


@pytest.mark.parametrize(
    ("given", "summary"),
    [
        (counts(account=(2, 0, 0)), "+2 categories"),
        (counts(account=(1, 0, 0)), "+1 category"),
        (counts(supplier=(3, 11, 0)), "14 suppliers updated (3 new)"),
        (counts(supplier=(0, 1, 0)), "1 supplier updated"),
        (counts(supplier=(0, 0, 2)), "2 suppliers updated (2 archived)"),
        (
            counts(account=(2, 0, 0), supplier=(3, 11, 0), tax_rate=(0, 0, 0)),
            "+2 categories, 14 suppliers updated (3 new); tax rates unchanged",
        ),
        (counts(tax_rate=(0, 0, 0), tracking=(0, 0, 0)), "nothing changed"),
    ],
)
def test_change_summary(given, summary):
    """Counts read as "+2 categories, 14 suppliers updated (3 new); tax rates unchanged"."""
    assert m.change_summary(given) == summary


def test_organisation_names_are_escaped():
    """A tenant name cannot mention @channel or break out of its bold."""
    text = m.refreshing(CONNECTION, full=False)["text"]
    assert "<!channel>" not in text
    assert "*&lt;!channel&gt; \u2217Acme\u2217 &amp; Co*" in text


def test_expiry_reminder_wording():
    """The reminder names the provider, organisation, days left and expiry date."""
    text = m.expiry_reminder(CONNECTION, NOW)["text"]
    assert "Your Xero connection to" in text
    assert text.endswith("expires in 7 days (3 Dec 2026). Reconnect to keep publishing.")
    assert (
        "expires in 1 day ("
        in m.expiry_reminder(CONNECTION, CONNECTION.expires_at - timedelta(hours=2))["text"]
    )


def test_every_message_is_valid_block_kit():
    """Each builder's blocks pass slack_sdk's Block Kit validation."""
    ok = SyncOutcome(1, 1, True, False, 2.345, counts(account=(1, 0, 0)))
    failed = SyncOutcome(1, 2, False, False, 0.1, {}, "Xero didn't answer.", "failed")
    expired = SyncOutcome(1, 3, False, False, 0.1, {}, "Xero refused.", "expired")
    deferred = SyncOutcome(1, 4, False, False, 0.1, {}, "Later.", "deferred")
    run = SimpleNamespace(counts=counts(supplier=(1, 0, 0)), finished_at=NOW)
    messages = [
        m.not_connected(),
        m.full_refresh_refused(("U1",)),
        m.refreshing(CONNECTION, full=True),
        *(m.refresh_outcome(CONNECTION, o) for o in (ok, failed, expired, deferred)),
        m.refresh_busy(CONNECTION, SyncAlreadyRunning(1, "U1", NOW)),
        m.refresh_busy(CONNECTION, SyncAlreadyRunning(1, None, NOW)),
        m.connection_expired_reply(CONNECTION),
        m.provider_unavailable(CONNECTION),
        m.expiry_reminder(CONNECTION, NOW),
        m.connection_expired_notice(CONNECTION),
        m.sync_failing(CONNECTION, 3, "boom", run),
        m.sync_failing(CONNECTION, 3, None, None),
        m.sync_recovered(CONNECTION, run),
    ]
    for message in messages:
        assert message["text"]
        for block in message["blocks"]:
            Block.parse(block).validate_json()


def test_durations_read_naturally():
    """Seconds under a minute keep a decimal; longer runs show minutes."""
    assert [m.duration(s) for s in (0.04, 2.345, 65, 120)] == [
        "0.0 s",
        "2.3 s",
        "1 min 5 s",
        "2 min",
    ]


def test_refresh_progress_counts_what_was_read_of_about_how_many():
    """A long refresh says "12,000 of about 100,000 contacts" (suppliers and customers come
    from one list: contacts), or just how many so far when the provider gave no total."""
    progress = SyncProgress(("supplier", "customer"), 12_000, 100_000)
    text = m.refresh_progress(CONNECTION, progress)["text"]
    assert text.startswith(":arrows_counterclockwise: Refreshing Xero data for *&lt;!channel")
    assert text.endswith("*… 12,000 of about 100,000 contacts")
    assert "<!channel>" not in text
    unknown = m.refresh_progress(CONNECTION, SyncProgress(("account",), 40, None))["text"]
    assert unknown.endswith("40 categories so far")


def test_a_failed_first_sync_notice_says_items_wait():
    """The admins hear the error, that items sent meanwhile are kept, and when it retries."""
    message = m.first_sync_failed(CONNECTION, "Xero refused the request (x).", NOW)
    for block in message["blocks"]:
        Block.parse(block).validate_json()
    text = message["text"]
    assert "couldn't read Xero data for" in text and "for the first time" in text
    assert "Xero refused the request (x)." in text
    assert "Items sent meanwhile are kept and wait" in text
    assert f"<!date^{int(NOW.timestamp())}^" in text
