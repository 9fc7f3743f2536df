"""The scheduled jobs, driven by the injected clock: syncs, reminders, expiry, token health."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from slack_sdk import WebClient

from bot.app import create_app
from bot.jobs import (
    ConnectionExpiryJob,
    ExpiryReminderJob,
    SyncJob,
    TokenHealthJob,
    build_jobs,
)
from bot.scheduler import run_due
from bot.sync import jitter
from providers.base import ConnectionExpired, ProviderUnavailable, RateLimited, TokenSet
from store import open_store
from tests.sync.conftest import make_connection
from tests.sync.fakes import NOW, tokens


def posts(fake_slack) -> list[dict]:
    return [call.args for call in fake_slack.calls_to("chat.postMessage")]


def texts(fake_slack, channel="C0001") -> list[str]:
    return [post["text"] for post in posts(fake_slack) if post["channel"] == channel]


def at(clock, job, moment) -> int:
    clock.set(moment)
    return job.run_due(clock.now())


# -- sync -----------------------------------------------------------------------------------


def test_a_never_synced_connection_is_due_at_once(deps, provider, connection, clock):
    """A new active connection is synced by the first tick, as the scheduler."""
    assert at(clock, SyncJob(deps), NOW) == 1
    run = deps.store.latest_sync_run(connection.id)
    assert (run.result, run.trigger, run.requested_by) == ("ok", "schedule", None)


def test_next_sync_is_due_an_interval_and_a_jitter_after_the_last_success(
    deps, provider, connection, clock
):
    """48 hours after the last success plus the connection's jitter, and not a second before."""
    job = SyncJob(deps)
    at(clock, job, NOW)
    due = NOW + timedelta(hours=48) + jitter(connection.id, timedelta(hours=48))
    assert at(clock, job, due - timedelta(seconds=1)) == 0
    assert at(clock, job, due) == 1
    assert len(deps.store.sync_runs(connection.id)) == 2


def test_jitter_is_fixed_per_connection_and_within_five_percent():
    """The jitter never changes for a connection, spreads connections, and stays under 5%."""
    interval = timedelta(hours=48)
    values = [jitter(n, interval) for n in range(1, 101)]
    assert values == [jitter(n, interval) for n in range(1, 101)]
    assert all(timedelta(0) <= value < interval * 0.05 for value in values)
    assert len(set(values)) > 90


def test_a_schedule_missed_during_downtime_runs_once(deps, provider, connection, clock):
    """Ten days without ticks lead to one sync, not one per missed interval."""
    job = SyncJob(deps)
    at(clock, job, NOW)
    later = NOW + timedelta(days=10)
    assert at(clock, job, later) == 1
    assert at(clock, job, later + timedelta(minutes=1)) == 0
    assert len(deps.store.sync_runs(connection.id)) == 2


def test_a_failed_sync_is_retried_with_backoff(deps, provider, connection, clock):
    """After a failure the next tick waits for the run's retry time, which grows."""
    job = SyncJob(deps)
    provider.fail("account", ProviderUnavailable("down"), page=0)
    at(clock, job, NOW)
    assert at(clock, job, NOW + timedelta(minutes=4)) == 0
    provider.fail("account", ProviderUnavailable("down"), page=0)
    assert at(clock, job, NOW + timedelta(minutes=5)) == 1
    second = deps.store.latest_sync_run(connection.id)
    assert second.result == "failed"
    assert second.retry_at == NOW + timedelta(minutes=15)
    assert at(clock, job, NOW + timedelta(minutes=15)) == 1
    assert deps.store.latest_sync_run(connection.id).result == "ok"


def test_a_deferred_sync_waits_for_the_providers_time(deps, provider, connection, clock):
    """A run stopped by a daily limit is not retried before the time the provider gave."""
    job = SyncJob(deps)
    provider.fail("supplier", RateLimited(3 * 3600, "day"), page=0)
    at(clock, job, NOW)
    assert deps.store.latest_sync_run(connection.id).result == "deferred"
    assert at(clock, job, NOW + timedelta(hours=2, minutes=59)) == 0
    assert at(clock, job, NOW + timedelta(hours=3)) == 1


