"""Slack Web API clients for work that does not start from a Slack request (jobs, callbacks).

Single-workspace mode has one bot token; multi-workspace mode looks each team's bot token up in
the installation store. Every client honours SLACK_API_URL.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.config import Config


class NotInstalled(LookupError):
    pass


class SlackClients:
    def __init__(
        self, config: Config, *, installation_store=None, default_client: WebClient | None = None
    ):
        self._config = config
        self._installation_store = installation_store
        self._default = default_client or WebClient(
            base_url=config.slack_api_url, token=config.slack_bot_token
        )

    def for_team(self, team_id: str, enterprise_id: str | None = None) -> WebClient:
        if self._installation_store is None:
            return self._default
        bot = self._installation_store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            raise NotInstalled(f"ledgerlink is not installed in team {team_id}")
        return WebClient(base_url=self._config.slack_api_url, token=bot.bot_token)
