"""Plain words the services store or pass on: provider names and sync outcome wording.

No Slack formatting here: these are stored as a run's error or a connection's status reason
(times in UTC), and every message that shows them escapes them (`handlers/`).
"""

from __future__ import annotations

from datetime import datetime

PROVIDER_NAMES = {"xero": "Xero", "quickbooks": "QuickBooks", "sandbox": "Sandbox Books"}


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


def day(moment) -> str:
    """26 Nov 2027"""
    return f"{moment.day} {moment:%b %Y}"


def utc_time(moment: datetime) -> str:
    """26 Nov 2026 09:00 UTC"""
    return f"{day(moment)} {moment:%H:%M} UTC"


def rate_limited_text(provider: str, scope: str, retry_at: datetime) -> str:
    limit = {"day": "daily", "minute": "per-minute", "concurrent": "concurrent"}.get(scope, scope)
    return (
        f"{provider_name(provider)} says ledgerlink reached its {limit} request limit; "
        f"ledgerlink will try again after {utc_time(retry_at)}."
    )


def revoked_text(provider: str, error: str) -> str:
    return f"{provider_name(provider)} refused ledgerlink's access ({error})."


def unavailable_text(provider: str, error: str) -> str:
    return (
        f"{provider_name(provider)} didn't answer properly ({error}). "
        "ledgerlink will try again shortly."
    )


def refused_text(provider: str, error: str) -> str:
    return f"{provider_name(provider)} refused the request ({error})."