def test_three_failed_syncs_alert_once_and_a_success_says_it_recovered(
    deps, provider, connection, clock, fake_slack
):
    """One alert after the third failure in a row (not one per failure), then one recovery;
    the connection never synced, so its first failure also told the admins, once."""
    job = SyncJob(deps)
    moment = NOW

    def alerts():
        return [t for t in texts(fake_slack) if "for the first time" not in t]

    for attempt in range(1, 5):
        provider.fail("account", ProviderUnavailable(f"outage {attempt}"), page=0)
        at(clock, job, moment)
        moment = deps.store.latest_sync_run(connection.id).retry_at
        expected_alerts = 0 if attempt < 3 else 1
        assert len(alerts()) == expected_alerts, attempt
        (first,) = [t for t in texts(fake_slack) if "for the first time" in t]
        assert "outage 1" in first
    (alert,) = alerts()
    assert "couldn't sync Xero data for *Acme Ltd* the last 3 times" in alert
    assert "outage 3" in alert
    assert len(texts(fake_slack, "DADMIN")) == 2  # and DMs to the admin who connected

    at(clock, job, moment)
    assert deps.store.latest_sync_run(connection.id).result == "ok"
    alert, recovered = alerts()
    assert recovered.startswith(":white_check_mark: Syncing Xero data for *Acme Ltd* works again")
    at(clock, job, moment + timedelta(days=3))
    assert len(alerts()) == 2


def test_the_sync_job_skips_providers_that_are_not_configured(deps, store, clock):
    """A connection to a provider this server has no credentials for is left alone."""
    connection = make_connection(store, provider="quickbooks")
    assert at(clock, SyncJob(deps), NOW) == 0
    assert deps.store.sync_runs(connection.id) == []


# -- expiry reminders -------------------------------------------------------------------------


