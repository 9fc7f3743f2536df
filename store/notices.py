"""Notices that must go out at most once: expiry reminders, expired notices, sync alerts.

A notice is keyed by connection, kind and key (e.g. the expiry date and the day count). The row
is claimed before the message is sent, so of two processes only the one whose insert wins
sends; a failed send is marked for a bounded number of retries. A process that dies between
claiming and sending leaves the notice unsent rather than risk sending it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.timeutil import iso

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=5)


class NoticeQueries:
    def claim_notice(self, connection_id: int, kind: str, key: str) -> bool:
        """True if this caller may send the notice now (first claim, or a retry that is due)."""
        now = iso(self.clock.now())
        cursor = self.database.execute(
            "INSERT INTO notices (connection_id, kind, key, state, created_at) "
            "VALUES (?, ?, ?, 'sending', ?) ON CONFLICT (connection_id, kind, key) "
            "DO UPDATE SET state = 'sending', attempts = notices.attempts + 1, retry_at = NULL "
            "WHERE notices.state = 'failed' AND notices.retry_at <= ? AND notices.attempts < ?",
            (connection_id, kind, key, now, now, MAX_ATTEMPTS),
        )
        return cursor.rowcount == 1

    def notice_sent(self, connection_id: int, kind: str, key: str) -> None:
        self.database.execute(
            "UPDATE notices SET state = 'sent', sent_at = ? "
            "WHERE connection_id = ? AND kind = ? AND key = ?",
            (iso(self.clock.now()), connection_id, kind, key),
        )

    def notice_failed(self, connection_id: int, kind: str, key: str) -> datetime | None:
        """Mark a send as failed; the time it may be retried, or None once attempts run out."""
        with self.database.write() as db:
            row = db.execute(
                "SELECT attempts FROM notices WHERE connection_id = ? AND kind = ? AND key = ?",
                (connection_id, kind, key),
            ).fetchone()
            attempts = row[0] if row else MAX_ATTEMPTS
            retry_at = (
                self.clock.now() + RETRY_BASE * 2 ** (attempts - 1)
                if attempts < MAX_ATTEMPTS
                else None
            )
            db.execute(
                "UPDATE notices SET state = 'failed', retry_at = ? "
                "WHERE connection_id = ? AND kind = ? AND key = ?",
                (iso(retry_at) if retry_at else None, connection_id, kind, key),
            )
        return retry_at

    def notice_state(self, connection_id: int, kind: str, key: str) -> str | None:
        row = self.database.row(
            "SELECT state FROM notices WHERE connection_id = ? AND kind = ? AND key = ?",
            (connection_id, kind, key),
        )
        return row["state"] if row else None

    def latest_notice_key(self, connection_id: int, kind: str) -> str | None:
        """The key of the newest notice of `kind` that went out (or is going out)."""
        row = self.database.row(
            "SELECT key FROM notices WHERE connection_id = ? AND kind = ? "
            # Ties in time go to the larger key: keys are run ids or dates, so longer, then
            # later in order, is newer.
            "AND state IN ('sending', 'sent') "
            "ORDER BY created_at DESC, length(key) DESC, key DESC LIMIT 1",
            (connection_id, kind),
        )
        return row["key"] if row else None
