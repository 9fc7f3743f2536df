"""Items (receipts and bills) and supplier rules.

An item is stored before anything else happens, and every change of status goes through
`move_item`, an atomic compare-and-set that also records the change in `item_events`: the
first of two concurrent answers wins, and the history says who did what.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from store.timeutil import iso

ITEM_FIELDS = (
    "supplier_name",
    "date",
    "due_date",
    "total",
    "currency",
    "tax",
    "reference",
    "description",
    "category",
    "category_account_id",
)


@dataclass(frozen=True)
class Item:
    id: int
    team_id: str
    external_id: str | None
    source: str
    submitted_by: str | None
    channel_id: str | None
    thread_ts: str | None
    supplier_name: str
    supplier_key: str
    date: str
    due_date: str | None
    total: str
    currency: str | None
    tax: str | None
    reference: str | None
    description: str | None
    category: str | None
    status: str
    hold_reason: str | None
    duplicate_of: int | None
    connection_id: int | None
    supplier_id: str | None
    supplier_display: str | None
    resolution: str | None
    resolved_by: str | None
    idempotency_key: str | None
    bill_id: str | None
    bill_url: str | None
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    prompt_channel: str | None
    prompt_ts: str | None
    prompt_reminded_at: str | None
    created_at: str
    updated_at: str
    category_account_id: str | None = None


_COLUMNS = {f.name for f in fields(Item)}


@dataclass(frozen=True)
class SupplierRule:
    connection_id: int
    name_key: str
    supplier_id: str
    supplier_name: str
    created_by: str
    created_at: str


class ItemQueries:
    def create_item(
        self,
        *,
        team_id: str,
        source: str,
        supplier_key: str,
        values: dict,
        external_id: str | None = None,
        submitted_by: str | None = None,
        channel_id: str | None = None,
        thread_ts: str | None = None,
    ) -> tuple[Item, bool]:
        """Store a new item (status received). With an `external_id` already used in this
        workspace, nothing is stored and the first item is returned with created=False."""
        now = iso(self.clock.now())
        columns = {name: values.get(name) for name in ITEM_FIELDS}
        with self.database.write() as db:
            if external_id is not None:
                existing = db.execute(
                    "SELECT id FROM items WHERE team_id = ? AND external_id = ?",
                    (team_id, external_id),
                ).fetchone()
                if existing:
                    return self.item(existing[0]), False
            # Column names come from ITEM_FIELDS, never from input.
            item_id = db.scalar(
                "INSERT INTO items (team_id, external_id, source, submitted_by, channel_id, "  # noqa: S608
                "thread_ts, supplier_key, status, created_at, updated_at, "
                + ", ".join(columns)
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, "
                + ", ".join("?" for _ in columns)
                + ") RETURNING id",
                (
                    team_id,
                    external_id,
                    source,
                    submitted_by,
                    channel_id,
                    thread_ts,
                    supplier_key,
                    now,
                    now,
                    *columns.values(),
                ),
            )
            db.execute(
                "UPDATE items SET idempotency_key = ? WHERE id = ?",
                (f"ledgerlink-{team_id}-item-{item_id}", item_id),
            )
            db.execute(
                "INSERT INTO item_events (item_id, status, detail, actor, at) "
                "VALUES (?, 'received', ?, ?, ?)",
                (item_id, source, submitted_by, now),
            )
        return self.item(item_id), True

    def item(self, item_id: int) -> Item | None:
        row = self.database.row("SELECT * FROM items WHERE id = ?", (item_id,))
        return Item(**row) if row else None

    def team_item(self, team_id: str, item_id: int) -> Item | None:
        """An item only if it belongs to `team_id`: workspaces never see each other's."""
        row = self.database.row(
            "SELECT * FROM items WHERE id = ? AND team_id = ?", (item_id, team_id)
        )
        return Item(**row) if row else None

    def move_item(
        self,
        item_id: int,
        from_statuses: tuple[str, ...],
        to_status: str,
        *,
        actor: str | None = None,
        detail: str | None = None,
        **changes,
    ) -> Item | None:
        """Compare-and-set: move the item to `to_status` only if it is in one of
        `from_statuses`; returns the updated item, or None if someone else moved it first."""
        unknown = set(changes) - _COLUMNS
        if unknown:
            raise ValueError(f"unknown item columns {unknown}")
        now = iso(self.clock.now())
        sets = ", ".join(f"{name} = ?" for name in changes)
        with self.database.write() as db:
            # Column names were checked against Item's fields above.
            cursor = db.execute(
                f"UPDATE items SET status = ?, updated_at = ?{', ' + sets if sets else ''} "  # noqa: S608
                f"WHERE id = ? AND status IN ({', '.join('?' for _ in from_statuses)})",
                (to_status, now, *changes.values(), item_id, *from_statuses),
            )
            if cursor.rowcount != 1:
                return None
            db.execute(
                "INSERT INTO item_events (item_id, status, detail, actor, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (item_id, to_status, detail, actor, now),
            )
        return self.item(item_id)

    def update_item(self, item_id: int, **changes) -> Item:
        """Change fields that are not the status (message timestamps, reminders)."""
        unknown = set(changes) - _COLUMNS
        if unknown or "status" in changes:
            raise ValueError(f"not updatable here: {unknown or 'status'}")
        sets = ", ".join(f"{name} = ?" for name in changes)
        self.database.execute(
            f"UPDATE items SET {sets} WHERE id = ?",  # noqa: S608 (checked)
            (*changes.values(), item_id),
        )
        return self.item(item_id)

    def item_events(self, item_id: int) -> list[dict]:
        return self.database.rows(
            "SELECT status, detail, actor, at FROM item_events WHERE item_id = ? ORDER BY id",
            (item_id,),
        )

    def find_duplicate(self, item: Item) -> Item | None:
        """An earlier live item in the workspace with the same supplier and total, and the
        same date or the same supplier's reference."""
        row = self.database.row(
            "SELECT * FROM items WHERE team_id = ? AND supplier_key = ? AND total = ? "
            "AND id < ? AND status != 'discarded' AND (date = ? OR (reference IS NOT NULL "
            "AND reference != '' AND reference = ?)) ORDER BY id LIMIT 1",
            (item.team_id, item.supplier_key, item.total, item.id, item.date, item.reference),
        )
        return Item(**row) if row else None

    def _items_where(self, condition: str, params: tuple) -> list[Item]:
        # Conditions are this module's own text; every value is a parameter.
        return [
            Item(**row)
            for row in self.database.rows(f"SELECT * FROM items WHERE {condition}", params)  # noqa: S608
        ]

    def items_in(
        self,
        team_id: str,
        status: str,
        *,
        hold_reason: str | None = None,
    ) -> list[Item]:
        if hold_reason is None:
            return self._items_where("team_id = ? AND status = ? ORDER BY id", (team_id, status))
        return self._items_where(
            "team_id = ? AND status = ? AND hold_reason = ? ORDER BY id",
            (team_id, status, hold_reason),
        )

    def items_due(self, now: datetime) -> list[Item]:
        """Items waiting for a retry whose time has come."""
        return self._items_where(
            "status = 'ready' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at LIMIT 100",
            (iso(now),),
        )

    def stale_publishing(self, before: datetime) -> list[Item]:
        """Items left 'publishing' by a process that died mid-call."""
        return self._items_where(
            "status = 'publishing' AND updated_at < ? LIMIT 100", (iso(before),)
        )

    def unanswered_prompts(self, before: datetime) -> list[Item]:
        return self._items_where(
            "status = 'needs_supplier' AND prompt_ts IS NOT NULL "
            "AND prompt_reminded_at IS NULL AND updated_at <= ? LIMIT 100",
            (iso(before),),
        )

    def undelivered_prompts(self, before: datetime, *, since: datetime) -> list[Item]:
        """Items waiting for a supplier whose prompt Slack refused, last tried before `before`
        and created after `since`."""
        return self._items_where(
            "status = 'needs_supplier' AND prompt_ts IS NULL AND updated_at <= ? "
            "AND created_at >= ? ORDER BY id LIMIT 100",
            (iso(before), iso(since)),
        )

    def claim_prompt_repost(self, item: Item, now: datetime) -> bool:
        """True for exactly one caller: posting `item`'s prompt again is theirs to do (the
        claim moves `updated_at`, so the next try waits again)."""
        cursor = self.database.execute(
            "UPDATE items SET updated_at = ? WHERE id = ? AND updated_at = ? "
            "AND status = 'needs_supplier' AND prompt_ts IS NULL",
            (iso(now), item.id, item.updated_at),
        )
        return cursor.rowcount == 1

    def note_item(self, item_id: int, detail: str) -> None:
        """Add a line to the item's history without changing its status."""
        self.database.execute(
            "INSERT INTO item_events (item_id, status, detail, actor, at) "
            "SELECT id, status, ?, NULL, ? FROM items WHERE id = ?",
            (detail[:500], iso(self.clock.now()), item_id),
        )

    def claim_prompt_reminder(self, item_id: int, now: datetime) -> bool:
        """True for exactly one caller: the reminder for this prompt is theirs to send."""
        cursor = self.database.execute(
            "UPDATE items SET prompt_reminded_at = ? WHERE id = ? AND prompt_reminded_at IS NULL",
            (iso(now), item_id),
        )
        return cursor.rowcount == 1

    # -- supplier rules --------------------------------------------------------------------

    def supplier_rule(self, connection_id: int, name_key: str) -> SupplierRule | None:
        row = self.database.row(
            "SELECT * FROM supplier_rules WHERE connection_id = ? AND name_key = ?",
            (connection_id, name_key),
        )
        return SupplierRule(**row) if row else None

    def save_supplier_rule(
        self,
        connection_id: int,
        name_key: str,
        supplier_id: str,
        supplier_name: str,
        created_by: str,
    ) -> None:
        self.database.execute(
            "INSERT INTO supplier_rules (connection_id, name_key, supplier_id, supplier_name, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(connection_id, name_key) DO UPDATE SET supplier_id = excluded.supplier_id, "
            "supplier_name = excluded.supplier_name, created_by = excluded.created_by, "
            "created_at = excluded.created_at",
            (
                connection_id,
                name_key,
                supplier_id,
                supplier_name,
                created_by,
                iso(self.clock.now()),
            ),
        )
