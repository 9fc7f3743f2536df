"""A fake Slack Web API server on 127.0.0.1 that records every call.

Point the app at it with `SLACK_API_URL=fake.api_url`. It answers the methods ledgerlink uses
(`auth.test`, `users.info`, `chat.*`, `views.*`, `conversations.open`, `oauth.v2.access`) with
the shapes Slack documents, and accepts `response_url` posts at `/response/<id>`. Failures can
be injected per method with `fail_next`, and a slow Slack played with `hold` (the next call of
a method is recorded, then its answer waits until the test releases it). With a
`FakeSocketMode` attached (`socket_mode`), it also answers `apps.connections.open`.

Like Slack, it refuses what Slack refuses, so a bad message fails the test that sent it:
messages (`chat.postMessage`, `chat.postEphemeral`, `chat.update`, response URLs) and views
are validated with `slack_sdk.models`, through the playground's checks (`invalid_blocks`,
`no_text`; views `invalid_arguments`; a response URL answers 400), and `chat.update` only
changes a message it posted (`channel_not_found` for a channel it never posted in,
`message_not_found` for an unknown `ts`). Refused calls are recorded in `calls` like the
others, with their error in `refused`. Every call records when it arrived (`Call.at`,
`time.monotonic()`) and why it was refused, if it was (`Call.refused`).

`FakeSlack(paced=True)` (or `fake.pace()`) paces like Slack: `chat.postMessage` about once a
second per channel after a small burst, `chat.update` and `views.publish` by their tier per
workspace; a call over the limit gets HTTP 429 with a `Retry-After` in whole seconds, and a
call made before that Retry-After has passed is refused again (`early_retries` counts them).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from playground.slack_workspace import SlackApiError, message_content, view_definition
from tests.fakes.loopback import QueueingServer, Served

MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
VIEW_METHODS = ("views.open", "views.publish", "views.update", "views.push")
MALFORMED = frozenset({"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "no_text"})


def mrkdwn_of(node) -> list[str]:
    """Every mrkdwn text in Block Kit (plain_text is shown literally, so it cannot ping)."""
    if isinstance(node, list):
        return [text for child in node for text in mrkdwn_of(child)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") == "mrkdwn" else []
    return found + [text for value in node.values() for text in mrkdwn_of(value)]


@dataclass
class Call:
    method: str
    token: str | None
    args: dict
    at: float = 0.0
    refused: str | None = None


@dataclass
class Bucket:
    """A token bucket: `burst` calls at once, refilled at `per_second`."""

    burst: float
    per_second: float
    tokens: float = -1.0
    as_of: float = 0.0
    blocked_until: float = 0.0

    def take(self, now: float) -> float:
        """0 if the call may go now, else the seconds Slack would ask it to wait."""
        if self.tokens < 0 and self.as_of == 0.0:
            self.tokens, self.as_of = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.as_of) * self.per_second)
        self.as_of = now
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.per_second
        self.blocked_until = now + math.ceil(wait)
        return wait


PACED_METHODS = {"chat.update": (5, 50 / 60), "views.publish": (10, 100 / 60)}


@dataclass
class Hold:
    """A held call: `hit` is set once it arrived; it is answered once `release` is set."""

    hit: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeSlack(Served):
    team_id: str = "T0001"
    team_name: str = "Acme"
    bot_token: str = "xoxb-fake-bot-token-0001"
    # With token rotation on, oauth.v2.access also gives a refresh token (and an expiry).
    bot_refresh_token: str | None = None
    # A FakeSocketMode (tests/fakes/socket_mode.py) answers apps.connections.open.
    socket_mode: object | None = None
    users: dict[str, dict] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[Call] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (method or key, error)
    paced: bool = False
    channel_burst: int = 3  # paced mode: posts a channel takes at once before 1/s

    def __post_init__(self):
        self._buckets: dict[str, Bucket] = {}
        self.rate_limited = 0  # paced mode: 429s answered
        self.early_retries = 0  # paced mode: calls made before their Retry-After had passed
        self._lock = threading.RLock()
        self._ts = itertools.count(1)
        self._failures: dict[str, list[dict]] = {}
        self._holds: dict[str, list[Hold]] = {}
        self._posted: dict[str, set[str]] = {}  # channel -> ts of the messages posted there
        self.tokens = {self.bot_token: self.team_id}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._serve(QueueingServer(("127.0.0.1", 0), Handler))

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str = "r1") -> str:
        return f"{self.base_url}/response/{key}"

    # -- configuration ---------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, admin: bool = False, owner: bool = False, name: str | None = None
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name or user_id.lower(),
            "real_name": name or user_id,
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "deleted": False,
            "tz": "Europe/London",
        }

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of `method` fail with a Slack error or an HTTP status."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                {"error": error, "status": status, "retry_after": retry_after}
            )

    def hold(self, method: str) -> Hold:
        """Make the next call of `method` wait for `release` before it is answered."""
        held = Hold()
        with self._lock:
            self._holds.setdefault(method, []).append(held)
        return held

    def pace(self, *, channel_burst: int = 3) -> None:
        """Pace from now on, like Slack (see the module's docstring)."""
        with self._lock:
            self.paced, self.channel_burst = True, channel_burst

    def _paced(self, method: str, args: dict) -> int | None:
        """In paced mode, the Retry-After (whole seconds) for a call over the limit."""
        if method == "chat.postMessage":
            key, burst, rate = f"channel:{args.get('channel')}", self.channel_burst, 1.0
        elif method in PACED_METHODS:
            key, (burst, rate) = f"method:{method}", PACED_METHODS[method]
        else:
            return None
        bucket = self._buckets.setdefault(key, Bucket(burst, rate))
        now = time.monotonic()
        if now < bucket.blocked_until:
            self.early_retries += 1
        wait = bucket.take(now)
        if wait <= 0:
            return None
        self.rate_limited += 1
        return max(1, math.ceil(bucket.blocked_until - now))

    # -- inspection ------------------------------------------------------------------------

    def assert_nothing_malformed(self) -> None:
        """Fail if Slack would have refused a message or view the app built (the app may
        only log such a refusal, so a test that does not look at the message would pass)."""
        with self._lock:
            malformed = [refusal for refusal in self.refused if refusal[1] in MALFORMED]
            self.refused.clear()
        assert malformed == [], f"Slack refused what the app built: {malformed}"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, predicate, timeout: float = 5.0):
        """Wait until `predicate(self)` returns something truthy, and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                result = predicate(self)
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting; calls={self.calls} responses={self.responses}")

    def wait_for_response(self, key: str = "r1", timeout: float = 5.0) -> Call:
        return self.wait_for(
            lambda fake: next((r for r in fake.responses if r.method == key), None), timeout
        )

    # -- request handling ------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode()
        if request.headers.get("Content-Type", "").startswith("application/json"):
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        token = token or args.pop("token", None)
        if path.startswith("/response/"):
            key = path.rsplit("/", 1)[1]
            error = self._refusal(lambda: message_content(args, allow_empty=True))
            with self._lock:
                self.responses.append(Call(key, None, args))
                if error:
                    self.refused.append((key, error["error"]))
            if error:
                self._reply(request, 400, error["error"], content_type="text/plain")
            else:
                self._reply(request, 200, "ok", content_type="text/plain")
            return
        if not path.startswith("/api/"):
            self._reply(request, 404, {"ok": False, "error": "not_found"})
            return
        method = path[len("/api/") :]
        with self._lock:
            call = Call(method, token, args, at=time.monotonic())
            self.calls.append(call)
            failure = (
                (self._failures.get(method) or [None]).pop(0)
                if self._failures.get(method)
                else None
            )
            if failure is None and self.paced and token in self.tokens:
                retry_after = self._paced(method, args)
                if retry_after is not None:
                    failure = {"error": "ratelimited", "status": 429, "retry_after": retry_after}
            if failure:
                call.refused = failure["error"] or f"HTTP {failure['status']}"
            held = self._holds[method].pop(0) if self._holds.get(method) else None
        if held is not None:
            held.hit.set()
            held.release.wait(30)
        if failure:
            headers = {"Retry-After": str(failure["retry_after"])} if failure["retry_after"] else {}
            body = {"ok": False, "error": failure["error"] or "internal_error"}
            self._reply(request, failure["status"], body, headers=headers)
            return
        answer = self._answer(method, token, args)
        if not answer["ok"]:
            with self._lock:
                call.refused = answer["error"]
                self.refused.append((method, answer["error"]))
        self._reply(request, 200, answer)

    @staticmethod
    def _refusal(check) -> dict | None:
        """None if `check()` passes Slack's validation, else Slack's error answer."""
        try:
            check()
        except SlackApiError as error:
            return {"ok": False, "error": error.error, **error.extra}
        return None

    def _answer(self, method: str, token: str | None, args: dict) -> dict:
        if method == "oauth.v2.access":
            return self._oauth_access(args)
        if method == "apps.connections.open" and self.socket_mode is not None:
            return self.socket_mode.connections_open(token)  # the app-level token's method
        if token not in self.tokens:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        team_id = self.tokens[token]
        if method in MESSAGE_METHODS and (error := self._refusal(lambda: message_content(args))):
            return error
        if method in VIEW_METHODS and (error := self._refusal(lambda: view_definition(args, None))):
            return error
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.test/",
                "team": self.team_name,
                "user": "ledgerlink",
                "team_id": team_id,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self.users.get(args.get("user"))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            with self._lock:
                self._posted.setdefault(args.get("channel"), set()).add(ts)
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "chat.update":
            with self._lock:
                posted = self._posted.get(args.get("channel"))
            if posted is None:
                return {"ok": False, "error": "channel_not_found"}
            if args.get("ts") not in posted:
                return {"ok": False, "error": "message_not_found"}
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": args.get("ts"),
                "text": args.get("text"),
            }
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {**(view or {}), "id": f"V{next(self._ts):05d}"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        return {"ok": False, "error": "unknown_method"}

    def _oauth_access(self, args: dict) -> dict:
        if args.get("code") != "good-code":
            return {"ok": False, "error": "invalid_code"}
        rotation = (
            {"refresh_token": self.bot_refresh_token, "expires_in": 43200}
            if self.bot_refresh_token
            else {}
        )
        return {
            **rotation,
            "ok": True,
            "app_id": "A0001",
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": "UBOT",
            "access_token": self.bot_token,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "authed_user": {"id": "UADMIN"},
            "is_enterprise_install": False,
        }

    @staticmethod
    def _reply(
        request,
        status: int,
        body,
        *,
        content_type: str = "application/json",
        headers: dict | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
