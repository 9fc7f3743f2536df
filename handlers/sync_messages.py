"""Block Kit for syncing and scheduled notices: pure functions, no I/O.

Refresh replies (`/integrations refresh`), expiry reminders and notices, and sync-failure
alerts. Provider and user words are escaped here; times are shown in each reader's own time
zone with Slack's date formatting (a UTC fallback for clients that can't).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from bot.wording import (  # noqa: F401  (the sync outcome wording, re-exported)
    provider_name,
    rate_limited_text,
    refused_text,
    revoked_text,
    unavailable_text,
    utc_time,
)
from handlers.connection_messages import actions, reconnect_button
from handlers.messages import NOT_CONNECTED, day, refusal_message, section
from handlers.text import bold, escape

# kind -> (one, many), in the order lists are described to people
KIND_NAMES: dict[str, tuple[str, str]] = {
    "account": ("category", "categories"),
    "supplier": ("supplier", "suppliers"),
    "customer": ("customer", "customers"),
    "tax_rate": ("tax rate", "tax rates"),
    "tracking": ("tracking option", "tracking options"),
    "payment_method": ("payment method", "payment methods"),
}


def _message(text: str, *extra: dict) -> dict:
    return {"text": text, "blocks": [section(text), *extra]}


def _org(connection) -> str:
    return f"{provider_name(connection.provider)} data for {bold(connection.tenant_name)}"


def slack_time(moment: datetime) -> str:
    """A time each reader sees in their own zone, e.g. "Nov 26, 2026 at 9:00 AM"."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{utc_time(moment)}>"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _amount(count: int, kind: str) -> str:
    one, many = KIND_NAMES.get(kind, (kind, kind + "s"))
    return f"{count} {one if count == 1 else many}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def change_summary(counts: Mapping[str, Mapping[str, int]]) -> str:
    """ "+2 categories, 14 suppliers updated (3 new); tax rates unchanged" """
    changed, unchanged = [], []
    for kind in [*KIND_NAMES, *(k for k in counts if k not in KIND_NAMES)]:
        if kind not in counts:
            continue
        new = counts[kind].get("new", 0)
        updated = counts[kind].get("updated", 0)
        deactivated = counts[kind].get("deactivated", 0)
        total = new + updated + deactivated
        if total == 0:
            unchanged.append(KIND_NAMES.get(kind, (kind, kind + "s"))[1])
        elif total == new:
            changed.append("+" + _amount(new, kind))
        else:
            details = [f"{n} {word}" for n, word in ((new, "new"), (deactivated, "archived")) if n]
            text = f"{_amount(total, kind)} updated"
            changed.append(f"{text} ({', '.join(details)})" if details else text)
    if not changed:
        return "nothing changed"
    summary = ", ".join(changed)
    if unchanged:
        summary += f"; {_join(unchanged)} unchanged"
    return summary


# -- /integrations refresh ------------------------------------------------------------------


def not_connected() -> dict:
    return _message(NOT_CONNECTED)


def full_refresh_refused(admins: tuple[str, ...]) -> dict:
    refusal = refusal_message("run a full refresh", admins)["text"]
    return _message(
        f"{refusal} Anyone can run `/integrations refresh`, which fetches what changed."
    )


def refreshing(connection, *, full: bool) -> dict:
    what = "all " + _org(connection) if full else _org(connection)
    return _message(f":arrows_counterclockwise: Refreshing {what}…")


def list_label(kinds: tuple[str, ...]) -> str:
    """What one provider list holds, in people's words: "contacts" for suppliers and customers
    read together, else the first kind's plural ("suppliers", "categories")."""
    if set(kinds) == {"supplier", "customer"}:
        return "contacts"
    kind = kinds[0] if kinds else "record"
    return KIND_NAMES.get(kind, (kind, kind + "s"))[1]


def refresh_progress(connection, progress, *, full: bool = False) -> dict:
    """The refresh reply while a long sync runs: "… 12,000 of about 100,000 contacts"."""
    what = "all " + _org(connection) if full else _org(connection)
    label = list_label(progress.kinds)
    if progress.expected:
        done = f"{progress.read:,} of about {progress.expected:,} {label}"
    else:
        done = f"{progress.read:,} {label} so far"
    return _message(f":arrows_counterclockwise: Refreshing {what}… {done}")


