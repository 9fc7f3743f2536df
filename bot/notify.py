"""Everything ledgerlink says in Slack goes through here, into the outbox (`bot.outbox`).

Services report what happened as plain data (`bot.outcomes`); `render`, wired in by the
composition root (`handlers.render`), turns that into the Slack message. Services call the
notifier inside `notifier.transaction()` with the change that causes the message, so both are
stored together; delivery (paced, retried, in order, once) is the
outbox's. A method returning a row id means the message is queued and will be delivered or,
failing that, sent to a fallback or noted in the item's history — never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.outbox import Outbox, dm_target


class Notifier:
    def __init__(self, outbox: Outbox, store, *, render: Callable[[object], dict]):
        self.outbox = outbox
        self._store = store
        self._render = render

    def render(self, outcome) -> dict:
        """The message ({"text", "blocks"}) that shows `outcome` (one of `bot.outcomes`)."""
        return self._render(outcome)

    def transaction(self):
        """Store the change and the messages it causes together; try them once committed."""
        return self.outbox.transaction()

    def post(
        self,
        team_id: str,
        channel: str,
        message: dict,
        *,
        thread_ts: str | None = None,
        fallback_user: str | None = None,
    ) -> int:
        """Queue `message` ({"text", "blocks"}) for `channel`; a channel Slack refuses for
        good sends it to `fallback_user`'s DM instead."""
        fallbacks = [dm_target(fallback_user)] if fallback_user else []
        return self.outbox.post(team_id, channel, message, thread_ts=thread_ts, fallbacks=fallbacks)

    def direct(self, team_id: str, user_id: str, message: dict) -> int:
        """A direct message from the app to `user_id`."""
        return self.outbox.post(team_id, dm_target(user_id), message)

    def tell_admins(self, team_id: str, connection, message: dict) -> bool:
        """The notification channel (settings, else where the connection was made), and a DM
        to the admin who connected. True if anything was queued."""
        settings = self._store.settings(team_id)
        made_in = connection.channel_id if connection else None
        channel = settings.notification_channel or made_in
        queued = False
        with self.transaction():
            if channel:
                self.outbox.post(team_id, channel, message, fallbacks=[made_in] if made_in else [])
                queued = True
            if connection is not None and connection.connected_by:
                self.direct(team_id, connection.connected_by, message)
                queued = True
        return queued

    def show_item(self, item, message: dict, *, prompt: bool = False) -> None:
        """The item's one message: posted the first time (its channel, else the notification
        channel, else the connection's channel, else the submitter's DM), then updated."""
        self.outbox.item_message(item, message, self._item_targets(item), prompt=prompt)

    def _item_targets(self, item) -> list[str]:
        connection = self._store.current_connection(item.team_id)
        candidates = [
            item.channel_id,
            self._store.settings(item.team_id).notification_channel,
            connection.channel_id if connection else None,
            dm_target(item.submitted_by) if item.submitted_by else None,
        ]
        targets: list[str] = []
        for target in candidates:
            if target and target not in targets:
                targets.append(target)
        return targets

    def publish_home(self, team_id: str, user_id: str, view: dict) -> int:
        return self.outbox.publish_home(team_id, user_id, view)
