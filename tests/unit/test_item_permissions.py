"""Who may act on an item, checked in the handlers themselves (called directly with fakes):
Edit, Discard, Retry and Publish anyway, and saving the edit form, are for the submitter or a
ledgerlink admin; anyone may answer the supplier question."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.admins import AdminPolicy
from handlers import connections, guards, ids, items
from handlers.deps import Deps
from store.items import Item
from tests.fakes import records

TEAM, ADMIN, SUBMITTER, OUTSIDER = "T1", "UADMIN", "USUBMIT", "UOUTSIDE"
CONFIGURED_ADMIN = "UCONFADMIN"  # named in LEDGERLINK_ADMINS
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def make_item(**changes) -> Item:
    values = dict(
        id=7,
        team_id=TEAM,
        submitted_by=SUBMITTER,
        supplier_name="Pinnacle Plumbing",
        supplier_key="pinnacle plumbing",
        date="2026-11-20",
        total="42.10",
        currency=None,
        status="failed",
        attempts=1,
        bill_url=None,
    )
    return records.item(**{**values, **changes})


class FakeStore:
    """Items by team, and an admins table with nobody in it."""

    def __init__(self, *stored: Item):
        self.stored = {(i.team_id, i.id): i for i in stored}

    def team_item(self, team_id, item_id):
        return self.stored.get((team_id, item_id))

    def current_connection(self, team_id):
        return None

    def is_listed_admin(self, team_id, user_id):
        return False

    def admins(self, team_id):
        return []


class FakeSlackClient:
    """users.info says who is a workspace admin; views.open is recorded."""

    def __init__(self):
        self.opened: list[dict] = []

    def users_info(self, user):
        return {"user": {"id": user, "is_admin": user == ADMIN}}

    def views_open(self, trigger_id, view):
        self.opened.append(view)


class FakeItems:
    """The item service: records each call, and everything succeeds."""

    def __init__(self):
        self.calls: list[tuple] = []

    def check_category(self, team_id, category):
        return None  # no synced chart to check a category against

    def _record(self, name):
        def call(item, *args, actor):
            self.calls.append((name, item.id, *args, actor))
            return item, None

        return call

    def __getattr__(self, name):
        return self._record(name)


class Inline:
    def submit(self, function, *args, **kwargs):
        function(*args, **kwargs)


class Recorder:
    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)

    @property
    def text(self) -> str:
        [call] = self.calls
        return call["text"]


@pytest.fixture
def world():
    store = FakeStore(make_item(), make_item(id=8, submitted_by=None, source="api"))
    deps = Deps(
        config=None,
        store=store,
        providers={},
        clock=SimpleNamespace(now=lambda: NOW),
        admins=AdminPolicy(store=store, configured=(CONFIGURED_ADMIN,)),
        clients=None,
        notifier=None,
        executor=Inline(),
        sync=None,
        connections=None,
        events=None,
        items=FakeItems(),
    )
    return SimpleNamespace(deps=deps, client=FakeSlackClient(), store=store)


def click(world, handler, user: str, value: str = "7", team: str = TEAM):
    ack, respond = Recorder(), Recorder()
    body = {
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.test/r",
    }
    handler(ack, body, {"value": value}, world.client, respond, deps=world.deps)
    assert len(ack.calls) == 1  # acknowledged first, whatever the answer
    return respond


GUARDED = [
    (items.on_discard, "discard", "discard this item"),
    (items.on_retry, "retry", "retry this item"),
    (items.on_publish_anyway, "publish_anyway", "publish this item anyway"),
]


@pytest.mark.parametrize(("handler", "service", "doing"), GUARDED)
def test_someone_else_is_refused_privately_and_nothing_is_called(world, handler, service, doing):
    """A non-submitter who is not an admin gets a private refusal naming who can; the item
    service is never called."""
    respond = click(world, handler, OUTSIDER)
    assert respond.text == (
        f"Only <@{SUBMITTER}> who submitted it, or a ledgerlink admin, can {doing}. "
        "Nothing was changed."
    )
    assert respond.calls[0]["response_type"] == "ephemeral"
    assert respond.calls[0]["replace_original"] is False
    assert world.deps.items.calls == []


@pytest.mark.parametrize(("handler", "service", "doing"), GUARDED)
@pytest.mark.parametrize("user", [SUBMITTER, ADMIN, CONFIGURED_ADMIN])
def test_the_submitter_and_admins_may_act(world, handler, service, doing, user):
    """The submitter, a workspace admin and a LEDGERLINK_ADMINS admin each reach the service,
    as the actor, with no refusal."""
    respond = click(world, handler, user)
    assert world.deps.items.calls == [(service, 7, user)]
    assert respond.calls == []


@pytest.mark.parametrize(("handler", "service", "doing"), GUARDED)
def test_an_item_without_a_submitter_is_for_admins_only(world, handler, service, doing):
    """An API item with no submitted_by: staff are told only admins can; an admin can."""
    respond = click(world, handler, OUTSIDER, value="8")
    assert respond.text.startswith(f"Only a ledgerlink admin can {doing}")
    assert world.deps.items.calls == []
    click(world, handler, ADMIN, value="8")
    assert world.deps.items.calls == [(service, 8, ADMIN)]


def test_edit_opens_the_form_only_for_the_submitter_or_an_admin(world):
    """Edit by someone else opens nothing and says who can; by the submitter or an admin it
    opens the edit form for that item."""
    respond = click(world, items.on_edit, OUTSIDER)
    assert "who submitted it, or a ledgerlink admin, can edit this item" in respond.text
    assert world.client.opened == []
    for user in (SUBMITTER, ADMIN):
        click(world, items.on_edit, user)
    assert [v["private_metadata"] for v in world.client.opened] == ["edit:7", "edit:7"]


def test_a_click_on_another_workspaces_item_finds_nothing(world):
    """An admin of another workspace naming this item is told it isn't there."""
    respond = click(world, items.on_discard, ADMIN, team="T2")
    assert "isn't in this workspace" in respond.text
    assert world.deps.items.calls == []


