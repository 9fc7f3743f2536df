"""The WSGI application behind `ledgerlink serve`: Flask, with Bolt's Flask adapter for Slack.

`HttpApp` serves Flask blueprints on one Flask app made by `flask_app`, which matches paths,
parses requests and answers 404 and 405 (OPTIONS included: no automatic OPTIONS answers).
A body over MAX_BODY_BYTES is refused with 413 before it is read (by its Content-Length, and
by Flask's MAX_CONTENT_LENGTH for a chunked one); every answer carries SECURITY_HEADERS (a
view's own header of the same name stands) but those of views marked `bare` (Bolt's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

import flask
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_sdk.signature import SignatureVerifier
from werkzeug.exceptions import HTTPException

from handlers.payloads import well_formed

log = logging.getLogger("ledgerlink.http")

MAX_BODY_BYTES = 1024 * 1024
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    # OAuth callback URLs carry codes: never leak them to another site through Referer.
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    ),
]
TEXT = "text/plain; charset=utf-8"
ERROR_TEXT = {
    404: "Not found\n",
    405: "Method not allowed\n",
    413: "Request body too large (limit 1 MiB)\n",
}


def bare(view):
    """Mark a view whose answers go out as it makes them, without SECURITY_HEADERS (Bolt's
    install page shows an image, and its events answers are Slack's business)."""
    view.bare = True
    return view


def query() -> dict[str, str]:
    """The request's query string: the first value of each name, blank values left out."""
    return {name: value for name, value in flask.request.args.items() if value}


class HttpApp:
    """A Flask app serving `blueprints`; assigning `blueprints` again serves the new list on a
    new Flask app (the playground starts serving before the app its later routes need exists,
    and Flask takes no routes once it has answered)."""

    def __init__(self, blueprints: Iterable[flask.Blueprint]):
        self.blueprints = list(blueprints)

    @property
    def blueprints(self) -> list[flask.Blueprint]:
        return self._blueprints

    @blueprints.setter
    def blueprints(self, blueprints: Iterable[flask.Blueprint]) -> None:
        self._blueprints = list(blueprints)
        self.flask = flask_app(self._blueprints)

    def __call__(self, environ, start_response):
        started = time.monotonic()
        status = ["500"]

        def capture(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        try:
            return self.flask(environ, capture)
        finally:
            # Only the path: query strings may carry OAuth codes and states.
            log.info(
                "%s %s %s %.0fms",
                environ.get("REQUEST_METHOD", ""),
                environ.get("PATH_INFO", "/"),
                status[0],
                (time.monotonic() - started) * 1000,
            )


def flask_app(blueprints: Iterable[flask.Blueprint]) -> flask.Flask:
    """ledgerlink's Flask app with `blueprints` registered: the body limit, plain-text errors,
    the security headers and no automatic OPTIONS answers."""
    # Named for the log: an unexpected error is logged (scrubbed) under ledgerlink's logger.
    app = flask.Flask("ledgerlink.http", root_path=str(Path(__file__).parent), static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # OPTIONS is 405 like any other method
    app.url_map.merge_slashes = False  # "//healthz" is not found, not redirected

    @app.before_request
    def refuse_large_bodies():
        if (flask.request.content_length or 0) > MAX_BODY_BYTES:
            flask.abort(413)

    @app.errorhandler(HTTPException)
    def plain_error(error: HTTPException):
        text = ERROR_TEXT.get(error.code, f"{error.name}\n")
        response = flask.Response(text, error.code or 500, content_type=TEXT)
        if error.code == 405:
            response.headers["Allow"] = ", ".join(error.valid_methods or ())
        return _secured(response)

    @app.after_request
    def secure(response: flask.Response) -> flask.Response:
        view = app.view_functions.get(flask.request.endpoint or "")
        return response if getattr(view, "bare", False) else _secured(response)

    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


def _secured(response: flask.Response) -> flask.Response:
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response


class SlackEvents(SlackRequestHandler):
    """Bolt's Flask adapter, refusing a body that is not a request Slack would send: 401 when
    it is not signed with the signing secret, else 400.

    Bolt parses the body (form fields, the `payload` JSON, the view and action shapes) and
    picks out the action, view or options before it checks the signature; a body of another
    shape fails there with one of these errors, which the server would turn into a 500."""

    PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)

    def __init__(self, app, *, signing_secret: str | None):
        super().__init__(app)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def handle(self, req: flask.Request) -> flask.Response:
        if req.method != "POST":
            return super().handle(req)  # the install flow
        return to_flask_response(self._dispatch(req))

    def _dispatch(self, req: flask.Request) -> BoltResponse:
        try:
            raw = req.get_data().decode("utf-8")
        except UnicodeDecodeError:
            return _malformed()
        headers = {name.lower(): value for name, value in req.headers.items()}
        try:
            # QUERY_STRING as the server gave it (werkzeug keeps its bytes as latin-1).
            query = req.query_string.decode("latin-1")
            bolt_request = BoltRequest(body=raw, query=query, headers=headers)
        except self.PARSE_ERRORS:
            return _malformed() if self._signed(raw, headers) else _unsigned()
        if bolt_request.body.get("ssl_check") != "1" and not self._signed(raw, headers):
            return _unsigned()
        if not well_formed(bolt_request.body):
            return _malformed()
        return self.app.dispatch(bolt_request)

    def _signed(self, raw: str, headers: dict) -> bool:
        if self._verifier is None:
            return True
        return self._verifier.is_valid(
            raw,
            headers.get("x-slack-request-timestamp", "0"),
            headers.get("x-slack-signature", ""),
        )


def _malformed() -> BoltResponse:
    return BoltResponse(status=400, body="Malformed Slack request\n")


def _unsigned() -> BoltResponse:
    return BoltResponse(status=401, body={"error": "invalid request"})  # as Bolt answers


def slack_blueprint(bolt_app, *, verify_requests: bool) -> flask.Blueprint:
    """Bolt's routes: events (when requests can be verified) and, if enabled, the install flow."""
    adapter = SlackEvents(
        bolt_app,
        signing_secret=bolt_app.deps.config.slack_signing_secret if verify_requests else None,
    )
    slack = flask.Blueprint("slack", __name__)

    @bare
    def handle(**_):
        return adapter.handle(flask.request)

    if verify_requests:
        slack.add_url_rule("/slack/events", "events", handle, methods=["POST"])
    else:

        @slack.post("/slack/events")
        def events_over_socket_mode():
            text = (
                "Slack events arrive over Socket Mode; set SLACK_SIGNING_SECRET to accept them "
                "over HTTP too.\n"
            )
            return flask.Response(text, 404, content_type=TEXT)

    if bolt_app.oauth_flow is not None:
        slack.add_url_rule("/slack/install", "install", handle)
        slack.add_url_rule("/slack/oauth_redirect", "oauth_redirect", handle)
    return slack


def health_blueprint(store) -> flask.Blueprint:
    health = flask.Blueprint("health", __name__)

    @health.get("/healthz")
    def healthz():
        try:
            ok = store.ping()
        except Exception:  # any database failure means unhealthy; say so, don't crash
            log.exception("health check failed")
            ok = False
        return flask.jsonify(ok=ok), 200 if ok else 503

    return health
