"""The playground's HTTP side: the chat page, Slack's Web API and response URLs, and the small
JSON API the page uses to act as a person in the Slack client.

    GET  /playground                         the chat page (static/playground.html)
    GET  /playground/static/{name}           its script and style sheet
    *    /playground/slack/api/{method}      the Slack Web API the app calls (SLACK_API_URL)
    POST /playground/slack/response/{key}    response URLs
    GET  /playground/ui/state                what the chosen user sees now (polled)
    POST /playground/ui/{action}             type, act, suggest, submit, close, home

The page's calls must carry `X-Playground: 1` (a cross-site form cannot), and it is served
with a Content-Security-Policy that allows only its own script.
"""

from __future__ import annotations

import json
import logging
import time
from importlib import resources
from urllib.parse import parse_qsl

from bot.http import Request, Response, Route
from playground import blockkit
from playground import slack_workspace as ws
from playground.slack_client import Failed, SlackClient
from playground.slack_workspace import Message, SlackWorkspace

log = logging.getLogger("ledgerlink.playground")

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NOTICE_SECONDS = 30  # how long a new page (or a reload) still shows a notice
STATIC = {"playground.js": "text/javascript", "playground.css": "text/css"}


def asset(name: str) -> bytes:
    return resources.files("playground").joinpath("static", name).read_bytes()


