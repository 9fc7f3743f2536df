"""Slack Web API clients for work that does not start from a Slack request (jobs, callbacks).

Single-workspace mode has one bot token; multi-workspace mode looks each team's bot token up in
the installation store. Every client honours SLACK_API_URL.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Config

# Slack's rate limits and 5xx answers are retried inline when the wait is short; a longer
# Retry-After is not slept through (a request may be waiting on the call): the caller sees
# the error and reports or retries it later.
SLACK_RETRIES = 2
SLACK_RETRY_AFTER_MAX = 10


class NotInstalled(LookupError):
    pass


class _ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's rate-limit retry, only when Slack asks for a short wait (in seconds)."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        values = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(values[0]) <= SLACK_RETRY_AFTER_MAX
        except (ValueError, IndexError):
            return False


def web_client(base_url: str, token: str | None) -> WebClient:
    """A Web API client that retries connection errors, 5xx answers and short rate limits."""
    return WebClient(
        base_url=base_url,
        token=token,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            _ShortRateLimitRetryHandler(max_retry_count=SLACK_RETRIES),
            ServerErrorRetryHandler(max_retry_count=SLACK_RETRIES),
        ],
    )


DELIVERY_TIMEOUT = 15  # seconds; the outbox's lease on a row outlasts one call


def delivery_client(base_url: str, token: str | None) -> WebClient:
    """A Web API client that does not retry: the outbox paces and retries every message
    itself, so a 429 or a 5xx comes straight back to it."""
    return WebClient(base_url=base_url, token=token, timeout=DELIVERY_TIMEOUT, retry_handlers=[])


class SlackClients:
    def __init__(
        self, config: Config, *, installation_store=None, default_client: WebClient | None = None
    ):
        self._config = config
        self._installation_store = installation_store
        self._default = default_client or web_client(config.slack_api_url, config.slack_bot_token)
        # A client passed in (the playground's, a test's) is used as it is for delivery too.
        self._delivery = default_client or delivery_client(
            config.slack_api_url, config.slack_bot_token
        )

    def for_team(self, team_id: str, enterprise_id: str | None = None) -> WebClient:
        return self._client(web_client, self._default, team_id, enterprise_id)

    def for_delivery(self, team_id: str, enterprise_id: str | None = None) -> WebClient:
        """The team's client for the outbox (no retries of its own)."""
        return self._client(delivery_client, self._delivery, team_id, enterprise_id)

    def _client(self, make, single: WebClient, team_id: str, enterprise_id: str | None):
        """`single` for a one-workspace app, else `make(url, token)` with the team's bot token."""
        if self._installation_store is None:
            return single
        bot = self._installation_store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            raise NotInstalled(f"ledgerlink is not installed in team {team_id}")
        return make(self._config.slack_api_url, bot.bot_token)
