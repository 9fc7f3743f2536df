"""What the services report, as plain data; the Slack layer decides how it is shown.

Services never build Slack messages: they hand one of these to `Notifier.render` (the
renderer the composition root wires in, `handlers.render`) and queue what comes back, inside
the same `notifier.transaction()` as the change that caused it. Field names are the
keyword names of the message builders in `handlers/*_messages.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# -- items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDuplicate:
    """Held: it looks like `original`, which was already submitted."""

    item: object
    original: object


@dataclass(frozen=True)
class SupplierNeeded:
    """Nobody knows which supplier it is: ask, offering `candidates`."""

    item: object
    org_name: str
    candidates: object


@dataclass(frozen=True)
class WaitingForSync:
    item: object
    connection: object


@dataclass(frozen=True)
class HeldNotConnected:
    item: object


@dataclass(frozen=True)
class HeldExpired:
    item: object
    connection: object


@dataclass(frozen=True)
class ItemResolved:
    item: object
    actor: str
    chosen: str | None = None


@dataclass(frozen=True)
class ItemDiscarded:
    item: object
    actor: str


@dataclass(frozen=True)
class HeldPublished:
    count: int
    provider: str


@dataclass(frozen=True)
class ItemPublishing:
    item: object


@dataclass(frozen=True)
class ItemPublished:
    item: object
    provider: str
    note: str | None = None
    notes: tuple = ()


@dataclass(frozen=True)
class PublishFailed:
    item: object
    words: str


@dataclass(frozen=True)
class PublishQueued:
    item: object
    words: str


@dataclass(frozen=True)
class PromptReminder:
    item: object


# -- sync and connection notices ----------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryReminder:
    connection: object
    now: datetime


@dataclass(frozen=True)
class ConnectionExpiredNotice:
    connection: object


@dataclass(frozen=True)
class FirstSyncFailed:
    connection: object
    error: str | None
    retry_at: datetime | None


@dataclass(frozen=True)
class SyncFailing:
    connection: object
    failures: int
    last_error: str | None
    last_ok: object


@dataclass(frozen=True)
class SyncRecovered:
    connection: object
    run: object


# -- connecting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginCancelled:
    provider: str


@dataclass(frozen=True)
class LoginFailed:
    provider: str
    reason: str


@dataclass(frozen=True)
class NoTenants:
    provider: str


@dataclass(frozen=True)
class ChooseTenant:
    grant: object
    provider: str


@dataclass(frozen=True)
class ConfirmTenantSwitch:
    grant: object
    old_name: str
    new_name: str


@dataclass(frozen=True)
class TenantSwitchKept:
    old_name: str


@dataclass(frozen=True)
class ConnectRaced:
    """Someone else connected while this login was in progress."""

    connection: object


@dataclass(frozen=True)
class Connected:
    connection: object
    reconnected: bool = False