def refresh_outcome(connection, outcome) -> dict:
    """The refresh reply, replaced with how it went."""
    if outcome.ok:
        what = "Full refresh of {} done" if outcome.full else "Refreshed {}"
        return _message(
            f":white_check_mark: {what.format(_org(connection))} in {duration(outcome.seconds)}: "
            f"{change_summary(outcome.counts)}."
        )
    if outcome.result == "expired":
        return connection_expired_reply(connection, outcome.error)
    if outcome.result == "deferred":
        return _message(
            f":hourglass: Couldn't refresh {_org(connection)} yet. {escape(outcome.error or '')}"
        )
    return _message(
        f":warning: Couldn't refresh {_org(connection)}: {escape(outcome.error or '')}\n"
        "The lists from the last sync are kept."
    )


def refresh_busy(connection, running) -> dict:
    who = f"<@{running.requested_by}>" if running.requested_by else "ledgerlink's scheduled sync"
    when = f" at {slack_time(running.started_at)}" if running.started_at else ""
    return _message(
        f":hourglass: A refresh of {_org(connection)} is already running: {who} started it"
        f"{when}. Its changes will be there when it finishes; there's no need to start another."
    )


def connection_expired_reply(connection, detail: str | None = None) -> dict:
    text = (
        f":red_circle: The {provider_name(connection.provider)} connection to "
        f"{bold(connection.tenant_name)} has expired, so ledgerlink can't refresh its data. "
        "An admin can reconnect to renew it; nothing is lost meanwhile."
    )
    if detail:
        text += f"\n{escape(detail)}"
    return _message(text, actions(reconnect_button(connection.id, connection.provider)))


def provider_unavailable(connection) -> dict:
    name = provider_name(connection.provider)
    return _message(
        f":warning: {name} isn't set up on this ledgerlink server, so it can't refresh. "
        "Ask whoever runs ledgerlink to configure it."
    )


# -- scheduled notices ----------------------------------------------------------------------


def expiry_reminder(connection, now: datetime) -> dict:
    days = max(1, math.ceil((connection.expires_at - now).total_seconds() / 86400))
    text = (
        f":calendar: Your {provider_name(connection.provider)} connection to "
        f"{bold(connection.tenant_name)} expires in {days} day{'' if days == 1 else 's'} "
        f"({day(connection.expires_at)}). Reconnect to keep publishing."
    )
    return _message(text, actions(reconnect_button(connection.id, connection.provider)))


def connection_expired_notice(connection) -> dict:
    name = provider_name(connection.provider)
    reason = connection.status_reason or "it reached its expiry date"
    text = (
        f":red_circle: The {name} connection to {bold(connection.tenant_name)} has expired: "
        f"{escape(reason)}\nPublishing to {name} is paused until someone reconnects; items "
        "wait and nothing is lost."
    )
    return _message(text, actions(reconnect_button(connection.id, connection.provider)))


def sync_failing(connection, failures: int, last_error: str | None, last_ok) -> dict:
    since = (
        f"The last successful sync was {slack_time(last_ok.finished_at)}."
        if last_ok is not None and last_ok.finished_at
        else "It hasn't synced successfully yet."
    )
    text = (
        f":warning: ledgerlink couldn't sync {_org(connection)} the last {failures} times. "
        f"The last error: {escape(last_error or 'unknown')}\n{since} The lists ledgerlink has are "
        "kept, and it keeps trying; `/integrations refresh` tries again now."
    )
    return _message(text)


def first_sync_failed(connection, error: str | None, retry_at: datetime | None) -> dict:
    when = f" at {slack_time(retry_at)}" if retry_at else " shortly"
    text = (
        f":warning: ledgerlink couldn't read {_org(connection)} for the first time: "
        f"{escape(error or 'unknown error')}\nItems sent meanwhile are kept and wait for the first "
        f"sync; ledgerlink tries again{when}, and `/integrations refresh` tries now."
    )
    return _message(text)


def sync_recovered(connection, run) -> dict:
    return _message(
        f":white_check_mark: Syncing {_org(connection)} works again: {change_summary(run.counts)}."
    )
