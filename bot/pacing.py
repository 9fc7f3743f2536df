"""Slack's pacing, kept ahead of time so that a burst is spread out instead of refused.

Slack allows about one message a second per channel (with a short burst), and limits other Web
API methods per workspace by tier: `chat.update` is Tier 3 (about 50 a minute), `views.publish`
Tier 4 (about 100 a minute), `conversations.open` Tier 3. Each (workspace, key) gets a token
bucket; a 429's Retry-After empties the bucket until then. The clock is injected (a monotonic
seconds function) so tests can move time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    burst: float  # how many may go at once
    per_second: float  # how fast the allowance refills


# A little under Slack's rates: a call leaves a few milliseconds after the allowance is taken,
# and a call that reaches Slack a moment early earns a 429.
MARGIN = 0.95
CHANNEL = Limit(burst=3, per_second=1.0 * MARGIN)
METHOD_LIMITS = {
    "chat.update": Limit(burst=5, per_second=50 / 60 * MARGIN),
    "views.publish": Limit(burst=10, per_second=100 / 60 * MARGIN),
    "conversations.open": Limit(burst=5, per_second=50 / 60 * MARGIN),
}


def channel_key(channel: str) -> str:
    return f"channel:{channel}"


def method_key(method: str) -> str:
    return f"method:{method}"


def limit_for(key: str) -> Limit:
    if key.startswith("channel:"):
        return CHANNEL
    return METHOD_LIMITS.get(key.removeprefix("method:"), Limit(burst=20, per_second=1.0))


class Pacer:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._now = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, as of

    def _tokens(self, bucket: tuple[str, str]) -> float:
        limit = limit_for(bucket[1])
        tokens, as_of = self._buckets.get(bucket, (limit.burst, self._now()))
        return min(limit.burst, tokens + (self._now() - as_of) * limit.per_second)

    def wait(self, team_id: str, key: str) -> float:
        """Seconds until one more call under `key` is allowed (0 when it is now)."""
        with self._lock:
            tokens = self._tokens((team_id, key))
        if tokens >= 1:
            return 0.0
        return (1 - tokens) / limit_for(key).per_second

    def take(self, team_id: str, key: str) -> bool:
        """Use one call's allowance now; False (nothing used) when there is none."""
        bucket = (team_id, key)
        with self._lock:
            tokens = self._tokens(bucket)
            if tokens < 1:
                return False
            self._buckets[bucket] = (tokens - 1, self._now())
            return True

    def refund(self, team_id: str, key: str) -> None:
        bucket = (team_id, key)
        with self._lock:
            self._buckets[bucket] = (
                min(limit_for(key).burst, self._tokens(bucket) + 1),
                self._now(),
            )

    def hold(self, team_id: str, key: str, seconds: float) -> None:
        """Slack said to wait (Retry-After): no allowance under `key` for `seconds`."""
        per_second = limit_for(key).per_second
        with self._lock:
            self._buckets[(team_id, key)] = (1 - seconds * per_second, self._now())
