"""Load against one server: Slack answered in time while the provider is slow, 200 concurrent
item submissions, and 50 prompts answered by two people at once."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from handlers import ids
from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.fakes.slack_requests import signed_headers, slash_command
from tests.reliability.conftest import on_both_backends
from tests.reliability.stack import OTHER_TEAM, wait_until

# Exactly-once under redelivery and concurrency is what a second backend could break.
pytestmark = [pytest.mark.e2e, on_both_backends]

SUBMISSIONS = 200
DISTINCT = 160  # the other 40 are the same external_id sent twice at once
ANSWERED = 50


def submit(stack, n: int) -> httpx.Response:
    return stack.http.post(
        f"{stack.url}/api/items",
        json={
            "supplier": f"Load Vendor {n:03d}",
            "date": "2026-09-01",
            "total": f"{1000 + n}.25",
            "reference": f"LOAD-{n:03d}",
            "external_id": f"load-{n:03d}",
            "submitted_by": STAFF,
        },
        headers={"Authorization": f"Bearer {stack.api_token(OTHER_TEAM)}"},
    )


SLOW_BILLS = 40


@pytest.fixture(scope="module")
def log_mark(stack) -> int:
    """Where the server log stood when the load began."""
    return len(stack.log())


@pytest.fixture(scope="module")
def slow_bills(stack, log_mark):
    """40 bills for a known supplier, each answered by QuickBooks only after 2 s; the rest of
    the module runs while they drain."""
    stack.quickbooks_net.inject("/bill", "slow", times=SLOW_BILLS)
    with ThreadPoolExecutor(max_workers=20) as pool:
        posted = list(
            pool.map(
                lambda n: stack.post_item(
                    team=OTHER_TEAM, supplier="Bob's Burger Joint", reference=f"SLOW-{n}"
                ),
                range(SLOW_BILLS),
            )
        )
    assert all(response.status_code == 201 for response in posted)
    return [response.json()["id"] for response in posted]


def test_slack_is_answered_in_time_while_the_provider_is_slow(stack, slow_bills):
    """With 40 bills stuck on a slow provider, a slash command is still acknowledged at once
    and answered: background work never starves Slack's 3-second acknowledgement."""
    wait_until(
        lambda: stack.quickbooks_net.served["slow"] >= 1, "a bill to be held by the slow provider"
    )
    started = time.monotonic()
    key = stack.command("status", team=OTHER_TEAM, wait=False)
    acknowledged = time.monotonic() - started
    assert acknowledged < 3.0
    assert "QuickBooks" in stack.reply(key)["text"]


@pytest.fixture(scope="module")
def loaded(stack):
    """The 200 submissions, all sent at once: (number, response) for each."""
    numbers = list(range(DISTINCT)) + list(range(SUBMISSIONS - DISTINCT))
    stack.api_token(OTHER_TEAM)
    with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
        responses = list(pool.map(lambda n: (n, submit(stack, n)), numbers))
    return responses


def test_200_concurrent_submissions_store_each_item_once(stack, loaded):
    """200 submissions at once (40 of them the same external_id twice): no 5xx, 160 items
    stored, each exactly once, each resent one answered with the first item."""
    assert len(loaded) == SUBMISSIONS
    assert all(response.status_code < 500 for _, response in loaded)
    created = [r for _, r in loaded if r.status_code == 201]
    assert len(created) == DISTINCT
    ids_by_number: dict[int, set[int]] = {}
    for n, response in loaded:
        assert response.status_code in (200, 201), response.text
        ids_by_number.setdefault(n, set()).add(response.json()["id"])
    assert all(len(found) == 1 for found in ids_by_number.values())
    rows = stack.rows(
        "SELECT external_id, count(*), min(status) FROM items WHERE team_id = ? "
        "AND external_id LIKE 'load-%' GROUP BY external_id",
        (OTHER_TEAM,),
    )
    assert len(rows) == DISTINCT
    assert {count for _, count, _ in rows} == {1}
    assert {status for _, _, status in rows} == {"needs_supplier"}
    # Each item's prompt is a message of its own or, in a burst, a line in a grouped message.
    # Slack takes about one message a second per channel, and this channel also carries the
    # 40 slow bills' messages queued just before: the outbox delivers them first, in order.
    wait_until(
        lambda: (
            stack.rows(
                "SELECT count(*) FROM items i WHERE external_id LIKE 'load-%' "
                "AND prompt_ts IS NULL AND NOT EXISTS (SELECT 1 FROM message_group_items m "
                "JOIN message_groups g ON g.id = m.group_id WHERE m.item_id = i.id "
                "AND g.ts IS NOT NULL)"
            )
            == [(0,)]
        ),
        "a prompt for every item",
        timeout=90,
    )


