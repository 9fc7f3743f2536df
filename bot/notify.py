"""Posting ledgerlink's own messages: to a channel, to a person, or to a workspace's admins.

Failures to post are logged and reported to the caller (False / None), never raised into the
work that triggered them: a reminder that cannot be delivered must not break a sync.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack_clients import NotInstalled, SlackClients

log = logging.getLogger("ledgerlink.notify")


class Notifier:
    def __init__(self, clients: SlackClients, store):
        self._clients = clients
        self._store = store

    def post(
        self, team_id: str, channel: str, message: dict, *, thread_ts: str | None = None
    ) -> str | None:
        """Post `message` ({"text", "blocks"}) in `channel`; the message ts, or None."""
        return self.try_post(team_id, channel, message, thread_ts=thread_ts)[0]

    def try_post(
        self, team_id: str, channel: str, message: dict, *, thread_ts: str | None = None
    ) -> tuple[str | None, str | None]:
        """Like `post`, but also says why it failed: (ts, None) or (None, Slack's error)."""
        try:
            client = self._clients.for_team(team_id)
            response = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            return response["ts"], None
        except SlackApiError as error:
            reason = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        except NotInstalled:
            reason = "not_installed"
        except (SlackClientError, OSError) as error:
            reason = type(error).__name__
        log.warning("could not post to %s in %s: %s", channel, team_id, reason)
        return None, reason

    def update(self, team_id: str, channel: str, ts: str, message: dict) -> bool:
        try:
            self._clients.for_team(team_id).chat_update(channel=channel, ts=ts, **message)
            return True
        except (SlackApiError, SlackClientError, OSError, NotInstalled) as error:
            log.warning("could not update %s/%s in %s: %s", channel, ts, team_id, error)
            return False

    def direct(self, team_id: str, user_id: str, message: dict) -> str | None:
        """A direct message from the app to `user_id`."""
        try:
            client = self._clients.for_team(team_id)
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackApiError, SlackClientError, OSError, NotInstalled) as error:
            log.warning("could not open a DM with %s in %s: %s", user_id, team_id, error)
            return None
        return self.post(team_id, channel, message)

    def tell_admins(self, team_id: str, connection, message: dict) -> bool:
        """The notification channel (settings, else where the connection was made), and a DM
        to the admin who connected. True if at least one landed."""
        settings = self._store.settings(team_id)
        channel = settings.notification_channel or (connection.channel_id if connection else None)
        delivered = False
        if channel:
            delivered = self.post(team_id, channel, message) is not None
        if connection is not None:
            delivered = (
                self.direct(team_id, connection.connected_by, message) is not None or delivered
            )
        return delivered
