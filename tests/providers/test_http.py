"""The shared plumbing in providers/http.py: backoff, Retry-After, rate limits, cursors."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers.base import ProviderUnavailable, RateLimited
from providers.http import (
    RateLimit,
    RateLimiter,
    Retrier,
    RetryPolicy,
    Timing,
    idempotency_key,
    make_cursor,
    parse_cursor,
    retry_after_seconds,
)


def test_backoff_grows_exponentially_is_jittered_and_capped():
    """Each delay lies between half and all of base*2^n, never above max_delay."""
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    assert [policy.backoff(n, 0.0) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert [policy.backoff(n, 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_retry_after_reads_seconds_and_http_dates():
    """Retry-After may be seconds or an HTTP date; missing or junk falls back to the default."""
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("12", default=60) == 12.0
    assert retry_after_seconds("Mon, 03 Mar 2025 09:00:30 GMT", default=60, now=now) == 30.0
    assert retry_after_seconds(None, default=60) == 60
    assert retry_after_seconds("soon", default=5) == 5


def test_the_retrier_never_retries_forever(fake_time):
    """Even a server that always fails gets a bounded number of attempts."""
    calls = []

    def send():
        calls.append(1)
        return httpx.Response(500)

    retrier = Retrier(
        "Test",
        Timing(sleep=fake_time.sleep, random=lambda: 0.0, retry=RetryPolicy(retries=5)),
        lambda r: None,
    )
    with pytest.raises(ProviderUnavailable, match="after 6 attempts"):
        retrier.send(send)
    assert len(calls) == 6 and len(fake_time.sleeps) == 5


def _sleeps_for_one_more(limiter, fake_time, calls: int, spacing: float):
    """(sleeps during `calls` calls `spacing` seconds apart, sleeps once one more call ran)."""
    for _ in range(calls):
        with limiter.slot():
            fake_time.now += spacing
    before = list(fake_time.sleeps)
    with limiter.slot():
        pass
    return before, fake_time.sleeps


def test_the_per_minute_limit_waits_for_the_window(fake_time):
    """The 61st call in a minute waits until the first call leaves the one-minute window."""
    timing = Timing(sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    limiter = RateLimiter(RateLimit(per_minute=60, concurrent=5), timing).for_tenant("t1")
    assert _sleeps_for_one_more(limiter, fake_time, 60, 0.5) == ([], [pytest.approx(30.0)])


def test_tenants_have_separate_limits(fake_time):
    """One tenant's calls do not count against another's."""
    limiters = RateLimiter(
        RateLimit(per_minute=2, concurrent=2),
        Timing(sleep=fake_time.sleep, monotonic=fake_time.monotonic),
    )
    for tenant in ("a", "b"):
        for _ in range(2):
            with limiters.for_tenant(tenant).slot():
                pass
    assert fake_time.sleeps == []
    assert limiters.for_tenant("a") is limiters.for_tenant("a")


def test_concurrent_calls_are_capped():
    """With every concurrent slot taken, another caller waits, then gives up with RateLimited."""
    limiter = RateLimiter(
        RateLimit(per_minute=100, concurrent=2, slot_timeout=0.05), Timing()
    ).for_tenant("t")
    held, release = threading.Event(), threading.Event()

    def hold():
        with limiter.slot():
            held.set()
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    held.wait(5)
    try:
        with pytest.raises(RateLimited) as raised, limiter.slot():
            pass
        assert raised.value.scope == "concurrent"
    finally:
        release.set()
        for thread in threads:
            thread.join()
    with limiter.slot():  # slots come back once released
        pass


def test_idempotency_keys_are_kept_or_digested():
    """Keys within the limit are sent as they are; longer ones become a stable digest."""
    assert idempotency_key("abc", 50) == "abc"
    long = "k" * 80
    assert idempotency_key(long, 50) == idempotency_key(long, 50) != long[:50]
    assert len(idempotency_key(long, 50)) == 50


def test_cursors_round_trip_and_junk_means_a_full_fetch():
    """A cursor is the UTC start time as ISO text; an unreadable one reads as None."""
    moment = datetime(2025, 3, 3, 9, 0, tzinfo=UTC) + timedelta(hours=1)
    assert parse_cursor(make_cursor(moment)) == moment
    assert parse_cursor(None) is None and parse_cursor("yesterday-ish") is None
    assert parse_cursor("2025-03-03T09:00:00") == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_the_per_second_limit_spaces_bursts(fake_time):
    """QuickBooks' 10 a second: the 11th call within one second waits for the window."""
    timing = Timing(sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    limit = RateLimit(per_minute=500, concurrent=10, per_second=10)
    limiter = RateLimiter(limit, timing).for_tenant("realm")
    assert _sleeps_for_one_more(limiter, fake_time, 10, 0.01) == ([], [pytest.approx(0.9)])


def test_a_spent_daily_budget_raises_instead_of_waiting(fake_time):
    """Xero's 5000 a day: past the budget a call is refused at once with the time until the
    oldest call leaves the 24-hour window (scope "day"), without sleeping."""
    timing = Timing(sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    limiter = RateLimiter(RateLimit(per_minute=60, concurrent=5, per_day=3), timing)
    tenant = limiter.for_tenant("org")
    for _ in range(3):
        with tenant.slot():
            fake_time.now += 100.0
    with pytest.raises(RateLimited) as raised, tenant.slot():
        pass
    assert raised.value.scope == "day"
    assert raised.value.retry_after == pytest.approx(86_400 - 300)
    assert fake_time.sleeps == []
    fake_time.now += 86_400
    with tenant.slot():
        pass