def test_50_prompts_answered_twice_at_once_resolve_once(stack, loaded):
    """50 prompts, each answered by two people at the same moment (100 clicks at once): each
    is resolved once, the loser is told who won, each bill is published once, and no click
    gets a 5xx."""
    [(vendor_id,)] = stack.rows(
        "SELECT r.remote_id FROM list_records r JOIN connections c ON c.id = r.connection_id "
        "WHERE c.team_id = ? AND c.status = 'active' AND r.kind = 'supplier' AND r.active = 1 "
        "ORDER BY r.remote_id LIMIT 1",
        (OTHER_TEAM,),
    )
    item_ids = sorted({next(iter([r.json()["id"]])) for n, r in loaded if n < ANSWERED})
    assert len(item_ids) == ANSWERED
    clicks = [(item_id, user) for item_id in item_ids for user in (ADMIN, STAFF)]

    def answer(click):
        item_id, user = click
        response, key = stack.click(
            ids.SEARCH_SUPPLIERS, selected=f"{item_id}|{vendor_id}", user=user, team=OTHER_TEAM
        )
        return response.status_code, key

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        answers = list(pool.map(answer, clicks))
    assert all(code == 200 for code, _ in answers)
    for item_id in item_ids:
        stack.wait_item(item_id, "published", team=OTHER_TEAM, timeout=60)
    keys = {key for _, key in answers}

    def losers(fake):
        return [r for r in fake.responses if r.method in keys and "Already resolved" in str(r.args)]

    stack.slack.wait_for(lambda f: len(losers(f)) >= ANSWERED, timeout=30)
    assert len(losers(stack.slack)) == ANSWERED
    for item_id in item_ids:
        history = [e["status"] for e in stack.item(item_id, team=OTHER_TEAM)["history"]]
        assert history.count("ready") == 1 and history.count("published") == 1, history
    numbers = [bill.get("DocNumber") for bill in stack.quickbooks.bills]
    assert all(numbers.count(f"LOAD-{n:03d}") == 1 for n in range(ANSWERED))


def test_idle_connections_do_not_lock_slack_out(stack):
    """150 connections opened and left idle (a pooling client, a scanner) do not stop the
    server from answering a slash command that arrives on a new connection at once."""
    url = httpx.URL(stack.url)
    idle = [socket.create_connection((url.host, url.port), timeout=5) for _ in range(150)]
    try:
        body = slash_command(
            "status", user_id=STAFF, team_id="T0001", response_url=stack.slack.response_url("idle")
        )
        started = time.monotonic()
        with httpx.Client(timeout=10) as fresh:  # a new connection, as Slack's would be
            answer = fresh.post(
                f"{stack.url}/slack/events",
                content=body,
                headers=signed_headers(SIGNING_SECRET, body),
            )
        assert answer.status_code == 200 and time.monotonic() - started < 3.0
        assert "Xero" in stack.reply("idle")["text"]
    finally:
        for connection in idle:
            connection.close()


def test_nothing_queued_behind_the_slow_provider_is_lost(stack, slow_bills, log_mark):
    """Every bill that waited on the slow provider is published, once, and the server logged
    no 5xx and no error through the whole load."""
    for item_id in slow_bills:
        stack.wait_item(item_id, "published", team=OTHER_TEAM, timeout=60)
    numbers = [bill.get("DocNumber") for bill in stack.quickbooks.bills]
    assert all(numbers.count(f"SLOW-{n}") == 1 for n in range(SLOW_BILLS))
    during = stack.log()[log_mark:]
    assert " 500 " not in during and "Traceback" not in during and " ERROR " not in during
