"""The WSGI application behind `ledgerlink serve`: a small router in front of Bolt.

Slack's routes go to Bolt's WSGI adapter; ledgerlink's own routes (provider OAuth callbacks,
the items API, health) are plain functions from `Request` to `Response`. Bodies larger than
MAX_BODY_BYTES are refused with 413 before they are read.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

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


class PayloadTooLarge(Exception):
    pass


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    environ: dict
    params: dict[str, str] = field(default_factory=dict)
    _body: bytes | None = None

    @classmethod
    def from_environ(cls, environ: dict) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO", "/"),
            query=query,
            headers=headers,
            environ=environ,
        )

    def body(self) -> bytes:
        if self._body is None:
            length = self.headers.get("content-length")
            if length is not None:
                size = int(length)
                if size > MAX_BODY_BYTES:
                    raise PayloadTooLarge
                self._body = self.environ["wsgi.input"].read(size) if size else b""
            else:
                self._body = self.environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
                if len(self._body) > MAX_BODY_BYTES:
                    raise PayloadTooLarge
        return self._body

    def json(self):
        return json.loads(self.body())


@dataclass
class Response:
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


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # a path with {name} segments
    handler: Handler | None = None
    wsgi: Callable | None = None  # a WSGI app that handles the whole exchange itself

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "$"
        found = re.match(regex, path)
        return found.groupdict() if found else None


class HttpApp:
    def __init__(self, routes: Iterable[Route]):
        self.routes = list(routes)

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request = Request.from_environ(environ)
        status = ["500"]

        def capture(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        try:
            result = self._dispatch(request, environ, capture)
            return _send(result, capture) if isinstance(result, Response) else result
        finally:
            # Only the path: query strings may carry OAuth codes and states.
            log.info(
                "%s %s %s %.0fms",
                request.method,
                request.path,
                status[0],
                (time.monotonic() - started) * 1000,
            )

    def _dispatch(self, request: Request, environ, start_response):
        allowed = False
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is None:
                allowed = allowed or route.match(route.method, request.path) is not None
                continue
            request.params = params
            try:
                length = int(request.headers.get("content-length") or 0)
            except ValueError:
                return Response.text("Bad Content-Length\n", 400)
            if length > MAX_BODY_BYTES:
                return Response.text("Request body too large (limit 1 MiB)\n", 413)
            try:
                if route.wsgi is not None:
                    return route.wsgi(environ, start_response)
                return route.handler(request)
            except PayloadTooLarge:
                return Response.text("Request body too large (limit 1 MiB)\n", 413)
        if allowed:
            return Response.text("Method not allowed\n", 405)
        return Response.text("Not found\n", 404)


def _send(response: Response, start_response):
    headers = [
        ("Content-Type", response.content_type),
        ("Content-Length", str(len(response.body))),
        *SECURITY_HEADERS,
        *response.headers,
    ]
    start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
    return [response.body]


class SlackEvents(SlackRequestHandler):
    """Bolt's WSGI adapter, refusing a body that is not a request Slack would send: 401 when
    it is not signed with the signing secret, else 400.

    Bolt parses the body (form fields, the `payload` JSON, the view and action shapes) and
    picks out the action, view or options before it checks the signature; a body of another
    shape fails there with one of these errors, which the server would turn into a 500."""

    PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)

    def __init__(self, app, *, signing_secret: str | None):
        super().__init__(app)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def dispatch(self, request) -> BoltResponse:
        try:
            raw, headers = request.get_body(), request.get_headers()
        except ValueError:  # not UTF-8
            return _malformed()
        try:
            bolt_request = BoltRequest(body=raw, query=request.query_string, headers=headers)
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
        routes.append(Route("POST", "/slack/events", wsgi=adapter))
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
        routes.append(Route("GET", "/slack/install", wsgi=adapter))
        routes.append(Route("GET", "/slack/oauth_redirect", wsgi=adapter))
    return routes


def health_route(store) -> Route:
    def healthz(_request: Request) -> Response:
        try:
            ok = store.ping()
        except Exception:  # any database failure means unhealthy; say so, don't crash
            log.exception("health check failed")
            ok = False
        return Response.json({"ok": ok}, 200 if ok else 503)

    return Route("GET", "/healthz", handler=healthz)
