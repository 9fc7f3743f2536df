"""The WSGI application behind `ledgerlink serve`: Flask, with Bolt's Flask adapter for Slack.

Each route is declared as a `Route` (a method, a `/path/{name}` pattern and a view) and
registered on a Flask app, which matches paths, parses requests and answers 404 and 405.
A body over MAX_BODY_BYTES is refused with 413 before it is read (by its Content-Length, and
by Flask's MAX_CONTENT_LENGTH for a chunked one); ledgerlink's own answers carry
SECURITY_HEADERS.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
ERROR_TEXT = {
    404: "Not found\n",
    405: "Method not allowed\n",
    413: "Request body too large (limit 1 MiB)\n",
}


class Request(flask.Request):
    """Flask's request, with the short names the views use."""

    @property
    def params(self) -> dict[str, str]:
        """The path's `{name}` segments."""
        return self.view_args or {}

    @property
    def query(self) -> dict[str, str]:
        """The query string: the first value of each name, blank values left out."""
        return {name: value for name, value in self.args.items() if value}

    def body(self) -> bytes:
        """The raw body; over MAX_BODY_BYTES Flask stops reading and answers 413."""
        return self.get_data(cache=True)

    def json(self):  # a method, unlike Flask's property: the views call request.json()
        return json.loads(self.body())


@dataclass
class Response:
    """A view's answer as plain data (status, body, type, extra headers), turned into Flask's
    response when sent: the playground's views answer with it and read it back (a recorded
    reply); ledgerlink's own views answer the way Flask views do."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, data, status: int = 200) -> Response:
        return cls(status, json.dumps(data).encode(), "application/json")

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode())

    @classmethod
    def html(cls, html: str, status: int = 200) -> Response:
        return cls(status, html.encode(), "text/html; charset=utf-8")

    def to_flask(self) -> flask.Response:
        return flask.Response(
            self.body, self.status, headers=self.headers, content_type=self.content_type
        )


# A view: the request in, a `Response` or anything Flask makes a response of out.
Handler = Callable[[Request], object]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # a path with {name} segments
    handler: Handler | None = None
    wsgi: Callable | None = None  # a WSGI app that answers the whole exchange itself
    secure: bool = True  # add SECURITY_HEADERS (not to Bolt's install page: it shows an image)

    @property
    def rule(self) -> str:
        return re.sub(r"\{(\w+)\}", r"<\1>", self.pattern)


class HttpApp:
    """A Flask app serving `routes`; assigning `routes` again serves the new list (the
    playground starts serving before the app its later routes need exists)."""

    def __init__(self, routes: Iterable[Route]):
        self.routes = list(routes)

    @property
    def routes(self) -> list[Route]:
        return self._routes

    @routes.setter
    def routes(self, routes: Iterable[Route]) -> None:
        self._routes = list(routes)
        self.flask = _flask_app(self._routes)

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


def _flask_app(routes: list[Route]) -> flask.Flask:
    # Named for the log: an unexpected error is logged (scrubbed) under ledgerlink's logger.
    app = flask.Flask("ledgerlink.http", root_path=str(Path(__file__).parent), static_folder=None)
    app.request_class = Request
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.merge_slashes = False  # "//healthz" is not found, not redirected

    @app.before_request
    def refuse_large_bodies():
        if (flask.request.content_length or 0) > MAX_BODY_BYTES:
            flask.abort(413)

    @app.errorhandler(HTTPException)
    def plain_error(error: HTTPException):
        text = ERROR_TEXT.get(error.code, f"{error.name}\n")
        response = Response.text(text, error.code or 500).to_flask()
        if error.code == 405:
            response.headers["Allow"] = ", ".join(error.valid_methods or ())
        return _secured(response)

    for route in routes:
        app.add_url_rule(
            route.rule,
            endpoint=f"{route.method} {route.pattern}",
            view_func=_view(route),
            methods=[route.method],
            provide_automatic_options=False,
        )
    return app


def _view(route: Route):
    if route.wsgi is not None:
        app = route.wsgi
        return lambda **_: app  # Flask runs a WSGI app a view returns and sends its answer
    handler = route.handler

    def view(**_):
        answer = handler(flask.request)
        if isinstance(answer, Response):
            answer = answer.to_flask()
        response = flask.current_app.make_response(answer)
        return _secured(response) if route.secure else response

    return view


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


def slack_routes(bolt_app, *, verify_requests: bool) -> list[Route]:
    """Bolt's routes: events (when requests can be verified) and, if enabled, the install flow."""
    adapter = SlackEvents(
        bolt_app,
        signing_secret=bolt_app.deps.config.slack_signing_secret if verify_requests else None,
    )
    routes = []
    if verify_requests:
        routes.append(Route("POST", "/slack/events", handler=adapter.handle, secure=False))
    else:
        routes.append(
            Route(
                "POST",
                "/slack/events",
                handler=lambda _: Response.text(
                    "Slack events arrive over Socket Mode; set SLACK_SIGNING_SECRET to accept them "
                    "over HTTP too.\n",
                    404,
                ),
            )
        )
    if bolt_app.oauth_flow is not None:
        for path in ("/slack/install", "/slack/oauth_redirect"):
            routes.append(Route("GET", path, handler=adapter.handle, secure=False))
    return routes


def health_route(store) -> Route:
    def healthz(_request: Request):
        try:
            ok = store.ping()
        except Exception:  # any database failure means unhealthy; say so, don't crash
            log.exception("health check failed")
            ok = False
        return flask.jsonify(ok=ok), 200 if ok else 503

    return Route("GET", "/healthz", handler=healthz)
