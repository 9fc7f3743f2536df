"""The Flask app behind `ledgerlink serve`: routing, status codes, body limit, headers."""

from __future__ import annotations

import flask
import httpx
import pytest
from slack_bolt import App

from bot.http import MAX_BODY_BYTES, HttpApp, SlackEvents, bare, query
from tests.conftest import SIGNING_SECRET
from tests.fakes.slack_requests import signed_headers


@pytest.fixture
def served():
    seen: list[str] = []
    things = flask.Blueprint("things", __name__)

    @things.post("/things/<thing_id>")
    def echo(thing_id: str):
        seen.append(thing_id)
        return {
            "params": {"thing_id": thing_id},
            "query": query(),
            "n": len(flask.request.get_data()),
        }

    @things.get("/page")
    def page():
        return "<p>page</p>", {"Content-Security-Policy": "own"}

    @things.get("/bare")
    @bare
    def bare_view():
        return "as it is"

    app = HttpApp([things])
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as http:
        yield http, seen, app


def test_path_segments_and_query_reach_the_view(served):
    """`{name}` segments become params; the query keeps first values and drops blank ones."""
    http, _, _ = served
    answer = http.post("/things/42?a=1&a=2&blank=", content=b"abc")
    assert answer.status_code == 200
    assert answer.json() == {"params": {"thing_id": "42"}, "query": {"a": "1"}, "n": 3}


def test_own_answers_and_errors_carry_the_security_headers(served):
    """Views' answers and 404/405 pages carry nosniff, no-referrer and the strict CSP."""
    http, _, _ = served
    for answer in (http.post("/things/1"), http.get("/nope"), http.get("/things/1")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_unknown_paths_are_404_and_wrong_methods_405(served):
    """An unknown path is 404, a known one with another method (OPTIONS too) 405 with Allow."""
    http, _, _ = served
    assert (http.get("/nope").status_code, http.get("/nope").text) == (404, "Not found\n")
    wrong = http.get("/things/1")
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
    assert http.request("OPTIONS", "/things/1").status_code == 405
    assert http.get("//page").status_code == 404


def test_declared_oversized_body_is_refused_before_the_view_runs(served):
    """A Content-Length over 1 MiB gets 413 and the view never sees the request."""
    http, seen, _ = served
    answer = http.post("/things/1", content=b"x" * (MAX_BODY_BYTES + 1))
    assert answer.status_code == 413 and answer.text.startswith("Request body too large")
    assert seen == []
    assert http.post("/things/1", content=b"x" * MAX_BODY_BYTES).json()["n"] == MAX_BODY_BYTES


def test_a_views_own_headers_stand_and_bare_views_get_none(served):
    """A view's own CSP is not replaced by the default one; a `bare` view's answer gets none."""
    http, _, _ = served
    page = http.get("/page")
    assert (page.status_code, page.text) == (200, "<p>page</p>")
    assert page.headers["Content-Security-Policy"] == "own"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    plain = http.get("/bare")
    assert plain.text == "as it is" and "Content-Security-Policy" not in plain.headers


def test_reassigning_blueprints_serves_the_new_list(served):
    """Assigning `blueprints` again serves the new list, even after the first answer (the
    playground adds the app's routes late)."""
    http, _, app = served
    assert http.get("/late").status_code == 404
    late = flask.Blueprint("late", __name__)
    late.get("/late")(lambda: "late")
    app.blueprints = [*app.blueprints, late]
    assert http.get("/late").text == "late"
    assert http.post("/things/7").json()["params"] == {"thing_id": "7"}


@pytest.fixture
def slack_events():
    bolt = App(signing_secret=SIGNING_SECRET, token="xoxb-test", token_verification_enabled=False)
    adapter = SlackEvents(bolt, signing_secret=SIGNING_SECRET)
    events = flask.Blueprint("slack", __name__)
    events.post("/slack/events")(bare(lambda: adapter.handle(flask.request)))
    app = HttpApp([events])
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as http:
        yield http


def test_slack_bodies_that_slack_would_not_send_get_401_or_400(slack_events):
    """Unsigned junk is 401; a body that is not UTF-8, or signed but not Slack's shape, is 400."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    junk = "payload=%7B%22type%22%3A%22block_actions%22%7D"
    assert slack_events.post("/slack/events", content=junk, headers=form).status_code == 401
    not_utf8 = slack_events.post("/slack/events", content=b"payload=\xff\xfe", headers=form)
    assert not_utf8.status_code == 400
    for body in (junk, "payload=not-json", "command=%2Fx&text=%FF"):
        headers = signed_headers(SIGNING_SECRET, body)
        assert slack_events.post("/slack/events", content=body, headers=headers).status_code == 400
