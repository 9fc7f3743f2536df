"""Items: submission, supplier matching, prompts, and publishing bills.

Life of an item: stored as `received` before anything else happens; then held (a possible
duplicate, or no working connection), `needs_supplier` (a prompt in Slack asks which supplier),
or `ready`; `publishing` while the bill is sent; `published`, `failed` (the provider refused:
Retry / Edit), or back to `ready` with a retry time (rate limits, outages). Every move is a
compare-and-set in the store, so the first answer to a prompt wins and nothing publishes twice.
The idempotency key is stored with the item when it is created, so a crash and retry never
creates a second bill.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bot import categories
from bot import outcomes as o
from bot.item_input import ItemInput
from bot.matching import Candidate, SupplierIndex, match_key
from bot.notices import Notices
from bot.service import Service
from providers.base import (
    Bill,
    BillLine,
    ConnectionExpired,
    DuplicateName,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Record,
    ValidationFailed,
)
from store.connections import ConnectionTokenStore
from store.timeutil import iso

log = logging.getLogger("ledgerlink.items")

RETRY_BASE = timedelta(minutes=2)
RETRY_MAX = timedelta(hours=6)
PROMPT_REMINDER_AFTER = timedelta(hours=24)
STALE_PUBLISHING_AFTER = timedelta(minutes=15)
HOLD_NO_CONNECTION, HOLD_EXPIRED, HOLD_DUPLICATE = "no_connection", "expired", "duplicate"
# The connection has not finished its first sync: its suppliers and accounts are not known yet.
HOLD_FIRST_SYNC = "first_sync"


class SupplierDirectory:
    """One supplier index per connection, built once per sync (it is rebuilt when a newer
    successful sync exists) and extended in place when ledgerlink creates a supplier."""

    def __init__(self, store):
        self._store = store
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[object, SupplierIndex]] = {}

    def index(self, connection_id: int) -> SupplierIndex:
        run = self._store.latest_sync_run(connection_id, "ok")
        version = run.id if run else None
        with self._lock:
            cached = self._cache.get(connection_id)
        if cached and cached[0] == version:
            return cached[1]
        index = SupplierIndex.build(
            (r.remote_id, r.name) for r in self._store.active_records(connection_id, "supplier")
        )
        with self._lock:
            self._cache[connection_id] = (version, index)
        return index

    def add(self, connection_id: int, record: Record) -> None:
        with self._lock:
            cached = self._cache.get(connection_id)
            if cached:
                self._cache[connection_id] = (
                    cached[0],
                    cached[1].with_supplier(record.remote_id, record.name),
                )


class ItemService(Service):
    def __init__(self, *, directory=None, **parts):
        super().__init__(**parts)
        self.directory = directory or SupplierDirectory(self.store)
        self.notices = Notices(self.store, self.notifier)

    # -- submitting --------------------------------------------------------------------------

    def submit(
        self,
        team_id: str,
        data: ItemInput,
        *,
        source: str,
        submitted_by: str | None = None,
        channel_id: str | None = None,
        thread_ts: str | None = None,
        category_account_id: str | None = None,
    ):
        """Store the item, then sort it (duplicate? supplier known?). Returns (item, created);
        a repeated `external_id` returns the first item untouched. `category_account_id` is
        what `check_category` resolved the category to, when it could."""
        self.store.ensure_workspace(team_id)
        item, created = self.store.create_item(
            team_id=team_id,
            source=source,
            supplier_key=match_key(data.supplier),
            values={**data.values(), "category_account_id": category_account_id},
            external_id=data.external_id,
            submitted_by=data.submitted_by or submitted_by,
            channel_id=data.channel or channel_id,
            thread_ts=thread_ts,
        )
        if created:
            if category_account_id:
                self._note_category(item, category_account_id)
            for field, text in data.cleaned:
                self.store.note_item(item.id, f"{field} as submitted: {text!r}")
            item = self.triage(item)
        return item, created

    def _note_category(self, item, account_id: str) -> None:
        """Keep, in the item's history, what the typed category was taken to mean."""
        connection = self.store.current_connection(item.team_id)
        record = connection and self.store.list_record(connection.id, "account", account_id)
        account = categories.label(record) if record else account_id
        self.store.note_item(item.id, f"category “{item.category}” is the account {account}")

    def check_category(self, team_id: str, category: str | None) -> categories.Resolution | None:
        """Resolve a submitted category against the workspace's synced chart of accounts.

        None when there is nothing to check yet (no category, no connection, or no first sync:
        the item waits and its category is resolved when the lists arrive); otherwise the
        resolution, whose `error` the submitter is shown (HTTP 400 / the form's field)."""
        if not category:
            return None
        connection = self.store.current_connection(team_id)
        if connection is None or not self._synced(connection):
            return None
        return self.resolve_category(connection, category)

    def resolve_category(self, connection, text: str) -> categories.Resolution:
        return categories.resolve_category(self.store.all_records(connection.id, "account"), text)

    def _synced(self, connection) -> bool:
        return self.store.latest_sync_run(connection.id, "ok") is not None

    def triage(self, item, *, skip_duplicate: bool = False, start: bool = True):
        """Sort a received item; `start=False` leaves a ready item for the caller to publish."""
        if not skip_duplicate:
            original = self.store.find_duplicate(item)
            if original is not None:
                held = self._hold(
                    item, HOLD_DUPLICATE, f"duplicate of #{original.id}", duplicate_of=original.id
                )
                self._show(held, self.notifier.render(o.ItemDuplicate(held, original)))
                return held
        connection = self.store.current_connection(item.team_id)
        if connection is None or connection.status != "active":
            return self._hold_for_connection(item, connection, ("received",))
        if not self._synced(connection):
            return self._wait_for_first_sync(item, connection)
        if item.category and not item.category_account_id:
            resolved = self.resolve_category(connection, item.category)
            if resolved.error:
                return self._fail(item, resolved.error, from_status="received")
            item = self.store.update_item(item.id, category_account_id=resolved.account.remote_id)
            self._note_category(item, resolved.account.remote_id)
        rule = self.store.supplier_rule(connection.id, match_key(item.supplier_name))
        if rule is not None:
            return self._ready(
                item, connection, rule.supplier_id, rule.supplier_name, "rule", start=start
            )
        index = self.directory.index(connection.id)
        exact = index.exact(item.supplier_name)
        if exact is not None:
            return self._ready(
                item, connection, exact.supplier_id, exact.name, "exact", start=start
            )
        if not self.store.settings(item.team_id).warn_new_supplier:
            return self._ready(
                item, connection, None, item.supplier_name, "auto_create", start=start
            )
        candidates = index.candidates(item.supplier_name)
        with self.notifier.transaction():  # the prompt is stored with the status it explains
            waiting = self.store.move_item(
                item.id, ("received",), "needs_supplier", connection_id=connection.id
            )
            self._show(
                waiting,
                self.notifier.render(o.SupplierNeeded(waiting, connection.tenant_name, candidates)),
                prompt=True,
            )
        return self.store.item(item.id)

    def _ready(
        self,
        item,
        connection,
        supplier_id,
        display,
        resolution,
        *,
        actor=None,
        from_statuses=("received",),
        announce: dict | None = None,
        start: bool = True,
    ):
        """Move to ready (compare-and-set), show `announce` if given, then publish."""
        with self.notifier.transaction():
            ready = self.store.move_item(
                item.id,
                from_statuses,
                "ready",
                actor=actor,
                connection_id=connection.id,
                supplier_id=supplier_id,
                supplier_display=display,
                resolution=resolution,
                resolved_by=actor,
                detail=resolution,
            )
            if ready is not None and announce is not None:
                self._show(ready, announce)
        if ready is None:
            return None
        if start:
            self.executor.submit(self.publish, ready.id)
        return ready

    def _wait_for_first_sync(self, item, connection):
        """Hold the item until the connection's first sync commits (`release_waiting`)."""
        held = self._hold(
            item, HOLD_FIRST_SYNC, "waiting for the first sync", connection_id=connection.id
        )
        if held is None:
            return self.store.item(item.id)
        self._show(held, self.notifier.render(o.WaitingForSync(held, connection)))
        if self._synced(connection):  # the sync committed while this item was being held
            self.release_waiting(connection)
            return self.store.item(item.id)
        return held

    def release_waiting(self, connection) -> int:
        """After a sync commits: sort every item that waited for the connection's first sync
        (they are matched against the fresh lists, and publish if their supplier is known)."""
        if connection is None or connection.status != "active":
            return 0
        count = 0
        for item in self.store.items_in(connection.team_id, "held"):
            if item.hold_reason != HOLD_FIRST_SYNC:
                continue
            moved = self.store.move_item(
                item.id, ("held",), "received", hold_reason=None, detail="first sync done"
            )
            if moved is None:
                continue
            try:
                self.triage(moved, skip_duplicate=True)
            except Exception:  # one item going wrong must not keep the others waiting
                log.exception("sorting item %s after the first sync failed", item.id)
                continue
            count += 1
        return count

    def _hold(self, item, reason: str, detail: str, *, from_statuses=("received",), **changes):
        """Move the item to `held` for `reason` (None when it has moved on meanwhile)."""
        return self.store.move_item(
            item.id, from_statuses, "held", hold_reason=reason, detail=detail, **changes
        )

    def _hold_for_connection(self, item, connection, from_statuses):
        reason = HOLD_NO_CONNECTION if connection is None else HOLD_EXPIRED
        held = self._hold(item, reason, reason, from_statuses=from_statuses)
        if held is None:
            return self.store.item(item.id)
        if connection is None:
            self._show(held, self.notifier.render(o.HeldNotConnected(held)))
        else:
            self._show(held, self.notifier.render(o.HeldExpired(held, connection)))
            self.notices.tell_expired(connection)
        return held

    # -- answering the prompt ----------------------------------------------------------------

    def candidates_for(self, item, query: str) -> list[Candidate]:
        if item.connection_id is None:
            return []
        return self.directory.index(item.connection_id).search(query, limit=100)

    def use_existing(self, item, supplier_id: str, *, actor: str):
        """Resolve with an existing supplier and learn the rule. (item, None) on success, or
        (current item, reason) when it was already resolved or the supplier is unknown."""
        record = (
            self.store.list_record(item.connection_id, "supplier", supplier_id)
            if item.connection_id
            else None
        )
        if record is None or not record.active:
            return item, "That supplier is no longer available in the accounting software."
        connection = self.store.connection(item.connection_id)
        # The rule is learnt by whoever wins the compare-and-set below; saving it first is
        # harmless for a loser, whose choice of an existing supplier is just as valid.
        announce = self.notifier.render(o.ItemResolved(item, actor, chosen=record.name))
        ready = self._ready(
            item,
            connection,
            record.remote_id,
            record.name,
            "chosen",
            actor=actor,
            from_statuses=("needs_supplier",),
            announce=announce,
        )
        if ready is None:
            return self.store.item(item.id), "already"
        self.store.save_supplier_rule(
            connection.id, match_key(item.supplier_name), record.remote_id, record.name, actor
        )
        self.store.audit(
            item.team_id, actor, "supplier_rule", name=item.supplier_name, supplier=record.name
        )
        return ready, None

    def create_supplier(self, item, *, actor: str):
        """Resolve by creating the supplier at the provider (or using the one that exists)."""
        claimed = self.store.move_item(
            item.id,
            ("needs_supplier",),
            "ready",
            actor=actor,
            resolution="created",
            resolved_by=actor,
            supplier_display=item.supplier_name,
            detail="create supplier",
        )
        if claimed is None:
            return self.store.item(item.id), "already"
        # Publishing creates it: the same code path as the "warning off" case, with retries.
        self._show(
            claimed,
            self.notifier.render(o.ItemResolved(claimed, actor)),
        )
        self.executor.submit(self.publish, claimed.id)
        return claimed, None

    # -- holds, retries and edits ------------------------------------------------------------

    def publish_anyway(self, item, *, actor: str):
        """Release an item held as a possible duplicate (only that kind of hold)."""
        if item.status != "held" or item.hold_reason != HOLD_DUPLICATE:
            return item, "already"
        moved = self.store.move_item(
            item.id, ("held",), "received", actor=actor, hold_reason=None, detail="publish anyway"
        )
        if moved is None:
            return self.store.item(item.id), "already"
        return self.triage(moved, skip_duplicate=True), None

    def discard(self, item, *, actor: str):
        moved = self.store.move_item(
            item.id,
            ("held", "failed", "needs_supplier"),
            "discarded",
            actor=actor,
            detail="discarded",
        )
        if moved is None:
            return self.store.item(item.id), "already"
        self._show(moved, self.notifier.render(o.ItemDiscarded(moved, actor)))
        return moved, None

    def retry(self, item, *, actor: str | None = None):
        moved = self.store.move_item(
            item.id, ("failed",), "ready", actor=actor, next_attempt_at=None, detail="retry"
        )
        if moved is None:
            return self.store.item(item.id), "already"
        self.executor.submit(self.publish, moved.id)
        return moved, None

    def edit(self, item, data: ItemInput, *, actor: str):
        """Apply corrected fields to a failed or held item and try again."""
        if item.status not in ("failed", "held", "needs_supplier"):
            return item, "already"
        self.store.update_item(
            item.id,
            supplier_key=match_key(data.supplier),
            category_account_id=None,  # resolved again from the edited category
            **data.values(),
        )
        moved = self.store.move_item(
            item.id,
            ("failed", "held", "needs_supplier"),
            "received",
            actor=actor,
            hold_reason=None,
            supplier_id=None,
            supplier_display=None,
            resolution=None,
            detail="edited",
        )
        if moved is None:
            return self.store.item(item.id), "already"
        return self.triage(moved, skip_duplicate=True), None

    def publish_held(self, connection) -> int:
        """After a connection comes back: publish every item held for want of one."""
        count = 0
        for item in self.store.items_in(connection.team_id, "held"):
            if item.hold_reason not in (HOLD_EXPIRED, HOLD_NO_CONNECTION):
                continue
            moved = self.store.move_item(
                item.id, ("held",), "received", hold_reason=None, detail="connection restored"
            )
            if moved is None:
                continue
            result = self.triage(moved, skip_duplicate=True, start=False)
            if result.status == "ready":
                result = self.publish(result.id)
            count += result.status == "published"
        if count:
            self.notifier.tell_admins(
                connection.team_id,
                connection,
                self.notifier.render(o.HeldPublished(count, connection.provider)),
            )
        return count

    # -- publishing --------------------------------------------------------------------------

    def publish(self, item_id: int):
        item = self.store.item(item_id)
        if item is None or item.status != "ready":
            return item
        connection = self.store.current_connection(item.team_id)
        if connection is None or connection.status != "active":
            return self._hold_for_connection(item, connection, ("ready",))
        provider = self.providers.get(connection.provider)
        if provider is None:
            return self._fail(item, f"{connection.provider} is not configured on this server")
        item = self.store.move_item(
            item.id,
            ("ready",),
            "publishing",
            attempts=item.attempts + 1,
            connection_id=connection.id,
            next_attempt_at=None,
        )
        if item is None:
            return self.store.item(item_id)
        if item.prompt_ts is None:
            self._show(item, self.notifier.render(o.ItemPublishing(item)))
        session = provider.session(
            connection.tenant_id, ConnectionTokenStore(self.store, connection.id)
        )
        note = None
        try:
            if item.supplier_id is None:
                item, note = self._create_supplier(session, connection, item)
            result = session.create_bill(
                self._bill(item, connection, provider), idempotency_key=item.idempotency_key
            )
        except ConnectionExpired as error:
            self.notices.expire(connection, str(error))
            back = self.store.move_item(
                item.id,
                ("publishing",),
                "ready",
                last_error=str(error),
                detail="connection expired",
            )
            return self._hold_for_connection(back, self.store.connection(connection.id), ("ready",))
        except ValidationFailed as error:
            return self._fail(item, str(error), from_status="publishing")
        except (RateLimited, ProviderUnavailable) as error:
            return self._queue(item, error)
        except ProviderError as error:
            return self._fail(item, str(error), from_status="publishing")
        except Exception as error:
            # A bug, or an answer no parser expected: logged (this runs in the background,
            # where nothing else would log it) and retried later, like an outage.
            log.error("publishing item %s failed", item.id, exc_info=error)
            problem = ProviderUnavailable("something went wrong on ledgerlink's side")
            return self._queue(self.store.item(item.id), problem)
        with self.notifier.transaction():
            done = self.store.move_item(
                item.id,
                ("publishing",),
                "published",
                bill_id=result.remote_id,
                bill_url=result.url,
                last_error=None,
                detail=result.remote_id,
            )
            self._show(
                done,
                self.notifier.render(
                    o.ItemPublished(done, connection.provider, note=note, notes=result.notes)
                ),
            )
        self.store.audit(
            item.team_id,
            item.resolved_by or item.submitted_by or "api",
            "bill_published",
            item=item.id,
            bill=result.remote_id,
        )
        return done

    def _create_supplier(self, session, connection, item):
        try:
            record = session.create_supplier(
                item.supplier_name, idempotency_key=f"{item.idempotency_key}-supplier"
            )
            note = None
        except DuplicateName as error:
            record, note = error.existing, "it already existed, so the existing one was used"
        self.store.upsert_record(connection.id, record)
        self.directory.add(connection.id, record)
        self.store.audit(
            item.team_id,
            item.resolved_by or "ledgerlink",
            "supplier_created",
            name=record.name,
            existing=bool(note),
        )
        updated = self.store.update_item(
            item.id, supplier_id=record.remote_id, supplier_display=record.name
        )
        return updated, note

    def _bill(self, item, connection, provider) -> Bill:
        settings = self.store.settings(item.team_id)
        statuses = provider.capabilities.bill_statuses
        status = settings.bill_status if settings.bill_status in statuses else statuses[0]
        tax_code, includes_tax = None, True
        if item.tax:
            try:
                Decimal(item.tax)  # a tax amount: the total already includes it
            except InvalidOperation:
                tax_code = item.tax
        account = self._account(item, connection, settings)
        line = BillLine(
            description=item.description or f"{item.supplier_name} {item.reference or ''}".strip(),
            amount=Decimal(item.total),
            account_code=account.code if account else None,
            account_id=account.remote_id if account else None,
            tax_code=tax_code,
        )
        return Bill(
            supplier_id=item.supplier_id,
            date=date.fromisoformat(item.date),
            due_date=date.fromisoformat(item.due_date) if item.due_date else None,
            reference=item.reference,
            currency=item.currency,
            lines=(line,),
            status=status,
            amounts_include_tax=includes_tax,
        )

    def _account(self, item, connection, settings) -> Record | None:
        """The bill's account: the category resolved when the item was accepted (by id, so a
        rename since changes nothing), re-resolved from its text if the connection changed;
        without a category, the default (see `_default_account`)."""
        if not item.category:
            return self._default_account(item, connection, settings)
        if item.category_account_id:
            record = self.store.list_record(connection.id, "account", item.category_account_id)
            if record is not None:
                return record
        resolved = self.resolve_category(connection, item.category)
        if resolved.error:
            raise ValidationFailed([resolved.error])
        return resolved.account

    def _default_account(self, item, connection, settings) -> Record | None:
        """No category given: the workspace's default purchases account, else the supplier's
        own default in the accounting software, else the organisation's general expenses
        account (or its first expense account). Defaults resolve as a category does."""
        accounts = self.store.all_records(connection.id, "account")
        if settings.default_account_code:
            resolved = categories.resolve_category(accounts, settings.default_account_code)
            if resolved.error:
                raise ValidationFailed([f"The default account in settings: {resolved.error}"])
            return resolved.account
        supplier = self.store.list_record(connection.id, "supplier", item.supplier_id)
        if supplier is not None and supplier.raw.get("PurchasesDefaultAccountCode"):
            code = supplier.raw["PurchasesDefaultAccountCode"]
            resolved = categories.resolve_category(accounts, code)
            if resolved.account is not None:
                return resolved.account
        expenses = sorted(categories.expense_accounts(accounts), key=lambda r: r.code or "")
        named = [r for r in expenses if "general expense" in r.name.lower()]
        return (named or expenses or [None])[0]

    def _fail(self, item, words: str, *, from_status: str = "ready"):
        with self.notifier.transaction():
            failed = self.store.move_item(
                item.id, (from_status,), "failed", last_error=words, detail=words[:500]
            )
            if failed is not None:
                self._show(failed, self.notifier.render(o.PublishFailed(failed, words)))
        return failed or self.store.item(item.id)

    def _queue(self, item, error):
        wait = (
            timedelta(seconds=error.retry_after)
            if isinstance(error, RateLimited)
            else min(RETRY_BASE * 2 ** max(item.attempts - 1, 0), RETRY_MAX)
        )
        with self.notifier.transaction():
            queued = self.store.move_item(
                item.id,
                ("publishing",),
                "ready",
                last_error=str(error),
                next_attempt_at=iso(self.clock.now() + wait),
                detail="queued",
            )
            self._show(queued, self.notifier.render(o.PublishQueued(queued, str(error))))
        return queued

    # -- scheduled work ----------------------------------------------------------------------

    def run_due(self, now) -> int:
        """Retry queued items whose time has come, and recover items a crashed process left
        'publishing' (the stored idempotency key makes the retry safe)."""
        done = 0
        for item in self.store.stale_publishing(now - STALE_PUBLISHING_AFTER):
            if self.store.move_item(item.id, ("publishing",), "ready", detail="recovered"):
                done += self.publish(item.id) is not None
        for item in self.store.items_due(now):
            done += self.publish(item.id) is not None
        return done

    def remind_prompts(self, now) -> int:
        """Remind people, once, of prompts nobody answered for a day: in the prompt's thread
        and by DM to the submitter. (A prompt Slack refused is the outbox's to retry.)"""
        count = 0
        for item in self.store.unanswered_prompts(now - PROMPT_REMINDER_AFTER):
            message = self.notifier.render(o.PromptReminder(item))
            with self.notifier.transaction():  # the claim and the reminders, together
                if not self.store.claim_prompt_reminder(item.id, now):
                    continue
                if item.prompt_channel:
                    self.notifier.post(
                        item.team_id, item.prompt_channel, message, thread_ts=item.prompt_ts
                    )
                if item.submitted_by:
                    self.notifier.direct(item.team_id, item.submitted_by, message)
            count += 1
        for item, group in self.store.unanswered_grouped(now - PROMPT_REMINDER_AFTER):
            message = self.notifier.render(o.PromptReminder(item))
            with self.notifier.transaction():  # listed in a grouped message: its thread
                if not self.store.claim_prompt_reminder(item.id, now):
                    continue
                self.notifier.post(item.team_id, group.channel, message, thread_ts=group.ts)
                if item.submitted_by:
                    self.notifier.direct(item.team_id, item.submitted_by, message)
            count += 1
        return count

    def open_prompt(self, item, *, actor: str) -> str | None:
        """A grouped item's "Open": post its own prompt in the grouped message's thread (once;
        a second click is told where it is). None when it was queued, else why not."""
        group = self.store.group_of(item.id)
        if item.status != "needs_supplier":
            return "already"
        if group is None or group.ts is None:
            return "not_grouped"
        if item.prompt_ts is not None or not self.store.claim_group_opening(item.id):
            return "opened"
        connection = self.store.connection(item.connection_id)
        candidates = self.directory.index(item.connection_id).candidates(item.supplier_name)
        prompt = self.notifier.render(o.SupplierNeeded(item, connection.tenant_name, candidates))
        self.notifier.outbox.thread_post(item, prompt, group.channel, group.ts)
        self.store.note_item(item.id, f"prompt opened from the grouped message by {actor}")
        return None

    # -- showing it in Slack -----------------------------------------------------------------

    def _show(self, item, message: dict, *, prompt: bool = False) -> None:
        """Post the item's message the first time, then keep updating that one message.

        The outbox delivers it (paced, retried; a channel Slack refuses for good falls back to
        the notification channel, then the submitter's DM) and notes every failed attempt in
        the item's history, so the item is never lost."""
        if item is None:
            return
        self.notifier.show_item(item, message, prompt=prompt)