def save_edit(world, user: str, item_id: int = 7):
    ack = Recorder()
    values = {
        ids.ITEM_SUPPLIER_BLOCK: {ids.ITEM_SUPPLIER: {"value": "Pinnacle Plumbing"}},
        ids.ITEM_DATE_BLOCK: {ids.ITEM_DATE: {"selected_date": "2026-11-21"}},
        ids.ITEM_TOTAL_BLOCK: {ids.ITEM_TOTAL: {"value": "42.10"}},
    }
    body = {"team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM}}
    view = {"private_metadata": f"edit:{item_id}", "state": {"values": values}}
    items.on_form_submitted(ack, body, view, world.client, deps=world.deps)
    [answer] = ack.calls
    return answer


def test_saving_the_edit_form_is_checked_again(world):
    """An edit form saved by someone who may not change the item (opened by someone else, or
    forged) is refused in the form, naming who can; nothing is edited."""
    answer = save_edit(world, OUTSIDER)
    assert answer["response_action"] == "update"
    shown = answer["view"]["blocks"][0]["text"]["text"]
    assert f"Only <@{SUBMITTER}> who submitted it, or a ledgerlink admin, can edit" in shown
    assert world.deps.items.calls == []


@pytest.mark.parametrize("user", [SUBMITTER, ADMIN])
def test_the_submitter_or_an_admin_saves_the_edit(world, user):
    """The submitter's or an admin's saved edit is accepted and handed to the service."""
    assert save_edit(world, user) == {}
    [(name, item_id, data, actor)] = world.deps.items.calls
    assert (name, item_id, actor) == ("edit", 7, user)
    assert str(data.date) == "2026-11-21"


def test_an_api_item_edit_saved_by_staff_is_refused(world):
    """Without a submitter, only admins may save an edit."""
    assert save_edit(world, OUTSIDER, item_id=8)["response_action"] == "update"
    assert world.deps.items.calls == []


def test_anyone_may_answer_the_supplier_question(world):
    """Create supplier and Use <supplier> work for someone who neither submitted the item
    nor is an admin."""
    item = replace(world.store.stored[(TEAM, 7)], status="needs_supplier")
    world.store.stored[(TEAM, 7)] = item
    ack, respond = Recorder(), Recorder()
    body = {"team": {"id": TEAM}, "user": {"id": OUTSIDER, "team_id": TEAM}}
    items.on_create_supplier(ack, body, {"value": "7"}, respond, deps=world.deps)
    items.on_use_supplier(ack, body, {"value": "7|s1"}, respond, deps=world.deps)
    items.on_use_supplier(
        ack, body, {"selected_option": {"value": "7|s2"}}, respond, deps=world.deps
    )
    assert world.deps.items.calls == [
        ("create_supplier", 7, OUTSIDER),
        ("use_existing", 7, "s1", OUTSIDER),
        ("use_existing", 7, "s2", OUTSIDER),
    ]
    assert respond.calls == []


def test_admins_only_guards_connection_buttons(world):
    """The shared admin guard acknowledges, refuses a non-admin with the admins' roster, and
    runs the handler for an admin."""
    reached = []

    @guards.admins_only("do the thing")
    def handler(body, action, client, respond, *, deps):
        reached.append(body["user"]["id"])

    refused = click(world, handler, OUTSIDER)
    click(world, handler, ADMIN)
    assert reached == [ADMIN]
    assert "only ledgerlink admins can do the thing" in refused.text
    assert handler.__name__ == "handler"
    assert connections.on_disconnect.__name__ == "on_disconnect"


def test_admins_only_refusal_names_the_admins(world):
    """A non-admin's click on Disconnect is refused with who the admins are."""
    respond = click(world, connections.on_disconnect, OUTSIDER)
    assert "only ledgerlink admins can manage the accounting connection" in respond.text
    assert f"<@{CONFIGURED_ADMIN}>" in respond.text
