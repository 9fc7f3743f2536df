"""Telling a workspace's admins something at most once: reminders, expiry, sync alerts.

`Notices.send_once` claims the notice in the database, then queues its messages in the outbox
and marks it sent in one transaction (see `store.notices`, `bot.outbox`), so two processes, or a
restart, never send the same notice twice.
"""

from __future__ import annotations

import logging

from bot.outcomes import ConnectionExpiredNotice
from store.timeutil import iso

log = logging.getLogger("ledgerlink.notices")

EXPIRED = "expired"
EXPIRY_REMINDER = "expiry_reminder"
SYNC_FAILING = "sync_failing"
SYNC_RECOVERED = "sync_recovered"
FIRST_SYNC_FAILED = "first_sync_failed"


def cycle(connection) -> str:
    """Notices about expiry are per expiry date: a reconnect (new date) starts a new cycle."""
    return iso(connection.expires_at)


class Notices:
    def __init__(self, store, notifier):
        self.store = store
        self.notifier = notifier

    def send_once(self, connection, kind: str, key: str, message: dict) -> bool:
        """Queue `message` for the admins unless this notice was sent (or is being sent).

        The claim is one atomic statement, so of racing processes one wins; the winner then
        queues the messages and marks the notice sent in one transaction, and the outbox
        delivers them (or their fallback) even across a crash. A process that dies between
        the claim and that transaction leaves the notice unsent rather than risk it twice."""
        if self.store.notice_state(connection.id, kind, key) in ("sending", "sent"):
            return False
        if not self.store.claim_notice(connection.id, kind, key):
            return False
        with self.notifier.transaction():
            if not self.notifier.tell_admins(connection.team_id, connection, message):
                log.warning("no channel or admin to tell about %s notice", kind)
            self.store.notice_sent(connection.id, kind, key)
        return True

    def expire(self, connection, reason: str) -> bool:
        """Mark the connection expired and tell the admins (once per expiry cycle)."""
        self.store.set_connection_status(connection.id, "expired", reason=reason)
        return self.tell_expired(self.store.connection(connection.id))

    def tell_expired(self, connection) -> bool:
        message = self.notifier.render(ConnectionExpiredNotice(connection))
        return self.send_once(connection, EXPIRED, cycle(connection), message)
