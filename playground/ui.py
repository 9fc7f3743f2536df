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

import flask

from bot.http import query
from playground import blockkit
from playground import slack_workspace as ws
from playground.slack_client import Failed, SlackClient
from playground.slack_workspace import Message, SlackWorkspace
from playground.web import json_answer, json_body

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

    def blueprint(self) -> flask.Blueprint:
        page = flask.Blueprint("playground", __name__, url_prefix="/playground")
        page.get("")(self._page)
        page.get("/static/<name>")(self._static)
        page.route("/slack/api/<method>", methods=["GET", "POST"])(self._web_api)
        page.post("/slack/response/<key>")(self._response_url)
        page.get("/ui/state")(self._state)
        page.post("/ui/<action>")(self._ui)
        return page

    # -- the page -------------------------------------------------------------------------------

    def _page(self) -> flask.Response:
        # Its own policy: the app's default one forbids scripts, the page needs its own.
        headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
        return flask.Response(asset("playground.html"), headers=headers)

    def _static(self, name: str) -> flask.Response:
        if name not in STATIC:
            return flask.Response("Not found\n", 404, mimetype="text/plain")
        return flask.Response(
            asset(name), mimetype=STATIC[name], headers={"Cache-Control": "no-store"}
        )

    # -- Slack ----------------------------------------------------------------------------------

    def _web_api(self, method: str) -> flask.Response:
        request = flask.request
        args = query()
        body = request.get_data()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    return json_answer({"ok": False, "error": "invalid_json"})
                args.update(parsed if isinstance(parsed, dict) else {})
            else:
                args.update(dict(parse_qsl(body.decode("utf-8", "replace"))))
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else None
        token = token or args.pop("token", None)
        answer = self.workspace.web_api(method, token, args)
        if not answer.get("ok"):
            log.info("Slack API %s answered %s", method, answer.get("error"))
        return json_answer(answer)

    def _response_url(self, key: str) -> flask.Response:
        try:
            body = json_body()
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return flask.Response("invalid_payload", 400, mimetype="text/plain")
        status, text = self.workspace.response_url_post(key, body)
        return flask.Response(text, status, mimetype="text/plain")

    # -- what the page shows --------------------------------------------------------------------

    def _state(self) -> flask.Response:
        args = query()
        user = args.get("user", ws.ADMIN)
        if user not in self.workspace.users:
            return json_answer({"error": "unknown user"}, 400)
        place = args.get("place", ws.CHANNEL)
        since = args.get("since", "")
        with self.workspace.lock:
            if since == f"{self.workspace.version}:{user}:{place}":
                return json_answer({"version": since, "changed": False})
            return json_answer(self.snapshot(user, place))

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

    def _ui(self, action: str) -> flask.Response:
        if flask.request.headers.get("x-playground") != "1":
            return json_answer({"error": "the playground's own page only"}, 403)
        try:
            data = json_body()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or data.get("user") not in self.workspace.users:
            return json_answer({"error": "send a JSON object with a known user"}, 400)
        user = data["user"]
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
                return json_answer(answer)
            elif action == "submit":
                return json_answer(
                    {"errors": client.submit(user, data["view_id"], data.get("values") or {})}
                )
            elif action == "close":
                client.close(user, data["view_id"])
            elif action == "home":
                client.open_home(user)
            else:
                return json_answer({"error": f"no action {action}"}, 404)
        except Failed as error:
            return json_answer({"error": str(error)}, 409)
        except KeyError as missing:
            return json_answer({"error": f"missing {missing}"}, 400)
        return json_answer({"ok": True})
