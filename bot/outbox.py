"""Delivering the outbox (`store.outbox`) to Slack: paced, in order, retried, never twice.

Writers queue rows inside `Outbox.transaction()` together with the change that causes them;
when the outermost transaction commits, the new rows are tried at once in the writer's thread
(so a quiet workspace sees its message as fast as before) and whatever the pacing holds back is
left to the sender: a thread in `ledgerlink serve`, the `outbox` job in `ledgerlink tick`.

Delivery of one row:
* pacing first (`bot.pacing`): a channel about once a second with a small burst, `chat.update`
  and `views.publish` by their Web API tier; a 429 holds the channel (or the method) for exactly
  its Retry-After, in this process and, through the database, in every other one;
* 5xx answers and network errors are retried with backoff (1 s doubling to 5 min), token
  trouble (`invalid_auth`, …) every 5 minutes doubling to an hour; after a day a row gives up;
* a channel Slack refuses for good (`channel_not_found`, `not_in_channel`, `is_archived`) sends
  the message, once, to the next target with the reason: the notification channel, the
  channel the connection was made in, or the submitter's DM;
* more than `GROUP_THRESHOLD` supplier prompts waiting for one channel become one grouped
  message listing them, kept up to date as they are answered;
* every failed attempt on an item's message is written in the item's history.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.pacing import Pacer, channel_key, method_key
from bot.slack_clients import NotInstalled
from store.leases import wall_now
from store.outbox import GROUP, ITEM, POST, PROMPT, PUBLISH, UPDATE, OutboxRow

log = logging.getLogger("ledgerlink.outbox")

LEASE_SECONDS = 30.0  # a claimed row is someone else's to send once this lapses
GROUP_THRESHOLD = 5  # more prompts than this waiting for one channel are grouped
GROUP_CAPACITY = 40  # items one grouped message lists (Slack allows 50 blocks)
GROUP_JOIN_WINDOW = timedelta(minutes=15)  # a newer burst joins a group this recent
GIVE_UP_AFTER = timedelta(days=1)
TRANSIENT_BACKOFF = (1.0, 300.0)  # seconds: first wait, longest wait
AUTH_BACKOFF = (300.0, 3600.0)

CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "cannot_dm_bot", "user_not_found"}
)
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_installed",
        "team_access_not_granted",
        "missing_scope",
    }
)
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


def dm_target(user_id: str) -> str:
    return f"@{user_id}"


def lane_for(team_id: str, target: str) -> str:
    return f"dm:{team_id}:{target[1:]}" if target.startswith("@") else f"chan:{team_id}:{target}"


def _where(target: str) -> str:
    return f"a direct message to <@{target[1:]}>" if target.startswith("@") else f"<#{target}>"


class Refused(Exception):
    """Slack (or the way to it) said no: `reason` in Slack's words, `retry_after` for a 429."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class Outbox:
    def __init__(
        self,
        store,
        clients,
        clock,
        *,
        pacer: Pacer | None = None,
        render_group: Callable | None = None,
        render_note: Callable[[dict, str], dict] | None = None,
        wall: Callable[[], datetime] = wall_now,
    ):
        self.store = store
        self.clients = clients
        self.clock = clock
        self.pacer = pacer or Pacer()
        self.render_group = render_group
        self.render_note = render_note or (lambda message, note: message)
        self.wall = wall  # Slack's Retry-After is real time, whatever the injected clock says
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._local = threading.local()
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._wake = threading.Event()

    # -- queueing ------------------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """A store transaction; the rows queued in it are tried once it has committed."""
        outer = not getattr(self._local, "depth", 0)
        if outer:
            self._local.queued = []
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            with self.store.transaction():
                yield self
        finally:
            self._local.depth -= 1
            queued = self._local.queued if outer else []
            if outer:
                self._local.queued = []
        if queued:
            self.flush(queued)

    def _queue(self, **row) -> int:
        row_id = self.store.add_outbox(**row)
        if getattr(self._local, "depth", 0):
            self._local.queued.append(row_id)
        else:
            self.flush([row_id])
        return row_id

    def post(
        self,
        team_id: str,
        target: str,
        message: dict,
        *,
        thread_ts: str | None = None,
        fallbacks: tuple[str, ...] | list[str] = (),
        purpose: str = "notice",
    ) -> int:
        """Queue a message for a channel ("C…") or a person ("@U…")."""
        return self._queue(
            team_id=team_id,
            method=POST,
            purpose=purpose,
            lane=lane_for(team_id, target),
            payload=message,
            thread_ts=thread_ts,
            **_target(target),
            fallbacks=[f for f in fallbacks if f and f != target],
        )

    def publish_home(self, team_id: str, user_id: str, view: dict) -> int:
        """Queue an App Home publish; a newer one replaces one not sent yet."""
        with self.transaction():
            waiting = self.store.queued_home(team_id, user_id)
            if waiting and self.store.replace_queued(waiting.id, {"view": view}, "home"):
                self._local.queued.append(waiting.id)
                return waiting.id
            return self._queue(
                team_id=team_id,
                method=PUBLISH,
                purpose="home",
                lane=f"home:{team_id}:{user_id}",
                payload={"view": view},
                user_id=user_id,
            )

    def item_message(
        self, item, message: dict, targets: list[str], *, prompt: bool = False
    ) -> int | None:
        """Show `message` as the item's one message: post it the first time (to the first of
        `targets` that Slack accepts), then keep updating it. A post not sent yet takes the
        newer message instead; an update waits for the post it updates; an item listed in a
        grouped message without a message of its own refreshes the group."""
        purpose = PROMPT if prompt else ITEM
        with self.transaction():
            current = self.store.item(item.id)
            group = self.store.group_of(item.id)
            if group is not None:
                self.refresh_group(group.id)
                if current.prompt_ts is None and not self.store.queued_for_item(item.id, POST):
                    return None
            if current.prompt_ts is None:
                waiting = self.store.queued_for_item(item.id, POST)
                if waiting and self.store.replace_queued(waiting.id, message, purpose):
                    return waiting.id
            waiting = self.store.queued_for_item(item.id, UPDATE)
            if waiting and self.store.replace_queued(waiting.id, message, purpose):
                return waiting.id
            if current.prompt_ts is None and not self._post_in_flight(item.id):
                if not targets:
                    self.store.note_item(item.id, "Slack message not posted: no channel to post in")
                    return None
                return self._queue(
                    team_id=item.team_id,
                    method=POST,
                    purpose=purpose,
                    lane=lane_for(item.team_id, targets[0]),
                    payload=message,
                    thread_ts=item.thread_ts if targets[0] == item.channel_id else None,
                    item_id=item.id,
                    **_target(targets[0]),
                    fallbacks=targets[1:],
                )
            return self._queue(
                team_id=item.team_id,
                method=UPDATE,
                purpose=purpose,
                lane=f"item:{item.id}",
                payload=message,
                item_id=item.id,
                **_target(targets[0]) if targets else {},
                fallbacks=targets[1:],
            )

    def thread_post(self, item, message: dict, channel: str, thread_ts: str) -> int:
        """Post the item's own message in a thread (a grouped item opened)."""
        return self._queue(
            team_id=item.team_id,
            method=POST,
            purpose=ITEM,
            lane=lane_for(item.team_id, channel),
            payload=message,
            channel=channel,
            thread_ts=thread_ts,
            item_id=item.id,
        )

    def _post_in_flight(self, item_id: int) -> bool:
        row = self.store.database.row(
            "SELECT 1 AS x FROM outbox WHERE item_id = ? AND method = ? AND state = 'queued'",
            (item_id, POST),
        )
        return row is not None

    def refresh_group(self, group_id: int) -> int | None:
        """Queue an update of a grouped message (one is enough while it waits)."""
        if self.store.queued_group_update(group_id):
            return None
        group = self.store.message_group(group_id)
        return self._queue(
            team_id=group.team_id,
            method=UPDATE,
            purpose=GROUP,
            lane=f"group:{group_id}",
            payload={},
            channel=group.channel,
            group_id=group_id,
        )

    # -- delivering ----------------------------------------------------------------------------

    def flush(self, row_ids: list[int]) -> int:
        """Try these rows now, in this thread; what pacing holds back is the sender's."""
        sent, now, remaining = 0, self.clock.now(), list(row_ids)
        while remaining:
            went = [
                row.id
                for row in self.store.deliverable(now, ids=remaining)
                if self._try(row, now) == 0.0
            ]
            if not went:
                break
            sent += len(went)
            remaining = [row_id for row_id in remaining if row_id not in went]
        self._wake.set()
        return sent

    def run_once(self, now: datetime | None = None) -> tuple[int, float]:
        """Deliver what is due and allowed now, lane after lane until pacing or the queue
        stops it: (how many went, seconds until more may)."""
        now = now or self.clock.now()
        sent, wait = 0, 1.0
        while True:
            went = 0
            for row in self.store.deliverable(now):
                held = self._try(row, now)
                if held == 0.0:
                    went += 1
                else:
                    wait = min(wait, held)
            sent += went
            if not went:
                break
        upcoming = self.store.next_due_at()
        if upcoming is not None and upcoming > now:
            wait = min(wait, (upcoming - now).total_seconds())
        return sent, (0.0 if sent else max(wait, 0.01))

    def drain(self, *, max_seconds: float = 60.0, horizon: float = 10.0, sleep=time.sleep) -> int:
        """Deliver everything due, waiting out pacing and retries due within `horizon`
        seconds (for `ledgerlink tick`, whose clock may stand still at `--now`: time moves on
        from it as it really passes). Rows another process is sending, or due later, are
        left for later."""
        start, started = self.clock.now(), time.monotonic()
        total = 0
        while True:
            now = start + timedelta(seconds=time.monotonic() - started)
            sent, wait = self.run_once(now)
            total += sent
            if time.monotonic() - started >= max_seconds:
                return total
            if not sent:
                upcoming = self.store.next_due_at()
                soon = upcoming is not None and upcoming <= now + timedelta(seconds=horizon)
                if not soon and not self._held_rows(now):
                    return total
                sleep(min(wait, 1.0))

    def _held_rows(self, now: datetime) -> bool:
        """Rows due now that only pacing holds back."""
        return any(self._pace_wait(row, now) > 0 for row in self.store.deliverable(now))

    def wait_for_work(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _pace_key(self, row: OutboxRow) -> str:
        if row.method == POST:
            return channel_key(row.channel or f"dm:{row.user_id}")
        return method_key(row.method)

    def _pace_wait(self, row: OutboxRow, now: datetime) -> float:
        key = self._pace_key(row)
        wait = self.pacer.wait(row.team_id, key)
        not_before = self.store.pace_not_before(row.team_id, key)
        if not_before is not None:
            wait = max(wait, (not_before - self.wall()).total_seconds())
        return max(wait, 0.0)

    def _try(self, row: OutboxRow, now: datetime) -> float:
        """Deliver one row if pacing allows: 0.0 when it was handled, else seconds to wait."""
        if row.purpose == PROMPT and row.thread_ts is None and self._group(row, now):
            return 0.0
        wait = self._pace_wait(row, now)
        key = self._pace_key(row)
        if wait > 0 or not self.pacer.take(row.team_id, key):
            return max(wait, 0.05)
        claimed = self.store.claim_outbox(row.id, self.owner, LEASE_SECONDS)
        if claimed is None:
            self.pacer.refund(row.team_id, key)
            return 1.0
        try:
            self._deliver(claimed)
        except Refused as refused:
            self._refused(claimed, refused, now)
        return 0.0

    def _deliver(self, row: OutboxRow) -> None:
        client = self._client(row.team_id)
        if row.method == PUBLISH:
            _call(client.views_publish, user_id=row.user_id, view=row.message["view"])
            self.store.outbox_sent(row, self.owner, channel=None, ts=None)
            return
        message = self._message(row)
        if row.method == UPDATE:
            channel, ts = self._update_target(row)
            if ts is None:
                return
            _call(client.chat_update, channel=channel, ts=ts, **message)
            self.store.outbox_sent(row, self.owner, channel=channel, ts=ts, posted=False)
            return
        channel = row.channel or self._dm_channel(client, row.team_id, row.user_id)
        answer = _call(client.chat_postMessage, channel=channel, thread_ts=row.thread_ts, **message)
        self.store.outbox_sent(row, self.owner, channel=channel, ts=answer["ts"], posted=True)

    def _message(self, row: OutboxRow) -> dict:
        if row.purpose == GROUP:
            group = self.store.message_group(row.group_id)
            items = [self.store.item(i) for i in self.store.group_item_ids(group.id)]
            message = self.render_group(group, items)
        else:
            message = row.message
        return self.render_note(message, row.note) if row.note else message

    def _update_target(self, row: OutboxRow) -> tuple[str | None, str | None]:
        """Where an update goes; an item whose post never landed gets a post instead."""
        if row.group_id is not None and row.item_id is None:
            group = self.store.message_group(row.group_id)
            if group.ts is None:
                self.store.outbox_sent(row, self.owner, channel=None, ts=None, posted=False)
                return None, None
            return group.channel, group.ts
        item = self.store.item(row.item_id)
        if item.prompt_ts:
            return item.prompt_channel, item.prompt_ts
        group = self.store.group_of(item.id)
        if group is not None or (row.channel is None and row.user_id is None):
            # Listed in a grouped message, or never had anywhere to go: nothing to update.
            self.store.outbox_sent(row, self.owner, channel=None, ts=None, posted=False)
            if group is not None:
                self.refresh_group(group.id)
            return None, None
        client = self._client(row.team_id)
        channel = row.channel or self._dm_channel(client, row.team_id, row.user_id)
        answer = _call(client.chat_postMessage, channel=channel, **self._message(row))
        self.store.outbox_sent(row, self.owner, channel=channel, ts=answer["ts"], posted=True)
        return None, None

    def _client(self, team_id: str):
        try:
            return self.clients.for_delivery(team_id)
        except NotInstalled:
            raise Refused("not_installed") from None

    def _dm_channel(self, client, team_id: str, user_id: str) -> str:
        key = (team_id, user_id)
        if key not in self._dm_channels:
            opened = _call(client.conversations_open, users=user_id)
            self._dm_channels[key] = opened["channel"]["id"]
        return self._dm_channels[key]

    # -- when Slack says no ------------------------------------------------------------------

    def _refused(self, row: OutboxRow, refused: Refused, now: datetime) -> None:
        here = row.channel or (dm_target(row.user_id) if row.user_id else None)
        what = (
            f"Slack message not posted in {_where(here)}"
            if here and row.method != PUBLISH
            else f"Slack {row.method} refused"
        )
        if refused.retry_after is not None:
            wait = refused.retry_after
            key = self._pace_key(row)
            self.pacer.hold(row.team_id, key, wait)
            self.store.set_pace(row.team_id, key, self.wall() + timedelta(seconds=wait))
            note = f"{what}: {refused.reason}; Slack asked to wait {wait:g} s, trying again then"
            self.store.outbox_retry(
                row, self.owner, at=now + timedelta(seconds=wait), error=refused.reason, note=note
            )
            return
        if refused.reason in CHANNEL_ERRORS and here and row.method != PUBLISH:
            self._fall_back(row, refused.reason, what)
            return
        retryable = refused.reason in TRANSIENT_ERRORS or refused.reason in AUTH_ERRORS
        retryable = retryable or (refused.status or 0) >= 500 or refused.status == 0
        created = datetime.fromisoformat(row.created_at)
        if retryable and now - created < GIVE_UP_AFTER:
            first, longest = AUTH_BACKOFF if refused.reason in AUTH_ERRORS else TRANSIENT_BACKOFF
            wait = min(first * 2**row.attempts, longest)
            note = f"{what}: {refused.reason}; trying again in {wait:g} s"
            self.store.outbox_retry(
                row, self.owner, at=now + timedelta(seconds=wait), error=refused.reason, note=note
            )
            log.warning("%s (%s): %s, retrying in %g s", what, row.team_id, refused.reason, wait)
            return
        note = f"{what}: {refused.reason}; not sent"
        log.warning("%s (%s): %s; giving up", what, row.team_id, refused.reason)
        self.store.outbox_failed(row, self.owner, error=refused.reason, note=note)

    def _fall_back(self, row: OutboxRow, reason: str, what: str) -> None:
        """Send it once to the next target, saying why it is there."""
        here = row.channel or dm_target(row.user_id)
        targets = [t for t in row.fallback_targets if t != here]
        if not targets:
            note = f"{what}: {reason}; nowhere else to post it"
            log.warning("%s (%s): %s; no fallback", what, row.team_id, reason)
            self.store.outbox_failed(row, self.owner, error=reason, note=note)
            return
        target, rest = targets[0], targets[1:]
        fallback = {
            "payload": row.message,
            "lane": lane_for(row.team_id, target),
            "fallbacks": rest,
            "note": f"ledgerlink could not post this in {_where(here)} ({reason}).",
            **_target(target),
        }
        note = f"{what}: {reason}; posting it in {_where(target)} instead"
        log.warning("%s (%s): %s; falling back to %s", what, row.team_id, reason, target)
        fallback_id = self.store.outbox_failed(
            row, self.owner, error=reason, note=note, fallback=fallback
        )
        if fallback_id:
            self.flush([fallback_id])

    # -- grouped prompts -----------------------------------------------------------------------

    def _group(self, row: OutboxRow, now: datetime) -> bool:
        """More than a handful of prompts waiting for this channel: list them in one grouped
        message instead. True if `row` was grouped."""
        if len(self.store.queued_prompts(row.lane)) <= GROUP_THRESHOLD:
            return False
        with self.transaction():
            waiting = self.store.queued_prompts(row.lane)
            if len(waiting) <= GROUP_THRESHOLD:
                return False
            group, size = self.store.open_group(row.team_id, row.channel, now - GROUP_JOIN_WINDOW)
            fresh = group is None or size >= GROUP_CAPACITY
            if fresh:
                group, size = self.store.create_group(row.team_id, row.channel), 0
            members = waiting[: GROUP_CAPACITY - size]
            self.store.group_rows(group, members)
            for member in members:
                self.store.note_item(
                    member.item_id, f"listed in a grouped message of prompts in <#{row.channel}>"
                )
            if fresh:
                self._queue(
                    team_id=row.team_id,
                    method=POST,
                    purpose=GROUP,
                    lane=row.lane,
                    payload={},
                    channel=row.channel,
                    group_id=group.id,
                    fallbacks=row.fallback_targets,
                )
            else:
                self.refresh_group(group.id)
        return any(member.id == row.id for member in members)


class SenderThread:
    """Delivers the outbox in `ledgerlink serve`, waking when rows are queued."""

    def __init__(self, outbox: Outbox):
        self._outbox = outbox
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ledgerlink-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._outbox._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                _, wait = self._outbox.run_once()
            except Exception:  # a bad row must not stop every other message
                log.exception("delivering the outbox failed; trying again shortly")
                wait = 1.0
            if wait > 0 and not self._stop.is_set():
                self._outbox.wait_for_work(wait)


class OutboxJob:
    """`ledgerlink tick`: deliver every message that is due, then stop."""

    name = "outbox"

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    def run_due(self, now) -> int:
        return self.outbox.drain()


def _target(target: str) -> dict:
    if target.startswith("@"):
        return {"user_id": target[1:], "channel": None}
    return {"channel": target}


def _call(method, **kwargs):
    """One Web API call; anything but success becomes `Refused` with Slack's reason."""
    try:
        return method(**kwargs)
    except SlackApiError as error:
        response = error.response
        status = getattr(response, "status_code", None)
        headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
        retry_after = None
        if status == 429:
            value = headers.get("retry-after")
            value = value[0] if isinstance(value, list) else value
            try:
                retry_after = float(value)
            except (TypeError, ValueError):
                retry_after = 1.0
        reason = str(response.get("error") or f"HTTP {status}")
        raise Refused(reason, status=status, retry_after=retry_after) from None
    except (SlackClientError, OSError) as error:
        raise Refused(type(error).__name__, status=0) from None
