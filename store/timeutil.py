"""Timestamps are stored as ISO-8601 text in UTC, so they sort and compare as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: ledgerlink only stores aware UTC times")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)
