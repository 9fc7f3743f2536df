"""Stored records for tests that build messages or call handlers directly: one connection and one
item with plausible values, each field overridable. A test passes explicitly every value its
assertions depend on."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from store.connections import Connection
from store.items import Item

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def connection(**changes) -> Connection:
    """An active sandbox connection of team T1, connected by U1 at NOW."""
    values = dict(
        id=1,
        team_id="T1",
        provider="sandbox",
        tenant_id="org",
        tenant_name="Harbour Lane Café Ltd",
        status="active",
        status_reason=None,
        connected_by="U1",
        connected_at=NOW,
        expires_at=NOW.replace(year=2027),
        channel_id="C1",
        refresh_expires_at=None,
        disconnected_by=None,
        disconnected_at=None,
    )
    return Connection(**{**values, **changes})


def item(**changes) -> Item:
    """An item of team T1 submitted in Slack by U2, waiting for its supplier; unset fields None."""
    values = {f.name: None for f in fields(Item)}
    values.update(
        id=4,
        team_id="T1",
        source="slack",
        supplier_name="Pinnacle Plumbng",
        supplier_key="pinnacle",
        date="2026-11-26",
        total="149.99",
        currency="GBP",
        status="needs_supplier",
        attempts=0,
        submitted_by="U2",
        created_at="x",
        updated_at="x",
        bill_url="https://sandbox.test/b/1",
    )
    return Item(**{**values, **changes})