class Playground:
    def __init__(self, workspace: SlackWorkspace, client: SlackClient):
        self.workspace = workspace
        self.client = client

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/playground", wsgi=self._page),
            Route("GET", "/playground/static/{name}", handler=self._static),
            Route("POST", "/playground/slack/api/{method}", handler=self._web_api),
            Route("GET", "/playground/slack/api/{method}", handler=self._web_api),
            Route("POST", "/playground/slack/response/{key}", handler=self._response_url),
            Route("GET", "/playground/ui/state", handler=self._state),
            Route("POST", "/playground/ui/{action}", handler=self._ui),
        ]

    # -- the page -------------------------------------------------------------------------------

    def _page(self, environ, start_response):
        # Served whole here: the router's default policy forbids scripts, the page needs one.
        body = asset("playground.html")
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Content-Security-Policy", PAGE_CSP),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def _static(self, request: Request) -> Response:
        name = request.params["name"]
        if name not in STATIC:
            return Response.text("Not found\n", 404)
        response = Response(200, asset(name), f"{STATIC[name]}; charset=utf-8")
        response.headers.append(("Cache-Control", "no-store"))
        return response

    # -- Slack ----------------------------------------------------------------------------------

    def _web_api(self, request: Request) -> Response:
        args = dict(request.query)
        body = request.body()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    return Response.json({"ok": False, "error": "invalid_json"})
                args.update(parsed if isinstance(parsed, dict) else {})
            else:
                args.update(dict(parse_qsl(body.decode("utf-8", "replace"))))
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else None
        token = token or args.pop("token", None)
        answer = self.workspace.web_api(request.params["method"], token, args)
        if not answer.get("ok"):
            log.info("Slack API %s answered %s", request.params["method"], answer.get("error"))
        return Response.json(answer)

    def _response_url(self, request: Request) -> Response:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return Response.text("invalid_payload", 400)
        if not isinstance(body, dict):
            return Response.text("invalid_payload", 400)
        status, text = self.workspace.response_url_post(request.params["key"], body)
        return Response.text(text, status)

    # -- what the page shows --------------------------------------------------------------------

    def _state(self, request: Request) -> Response:
        user = request.query.get("user", ws.ADMIN)
        if user not in self.workspace.users:
            return Response.json({"error": "unknown user"}, 400)
        place = request.query.get("place", ws.CHANNEL)
        since = request.query.get("since", "")
        with self.workspace.lock:
            if since == f"{self.workspace.version}:{user}:{place}":
                return Response.json({"version": since, "changed": False})
            return Response.json(self.snapshot(user, place))

    def snapshot(self, user: str, place: str) -> dict:
        workspace = self.workspace
        dm = workspace.dm_channel(user)
        ctx = self.context()
        if place != "home" and workspace.can_see(user, place):
            seen = workspace.visible_messages(user, place)
            if seen:
                workspace.read_up_to[(user, place)] = seen[-1].ts
        state = {
            "version": f"{workspace.version}:{user}:{place}",
            "changed": True,
            "user": user,
            "users": [
                {"id": uid, "name": u["real_name"], "admin": u["is_admin"]}
                for uid, u in workspace.users.items()
            ],
            "channels": [
                {
                    "id": ws.CHANNEL,
                    "name": ws.CHANNEL_NAME,
                    "unread": self._unread(user, ws.CHANNEL),
                },
                {"id": dm, "name": "ledgerlink", "dm": True, "unread": self._unread(user, dm)},
            ],
            "place": place,
            "notices": [
                n
                for n in workspace.notices
                if n["user"] == user and time.time() - n["at"] < NOTICE_SECONDS
            ],
        }
        if place == "home":
            view = workspace.views.get(workspace.homes.get(user, ""))
            state["main"] = blockkit.home(
                view.definition if view else None, ctx, view_id=view.id if view else None
            )
        elif workspace.can_see(user, place):
            state["items"] = self.render_messages(workspace.visible_messages(user, place), ctx)
        else:
            state["items"] = []
        modal = workspace.top_modal(user)
        stack = workspace.modals.get(user) or []
        state["modal"] = (
            blockkit.modal(
                modal.definition, ctx, view_id=modal.id, errors=modal.errors, depth=len(stack)
            )
            if modal
            else None
        )
        return state

    def context(self) -> blockkit.Context:
        users = {uid: u["real_name"] for uid, u in self.workspace.users.items()}
        users[ws.BOT_USER_ID] = "ledgerlink"
        channels = {
            cid: info["name"] for cid, info in self.workspace.channels.items() if not info["is_im"]
        }
        return blockkit.Context(users=users, channels=channels)

    def _unread(self, user: str, channel: str) -> int:
        seen = self.workspace.read_up_to.get((user, channel), "0")
        return sum(
            1
            for m in self.workspace.visible_messages(user, channel)
            if float(m.ts) > float(seen) and m.user != user
        )

    def render_messages(self, messages: list[Message], ctx: blockkit.Context) -> list[dict]:
        """[{"key": ts, "html": ...}] in order: the page replaces only what changed."""
        replies: dict[str, list[Message]] = {}
        top = []
        for message in messages:
            if message.thread_ts and message.thread_ts != message.ts:
                replies.setdefault(message.thread_ts, []).append(message)
            else:
                top.append(message)
        return [
            {
                "key": message.ts,
                "html": self.render_message(
                    message,
                    ctx,
                    thread="".join(
                        self.render_message(r, ctx) for r in replies.get(message.ts, [])
                    ),
                ),
            }
            for message in top
        ]

    def render_message(self, message: Message, ctx: blockkit.Context, thread: str = "") -> str:
        esc = blockkit.esc
        where = f' data-channel="{esc(message.channel)}" data-ts="{esc(message.ts)}"'
        if message.echo:
            return (
                f'<div class="msg echo"{where}><span>You ran</span> '
                f"<code>{esc(message.text)}</code></div>"
            )
        bot = message.user == ws.BOT_USER_ID
        name = ctx.users.get(message.user, message.user)
        initials = "L" if bot else "".join(w[0] for w in name.split()[:2])
        classes = "msg" + (" ephemeral" if message.ephemeral_to else "") + (" bot" if bot else "")
        badge = '<span class="app-badge">APP</span>' if bot else ""
        note = '<div class="msg-note">👁 Only visible to you</div>' if message.ephemeral_to else ""
        thread_html = f'<div class="thread">{thread}</div>' if thread else ""
        return (
            f'<div class="{classes}"{where}><div class="avatar">{esc(initials)}</div>'
            f'<div class="msg-main"><div class="msg-head"><b>{esc(name)}</b>{badge}'
            f'<time data-ts="{esc(message.ts)}">{blockkit.clock_time(message.ts)}</time></div>'
            f'<div class="msg-content">{blockkit.message_body(message.text, message.blocks, ctx)}'
            f"</div>{note}{thread_html}</div></div>"
        )

    # -- what the page does ---------------------------------------------------------------------

    def _ui(self, request: Request) -> Response:
        if request.headers.get("x-playground") != "1":
            return Response.json({"error": "the playground's own page only"}, 403)
        try:
            data = request.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or data.get("user") not in self.workspace.users:
            return Response.json({"error": "send a JSON object with a known user"}, 400)
        user, action = data["user"], request.params["action"]
        client = self.client
        try:
            if action == "type":
                client.type_text(user, str(data.get("channel")), str(data.get("text") or ""))
            elif action == "act":
                client.act(
                    user, data["where"], data["block_id"], data["action_id"], data.get("choice")
                )
            elif action == "suggest":
                answer = client.suggest(
                    user, data["where"], data["block_id"], data["action_id"], data.get("query", "")
                )
                return Response.json(answer)
            elif action == "submit":
                return Response.json(
                    {"errors": client.submit(user, data["view_id"], data.get("values") or {})}
                )
            elif action == "close":
                client.close(user, data["view_id"])
            elif action == "home":
                client.open_home(user)
            else:
                return Response.json({"error": f"no action {action}"}, 404)
        except Failed as error:
            return Response.json({"error": str(error)}, 409)
        except KeyError as missing:
            return Response.json({"error": f"missing {missing}"}, 400)
        return Response.json({"ok": True})