def test_reminders_go_out_exactly_30_7_and_1_days_before_expiry(
    deps, connection, clock, fake_slack
):
    """Each reminder goes out at its moment, to the channel and the admin, with Reconnect."""
    job = ExpiryReminderJob(deps)
    expires = connection.expires_at
    expected = []
    for days in (30, 7, 1):
        assert at(clock, job, expires - timedelta(days=days, seconds=1)) == 0
        assert at(clock, job, expires - timedelta(days=days)) == 1
        assert at(clock, job, expires - timedelta(days=days) + timedelta(hours=1)) == 0
        plural = "" if days == 1 else "s"
        expected.append(
            f":calendar: Your Xero connection to *Acme Ltd* expires in {days} day{plural} "
            "(26 Nov 2027). Reconnect to keep publishing."
        )
    assert texts(fake_slack) == expected
    assert texts(fake_slack, "DADMIN") == expected
    button = posts(fake_slack)[0]["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("connection_reconnect", str(connection.id))


def test_reminders_are_never_sent_twice_across_restarts(
    deps, connection, clock, fake_slack, config, db_path, secret_key
):
    """A fresh process on the same database knows which reminders went out."""
    moment = connection.expires_at - timedelta(days=7)
    assert at(clock, ExpiryReminderJob(deps), moment) == 1
    store = open_store(db_path, secret_key=secret_key, clock=clock)
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        client = WebClient(base_url=fake_slack.api_url, token=fake_slack.bot_token)
        restarted = create_app(
            config, store=store, providers={}, clock=clock, client=client,
            listener_executor=executor,
        )  # fmt: skip
        results = run_due(build_jobs(restarted.deps), clock)
    finally:
        executor.shutdown()
        store.close()
    assert [r.error for r in results] == [None] * len(results)
    assert len(texts(fake_slack)) == 1


def test_after_downtime_only_the_most_recent_due_reminder_is_sent(
    deps, connection, clock, fake_slack
):
    """Waking 3 days before expiry sends the 7-day reminder only, saying 3 days are left."""
    job = ExpiryReminderJob(deps)
    assert at(clock, job, connection.expires_at - timedelta(days=3)) == 1
    assert at(clock, job, connection.expires_at - timedelta(days=2)) == 0
    assert at(clock, job, connection.expires_at - timedelta(days=1)) == 1
    first, second = texts(fake_slack)
    assert "expires in 3 days" in first and "expires in 1 day " in second


def test_a_reconnect_starts_a_new_reminder_cycle(deps, connection, clock, fake_slack):
    """Renewing the connection (new expiry date) makes the reminders due again later."""
    job = ExpiryReminderJob(deps)
    at(clock, job, connection.expires_at - timedelta(days=30))
    clock.set(connection.expires_at - timedelta(days=20))
    renewed = deps.store.renew_connection(
        connection.id,
        tenant_id=connection.tenant_id,
        tenant_name=connection.tenant_name,
        tokens=tokens("access-2", "refresh-2"),
        connected_by="UADMIN",
        channel_id=None,
        lifetime_days=365,
    )
    assert at(clock, job, clock.now()) == 0
    assert at(clock, job, renewed.expires_at - timedelta(days=30)) == 1
    assert len(texts(fake_slack)) == 2


def test_a_reminder_that_could_not_be_delivered_is_retried(deps, connection, clock, fake_slack):
    """When Slack refuses the channel for good and rate-limits the DM, the reminder is queued
    once; the outbox retries the DM until it is delivered, and the job never sends it again."""
    job = ExpiryReminderJob(deps)
    moment = connection.expires_at - timedelta(days=30)
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    fake_slack.fail_next("conversations.open", error="ratelimited")
    assert at(clock, job, moment) == 1
    assert texts(fake_slack, "DADMIN") == []
    clock.set(moment + timedelta(seconds=1))
    assert deps.outbox.drain() == 1
    assert len(texts(fake_slack, "DADMIN")) == 1
    assert at(clock, job, moment + timedelta(hours=1)) == 0
    assert deps.outbox.drain() == 0
    assert len(texts(fake_slack)) == 1  # the refused post, never tried again
    assert len(texts(fake_slack, "DADMIN")) == 1


def test_a_notice_is_claimed_once_and_again_only_for_a_due_retry(store, connection, clock):
    """The first claim wins; a claim while the notice is being sent, or after it was sent,
    is refused; a failed send may be claimed again once its retry is due, and not before."""

    def claim() -> bool:
        return store.claim_notice(connection.id, "expiry_reminder", "k")

    assert claim() is True
    assert claim() is False  # still being sent by the first claimer
    retry_at = store.notice_failed(connection.id, "expiry_reminder", "k")
    assert claim() is False  # failed, but not due yet
    clock.set(retry_at)
    assert claim() is True
    assert claim() is False  # the retry is being sent
    store.notice_sent(connection.id, "expiry_reminder", "k")
    clock.set(retry_at + timedelta(days=1))
    assert claim() is False
    assert store.notice_state(connection.id, "expiry_reminder", "k") == "sent"


# -- expiry -------------------------------------------------------------------------------------


def test_the_connection_expires_at_its_expiry_time(deps, connection, clock, fake_slack):
    """At expires_at the connection is marked expired and admins told publishing is paused."""
    job = ConnectionExpiryJob(deps)
    assert at(clock, job, connection.expires_at - timedelta(seconds=1)) == 0
    assert deps.store.connection(connection.id).status == "active"
    assert at(clock, job, connection.expires_at) == 1
    assert deps.store.connection(connection.id).status == "expired"
    assert at(clock, job, connection.expires_at + timedelta(days=1)) == 0
    (notice,) = texts(fake_slack)
    assert notice.startswith(
        ":red_circle: The Xero connection to *Acme Ltd* has expired: it reached its expiry date."
    )
    assert "Publishing to Xero is paused until someone reconnects" in notice
    assert len(texts(fake_slack, "DADMIN")) == 1
    button = posts(fake_slack)[0]["blocks"][-1]["elements"][0]
    assert button["action_id"] == "connection_reconnect"
    # No reminder for an expired connection.
    assert at(clock, ExpiryReminderJob(deps), connection.expires_at + timedelta(hours=1)) == 0


# -- token health -------------------------------------------------------------------------------


def test_tokens_are_refreshed_before_they_would_lapse_unused(deps, provider, connection, clock):
    """Xero's 60 idle days: a refresh at 45 days, then 45 days after that refresh."""
    job = TokenHealthJob(deps)
    assert at(clock, job, NOW + timedelta(days=45) - timedelta(seconds=1)) == 0
    assert provider.calls == []
    assert at(clock, job, NOW + timedelta(days=45)) == 1
    assert deps.store.connection_tokens(connection.id).refresh_token == "refresh-r1"
    assert deps.store.tokens_refreshed_at(connection.id) == NOW + timedelta(days=45)
    assert at(clock, job, NOW + timedelta(days=89)) == 0
    assert at(clock, job, NOW + timedelta(days=90)) == 1
    assert provider.calls == [("refresh",), ("refresh",)]


def test_a_known_refresh_token_expiry_brings_the_refresh_forward(deps, provider, store, clock):
    """When the provider said when the refresh token expires, refresh a quarter-window ahead."""
    expiring = TokenSet("a", "r", NOW + timedelta(minutes=30), NOW + timedelta(days=20))
    connection = make_connection(store, token_set=expiring)
    job = TokenHealthJob(deps)
    assert job.due_at(connection, provider) == NOW + timedelta(days=5)
    assert at(clock, job, NOW + timedelta(days=5)) == 1


def test_a_revoked_grant_is_found_early_and_admins_asked_to_reconnect(
    deps, provider, connection, clock, fake_slack
):
    """invalid_grant on the health refresh expires the connection and prompts a reconnect."""
    provider.refresh_error = ConnectionExpired("invalid_grant")
    assert at(clock, TokenHealthJob(deps), NOW + timedelta(days=45)) == 1
    stored = deps.store.connection(connection.id)
    assert stored.status == "expired" and "invalid_grant" in stored.status_reason
    (notice,) = texts(fake_slack)
    assert "has expired: Xero refused ledgerlink's access (invalid_grant)." in notice
    button = posts(fake_slack)[0]["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("connection_reconnect", str(connection.id))
    # The expiry job sees the notice went out and says nothing more.
    assert at(clock, ConnectionExpiryJob(deps), NOW + timedelta(days=46)) == 0
    assert len(texts(fake_slack)) == 1


def test_a_provider_outage_during_token_health_waits_before_retrying(
    deps, provider, connection, clock
):
    """A refresh that fails for an outage is not retried on every tick."""
    provider.refresh_error = ProviderUnavailable("down")
    job = TokenHealthJob(deps)
    assert at(clock, job, NOW + timedelta(days=45)) == 0
    assert at(clock, job, NOW + timedelta(days=45, minutes=1)) == 0
    assert provider.calls == [("refresh",)]
    assert deps.store.connection(connection.id).status == "active"


# -- the job list -------------------------------------------------------------------------------


class CountingJob:
    name = "counting"

    def __init__(self, deps=None):
        self.ticks = []

    def run_due(self, now):
        self.ticks.append(now)
        return 1


def test_items_and_extra_jobs_run_with_the_built_in_ones(deps, clock):
    """The items jobs and any extra jobs are part of the job list."""
    extra = CountingJob()
    built = build_jobs(deps, extra=[extra])
    names = [job.name for job in built]
    assert names[:4] == ["token-health", "connection-expiry", "expiry-reminders", "sync"]
    assert names[-1] == "counting"
    assert {"item-retry", "prompt-reminders"} <= set(names)
    results = run_due(built, clock)
    assert extra.ticks == [NOW] and all(r.error is None for r in results)


def test_two_schedulers_finding_a_sync_due_run_it_once(deps, provider, connection, clock):
    """Two scheduler threads ticking at once: one syncs, the other skips; a scheduler that
    looked before that run finished does not run it again."""
    provider.hold("account")
    first = threading.Thread(target=SyncJob(deps).run_due, args=(NOW,))
    first.start()
    assert provider.held.wait(5)
    assert SyncJob(deps).run_due(NOW) == 0  # the lease is held
    provider.release()
    first.join(5)
    assert [run.result for run in deps.store.sync_runs(connection.id)] == ["ok"]
    assert deps.sync.run_scheduled(connection.id, seen_run_id=None) is None
    assert len(deps.store.sync_runs(connection.id)) == 1


def test_a_sync_that_finished_while_another_scheduler_looked_is_not_run_again(
    deps, provider, connection, clock
):
    """A scheduler that read the run while it was still running, and found its lease free
    only because it had finished meanwhile, does not take it for an abandoned run: the
    connection is next due an interval later, not at once (found by the scale benchmark)."""
    job = SyncJob(deps)
    assert at(clock, job, NOW) == 1
    finished = deps.store.latest_sync_run(connection.id)
    seen_running = dataclasses.replace(finished, result="running", finished_at=None)
    assert job.due_at(connection, seen_running) > NOW + timedelta(hours=47)
    assert at(clock, job, NOW + timedelta(minutes=5)) == 0
