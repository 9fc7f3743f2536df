"""The outbox: every Slack message ledgerlink means to send, as a row, until Slack has it.

A row is written in the same transaction as the change that causes it, so a crash between the
two loses nothing. Rows belong to a *lane* (a channel, a DM, an item's message, a grouped
message, a user's App Home) and go out in id order within their lane: a row is deliverable
only when no earlier row of its lane is still queued. A sender claims a row with a lease in the
row itself (the same atomic "free, lapsed or ours" rule as `store.leases`), so two processes
never send the same row; a crashed sender's lease lapses and the row is sent by someone else.

Times carry microseconds, so a wait of 5 s is never cut short by rounding. `next_at` (when a
retry is due) follows the injected clock, so `ledgerlink tick --now` sees what is due then;
`outbox_pace` (Slack's Retry-After for a channel or a method) and leases are real time, on the
wall clock, shared by every process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store.items import Item
from store.leases import wall_now
from store.timeutil import iso

POST, UPDATE, PUBLISH = "chat.postMessage", "chat.update", "views.publish"
# Purposes: an item's own message ("prompt" when it asks for a supplier), a grouped message of
# prompts, or anything else the app says (notices, replies, DMs, the App Home).
ITEM, PROMPT, GROUP = "item", "prompt", "group"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    team_id: str
    method: str
    purpose: str
    lane: str
    channel: str | None
    user_id: str | None
    thread_ts: str | None
    item_id: int | None
    group_id: int | None
    payload: str
    fallbacks: str
    note: str | None
    state: str
    attempts: int
    next_at: str
    last_error: str | None
    lease_owner: str | None
    lease_until: str | None
    created_at: str
    sent_at: str | None
    ts: str | None

    @property
    def message(self) -> dict:
        return json.loads(self.payload)

    @property
    def fallback_targets(self) -> list[str]:
        return json.loads(self.fallbacks)


@dataclass(frozen=True)
class MessageGroup:
    id: int
    team_id: str
    channel: str
    ts: str | None
    created_at: str


_UNCLAIMED = "(lease_until IS NULL OR lease_until < ?)"


class OutboxQueries:
    def in_transaction(self) -> bool:
        return self.database.in_transaction()

    def transaction(self):
        """All-or-nothing: a state change and the messages it causes (nestable)."""
        return self.database.write()

    # -- writing rows ------------------------------------------------------------------------

    def add_outbox(
        self,
        *,
        team_id: str,
        method: str,
        purpose: str,
        lane: str,
        payload: dict,
        channel: str | None = None,
        user_id: str | None = None,
        thread_ts: str | None = None,
        item_id: int | None = None,
        group_id: int | None = None,
        fallbacks: list[str] | tuple[str, ...] = (),
        note: str | None = None,
    ) -> int:
        # Due at once, by the injected clock and the wall clock alike: a `tick --now` ahead of
        # time must not leave a row that a server on the real clock sees as not due yet.
        due = stamp(min(self.clock.now(), wall_now()))
        return self.database.scalar(
            "INSERT INTO outbox (team_id, method, purpose, lane, channel, user_id, thread_ts, "
            "item_id, group_id, payload, fallbacks, note, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                team_id,
                method,
                purpose,
                lane,
                channel,
                user_id,
                thread_ts,
                item_id,
                group_id,
                json.dumps(payload),
                json.dumps(list(fallbacks)),
                note,
                due,
                stamp(self.clock.now()),
            ),
        )

    def replace_queued(self, row_id: int, payload: dict, purpose: str) -> bool:
        """Give a row nobody has claimed yet a newer message; False if it is being sent."""
        cursor = self.database.execute(
            f"UPDATE outbox SET payload = ?, purpose = ? WHERE id = ? AND state = 'queued' "  # noqa: S608
            f"AND {_UNCLAIMED}",
            (json.dumps(payload), purpose, row_id, stamp(wall_now())),
        )
        return cursor.rowcount == 1

    def queued_for_item(self, item_id: int, method: str) -> OutboxRow | None:
        """The item's newest queued message of `method` that nobody has claimed."""
        row = self.database.row(
            "SELECT * FROM outbox WHERE item_id = ? AND method = ? AND state = 'queued' "  # noqa: S608
            f"AND purpose IN ('item', 'prompt') AND {_UNCLAIMED} ORDER BY id DESC LIMIT 1",
            (item_id, method, stamp(wall_now())),
        )
        return OutboxRow(**row) if row else None

    def queued_group_update(self, group_id: int) -> OutboxRow | None:
        row = self.database.row(
            "SELECT * FROM outbox WHERE group_id = ? AND state = 'queued' "  # noqa: S608
            f"AND {_UNCLAIMED} ORDER BY id DESC LIMIT 1",
            (group_id, stamp(wall_now())),
        )
        return OutboxRow(**row) if row else None

    def queued_home(self, team_id: str, user_id: str) -> OutboxRow | None:
        row = self.database.row(
            "SELECT * FROM outbox WHERE team_id = ? AND user_id = ? AND method = ? "  # noqa: S608
            f"AND state = 'queued' AND {_UNCLAIMED} ORDER BY id DESC LIMIT 1",
            (team_id, user_id, PUBLISH, stamp(wall_now())),
        )
        return OutboxRow(**row) if row else None

    # -- delivering ----------------------------------------------------------------------------

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        row = self.database.row("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return OutboxRow(**row) if row else None

    def deliverable(
        self, now: datetime, limit: int = 100, *, ids: list[int] | None = None
    ) -> list[OutboxRow]:
        """Rows due now that head their lane and nobody holds (of `ids`, if given); an update
        waits while the post it updates (the item's or the group's) is still queued."""
        only = f"AND o.id IN ({', '.join('?' for _ in ids)}) " if ids else ""
        rows = self.database.rows(
            "SELECT o.* FROM outbox o WHERE o.state = 'queued' AND o.next_at <= ? "  # noqa: S608
            f"AND {_UNCLAIMED.replace('lease', 'o.lease')} "
            "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.lane = o.lane "
            "AND p.state = 'queued' AND p.id < o.id) "
            "AND NOT (o.method = 'chat.update' AND EXISTS (SELECT 1 FROM outbox p "
            "WHERE p.state = 'queued' AND p.method = 'chat.postMessage' AND ("
            "(o.item_id IS NOT NULL AND p.item_id = o.item_id) OR "
            "(o.group_id IS NOT NULL AND p.group_id = o.group_id)))) "
            + only
            + "ORDER BY o.next_at, o.id LIMIT ?",
            (stamp(now), stamp(wall_now()), *(ids or ()), limit),
        )
        return [OutboxRow(**row) for row in rows]

    def next_due_at(self) -> datetime | None:
        row = self.database.row("SELECT min(next_at) AS at FROM outbox WHERE state = 'queued'")
        return datetime.fromisoformat(row["at"]) if row and row["at"] else None

    def claim_outbox(self, row_id: int, owner: str, seconds: float) -> OutboxRow | None:
        """Take the row for `seconds` if it is still queued and free; the row as claimed."""
        wall = wall_now()
        with self.database.write() as db:
            cursor = db.execute(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ? "  # noqa: S608
                f"AND state = 'queued' AND {_UNCLAIMED}",
                (owner, stamp(wall + timedelta(seconds=seconds)), row_id, stamp(wall)),
            )
            if cursor.rowcount != 1:
                return None
        return self.outbox_row(row_id)

    def _settle(self, row: OutboxRow, owner: str, **changes) -> bool:
        sets = ", ".join(f"{name} = ?" for name in changes)
        cursor = self.database.execute(
            f"UPDATE outbox SET {sets}, lease_owner = NULL, lease_until = NULL "  # noqa: S608
            "WHERE id = ? AND lease_owner = ? AND state = 'queued'",
            (*changes.values(), row.id, owner),
        )
        return cursor.rowcount == 1

    def outbox_sent(
        self,
        row: OutboxRow,
        owner: str,
        *,
        channel: str | None,
        ts: str | None,
        posted: bool = False,
    ) -> None:
        """Slack has the message: record it, and (for a new post) where the item's or the
        group's message now is, so later updates go there."""
        with self.database.write():
            if not self._settle(
                row,
                owner,
                state="sent",
                ts=ts,
                channel=channel,
                sent_at=stamp(self.clock.now()),
                attempts=row.attempts + 1,
            ):
                return
            if posted and row.purpose in (ITEM, PROMPT) and row.item_id:
                self.database.execute(
                    "UPDATE items SET prompt_channel = ?, prompt_ts = ? WHERE id = ?",
                    (channel, ts, row.item_id),
                )
            if posted and row.purpose == GROUP and row.group_id:
                self.database.execute(
                    "UPDATE message_groups SET ts = ?, channel = ? WHERE id = ?",
                    (ts, channel, row.group_id),
                )

    def outbox_retry(
        self, row: OutboxRow, owner: str, *, at: datetime, error: str, note: str | None = None
    ) -> None:
        with self.database.write():
            if self._settle(
                row, owner, next_at=stamp(at), last_error=error, attempts=row.attempts + 1
            ) and (note and row.item_id):
                self.note_item(row.item_id, note)

    def outbox_failed(
        self,
        row: OutboxRow,
        owner: str,
        *,
        error: str,
        note: str | None = None,
        fallback: dict | None = None,
    ) -> int | None:
        """Slack refused the row for good; `fallback` (channel or user_id, fallbacks, note)
        is queued in its place in the same transaction. The fallback row's id, if any."""
        with self.database.write():
            if not self._settle(
                row, owner, state="failed", last_error=error, attempts=row.attempts + 1
            ):
                return None
            if note and row.item_id:
                self.note_item(row.item_id, note)
            if fallback is None:
                return None
            return self.add_outbox(
                team_id=row.team_id,
                method=POST,
                purpose=row.purpose,
                item_id=row.item_id,
                group_id=row.group_id,
                payload=fallback["payload"],
                **{k: v for k, v in fallback.items() if k != "payload"},
            )

    def release_outbox(self, row: OutboxRow, owner: str) -> None:
        self._settle(row, owner, last_error=row.last_error)

    # -- pacing ------------------------------------------------------------------------------

    def set_pace(self, team_id: str, key: str, not_before: datetime) -> None:
        self.database.execute(
            "INSERT INTO outbox_pace (team_id, key, not_before) VALUES (?, ?, ?) "
            "ON CONFLICT (team_id, key) DO UPDATE SET not_before = CASE "
            "WHEN excluded.not_before > outbox_pace.not_before THEN excluded.not_before "
            "ELSE outbox_pace.not_before END",
            (team_id, key, stamp(not_before)),
        )

    def pace_not_before(self, team_id: str, key: str) -> datetime | None:
        row = self.database.row(
            "SELECT not_before FROM outbox_pace WHERE team_id = ? AND key = ?", (team_id, key)
        )
        return datetime.fromisoformat(row["not_before"]) if row else None

    # -- grouped prompts -----------------------------------------------------------------------

    def queued_prompts(self, lane: str) -> list[OutboxRow]:
        """Prompts waiting in a channel's lane that nobody is sending, oldest first."""
        rows = self.database.rows(
            "SELECT * FROM outbox WHERE lane = ? AND state = 'queued' AND purpose = 'prompt' "  # noqa: S608
            f"AND method = 'chat.postMessage' AND thread_ts IS NULL AND {_UNCLAIMED} ORDER BY id",
            (lane, stamp(wall_now())),
        )
        return [OutboxRow(**row) for row in rows]

    def open_group(self, team_id: str, channel: str, since: datetime):
        """The channel's newest group started after `since`, and how many items it lists."""
        row = self.database.row(
            "SELECT g.*, (SELECT count(*) FROM message_group_items m WHERE m.group_id = g.id) "
            "AS size FROM message_groups g WHERE g.team_id = ? AND g.channel = ? "
            "AND g.created_at >= ? ORDER BY g.id DESC LIMIT 1",
            (team_id, channel, stamp(since)),
        )
        if row is None:
            return None, 0
        size = row.pop("size")
        return MessageGroup(**row), size

    def create_group(self, team_id: str, channel: str) -> MessageGroup:
        group_id = self.database.scalar(
            "INSERT INTO message_groups (team_id, channel, created_at) VALUES (?, ?, ?) "
            "RETURNING id",
            (team_id, channel, stamp(self.clock.now())),
        )
        return self.message_group(group_id)

    def message_group(self, group_id: int) -> MessageGroup | None:
        row = self.database.row("SELECT * FROM message_groups WHERE id = ?", (group_id,))
        return MessageGroup(**row) if row else None

    def group_rows(self, group: MessageGroup, rows: list[OutboxRow]) -> None:
        """Move queued prompts into `group`: their rows are done, the group lists the items."""
        for row in rows:
            self.database.execute(
                "UPDATE outbox SET state = 'grouped', group_id = ? WHERE id = ? "
                "AND state = 'queued'",
                (group.id, row.id),
            )
            self.database.execute(
                "INSERT INTO message_group_items (item_id, group_id) VALUES (?, ?) "
                "ON CONFLICT (item_id) DO NOTHING",
                (row.item_id, group.id),
            )

    def group_of(self, item_id: int) -> MessageGroup | None:
        row = self.database.row(
            "SELECT g.* FROM message_groups g JOIN message_group_items m ON m.group_id = g.id "
            "WHERE m.item_id = ?",
            (item_id,),
        )
        return MessageGroup(**row) if row else None

    def group_item_ids(self, group_id: int) -> list[int]:
        rows = self.database.rows(
            "SELECT item_id FROM message_group_items WHERE group_id = ? ORDER BY item_id",
            (group_id,),
        )
        return [row["item_id"] for row in rows]

    def unanswered_grouped(self, before: datetime) -> list[tuple]:
        """(item, group) for grouped items nobody opened or answered since `before`, whose
        reminder is not sent yet (the reminder goes in the grouped message's thread)."""
        rows = self.database.rows(
            "SELECT i.*, g.id AS g_id, g.team_id AS g_team_id, g.channel AS g_channel, "
            "g.ts AS g_ts, g.created_at AS g_created_at FROM items i "
            "JOIN message_group_items m ON m.item_id = i.id "
            "JOIN message_groups g ON g.id = m.group_id WHERE i.status = 'needs_supplier' "
            "AND i.prompt_ts IS NULL AND g.ts IS NOT NULL AND i.prompt_reminded_at IS NULL "
            "AND i.updated_at <= ? LIMIT 100",
            (iso(before),),
        )
        found = []
        for row in rows:
            group = MessageGroup(
                **{key[2:]: row.pop(key) for key in [k for k in row if k.startswith("g_")]}
            )
            found.append((Item(**row), group))
        return found

    def claim_group_opening(self, item_id: int) -> bool:
        """True for exactly one caller: posting this grouped item's own prompt is theirs."""
        cursor = self.database.execute(
            "UPDATE message_group_items SET opened_at = ? WHERE item_id = ? AND opened_at IS NULL",
            (stamp(self.clock.now()), item_id),
        )
        return cursor.rowcount == 1

    # -- what is waiting -----------------------------------------------------------------------

    def outbox_summary(self, team_id: str, *, failed_since: datetime) -> dict:
        """Messages waiting (and the last error of those retrying), and failures since; App
        Home views are not counted (the view saying so is one of them)."""
        waiting = self.database.rows(
            "SELECT coalesce(last_error, '') AS reason, count(*) AS n FROM outbox "
            "WHERE team_id = ? AND state = 'queued' AND method != 'views.publish' "
            "GROUP BY reason ORDER BY n DESC",
            (team_id,),
        )
        failed = self.database.rows(
            "SELECT coalesce(last_error, '') AS reason, count(*) AS n FROM outbox "
            "WHERE team_id = ? AND state = 'failed' AND created_at >= ? "
            "AND method != 'views.publish' GROUP BY reason ORDER BY n DESC",
            (team_id, stamp(failed_since)),
        )
        return {
            "waiting": sum(row["n"] for row in waiting),
            "waiting_reasons": {row["reason"]: row["n"] for row in waiting if row["reason"]},
            "failed": sum(row["n"] for row in failed),
            "failed_reasons": {row["reason"]: row["n"] for row in failed},
        }
