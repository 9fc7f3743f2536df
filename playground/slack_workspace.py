"""The playground's Slack workspace, and the Slack Web API the app calls (SLACK_API_URL).

`SlackWorkspace` holds what Slack would: users, channels, messages (public and ephemeral, with
threads), views (modal stacks per user, App Home tabs), trigger ids and response URLs. The app
reaches it only through `web_api(method, token, args)` and `response_url_post(key, body)`, both
served over HTTP by `playground.ui`, with Slack's rules:

* every method needs the bot token (`not_authed`, `invalid_auth`);
* blocks and views are validated with `slack_sdk.models` and refused like Slack refuses them
  (`invalid_blocks`, `invalid_arguments`); a message needs text or blocks (`no_text`);
* `views.open` and `views.push` need a trigger id issued by a user action less than
  `TRIGGER_SECONDS` ago, used once (`expired_trigger_id`, `invalid_trigger_id`); `views.update`
  honours `hash` (`hash_conflict`); a modal stack holds at most three views;
* a response URL works `RESPONSE_URL_USES` times within `RESPONSE_URL_SECONDS`; it posts
  ephemerally to whoever acted unless `response_type` is `in_channel`, and `replace_original`
  or `delete_original` act on the message the action came from (for a slash command: the last
  message posted through that URL).

Every change bumps `version`, which the chat page polls.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View as SdkView

TEAM_ID, TEAM_NAME, TEAM_DOMAIN = "T0DEMO0001", "Harbour Lane (demo)", "harbour-lane-demo"
APP_ID, BOT_USER_ID, BOT_ID = "A0LEDGERLNK", "U0LEDGERBOT", "B0LEDGERBOT"
ADMIN, STAFF = "U0ALEXADMIN", "U0SAMSTAFF0"
CHANNEL, CHANNEL_NAME = "C0ACCOUNTS0", "accounts"
TRIGGER_SECONDS = 3.0
RESPONSE_URL_USES, RESPONSE_URL_SECONDS = 5, 30 * 60
MAX_MODAL_STACK = 3


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict]
    user: str  # the author: a person, or the bot user
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # only this user sees it
    echo: bool = False  # the playground's own note of a command someone ran


@dataclass
class ViewState:
    id: str
    user: str
    definition: dict
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def payload(self, values: dict | None = None) -> dict:
        """The view as Slack sends it in payloads and API answers."""
        definition = self.definition
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": definition.get("type"),
            "blocks": definition.get("blocks", []),
            "private_metadata": definition.get("private_metadata", ""),
            "callback_id": definition.get("callback_id", ""),
            "state": {"values": values or {}},
            "hash": self.hash,
            "title": definition.get("title"),
            "clear_on_close": bool(definition.get("clear_on_close")),
            "notify_on_close": bool(definition.get("notify_on_close")),
            "close": definition.get("close"),
            "submit": definition.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": APP_ID,
            "external_id": definition.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


@dataclass
class ResponseUrl:
    key: str
    user: str
    channel: str
    message_ts: str | None  # the message replace_original / delete_original act on
    created: float
    uses: int = 0


class SlackApiError(Exception):
    def __init__(self, error: str, **extra):
        self.error = error
        self.extra = extra
        super().__init__(error)


def user_record(user_id: str, name: str, *, admin: bool) -> dict:
    handle = name.split()[0].lower()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": handle,
        "real_name": name,
        "profile": {"real_name": name, "display_name": handle},
        "is_admin": admin,
        "is_owner": admin,
        "is_primary_owner": admin,
        "is_bot": False,
        "deleted": False,
        "tz": "Europe/London",
    }


class SlackWorkspace:
    def __init__(self, *, base_url: str, monotonic=time.monotonic):
        self.base_url = base_url.rstrip("/")  # where the playground is served
        self.bot_token = "xoxb-demo-" + secrets.token_hex(12)
        self.signing_secret = secrets.token_hex(16)
        self.users = {
            ADMIN: user_record(ADMIN, "Alex Admin", admin=True),
            STAFF: user_record(STAFF, "Sam Staff", admin=False),
        }
        self.channels: dict[str, dict] = {
            CHANNEL: {"id": CHANNEL, "name": CHANNEL_NAME, "is_im": False, "user": None}
        }
        self.messages: list[Message] = []
        self.views: dict[str, ViewState] = {}
        self.modals: dict[str, list[str]] = {}  # user -> stack of view ids (top last)
        self.homes: dict[str, str] = {}  # user -> view id of their App Home tab
        self.triggers: dict[str, tuple[str, float]] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.notices: list[dict] = []  # what Slack tells a user about a failed request
        self.read_up_to: dict[tuple[str, str], str] = {}
        self.version = 0
        self.lock = threading.RLock()
        self._monotonic = monotonic
        self._ids = itertools.count(1)
        self._last_ts = 0.0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/playground/slack/api/"

    # -- bookkeeping ----------------------------------------------------------------------------

    def changed(self) -> None:
        with self.lock:
            self.version += 1

    def next_ts(self) -> str:
        with self.lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{secrets.token_hex(2).upper()}"

    def notice(self, user: str, text: str) -> None:
        with self.lock:
            self.notices.append(
                {"id": next(self._ids), "user": user, "text": text, "at": time.time()}
            )
            self.changed()

    def new_trigger(self, user: str) -> str:
        trigger = f"{next(self._ids)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self.lock:
            self.triggers[trigger] = (user, self._monotonic())
        return trigger

    def new_response_url(self, user: str, channel: str, message_ts: str | None) -> str:
        key = secrets.token_urlsafe(12)
        with self.lock:
            self.response_urls[key] = ResponseUrl(key, user, channel, message_ts, self._monotonic())
        return f"{self.base_url}/playground/slack/response/{key}"

    def dm_channel(self, user: str) -> str:
        channel = "D" + user[1:]
        with self.lock:
            self.channels.setdefault(
                channel, {"id": channel, "name": "ledgerlink", "is_im": True, "user": user}
            )
        return channel

    def can_see(self, user: str, channel: str) -> bool:
        info = self.channels.get(channel)
        return info is not None and (not info["is_im"] or info["user"] == user)

    def message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def visible_messages(self, user: str, channel: str) -> list[Message]:
        with self.lock:
            return [
                m for m in self.messages if m.channel == channel and m.ephemeral_to in (None, user)
            ]

    def top_modal(self, user: str) -> ViewState | None:
        with self.lock:
            stack = self.modals.get(user) or []
            return self.views[stack[-1]] if stack else None

    def post(self, **fields) -> Message:
        message = Message(ts=self.next_ts(), **fields)
        with self.lock:
            self.messages.append(message)
            self.changed()
        return message

    # -- the Web API ----------------------------------------------------------------------------

    def web_api(self, method: str, token: str | None, args: dict) -> dict:
        """Answer one Web API call the way Slack does: {"ok": true, ...} or an error."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            with self.lock:
                return {"ok": True, **handler(args)}
        except SlackApiError as error:
            return {"ok": False, "error": error.error, **error.extra}

    def _auth_test(self, args: dict) -> dict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "ledgerlink",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: dict) -> dict:
        user = self.users.get(args.get("user"))
        if user is None:
            raise SlackApiError("user_not_found")
        return {"user": user}

    def _conversations_open(self, args: dict) -> dict:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0] not in self.users:
            raise SlackApiError("user_not_found")
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _channel_for(self, args: dict) -> str:
        channel = args.get("channel") or ""
        if channel in self.users:  # posting to a user ID posts in the DM with them
            return self.dm_channel(channel)
        if channel not in self.channels:
            raise SlackApiError("channel_not_found")
        return channel

    def _chat_postMessage(self, args: dict) -> dict:
        channel = self._channel_for(args)
        text, blocks = message_content(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.message(channel, thread_ts) is None:
            thread_ts = None  # Slack posts in the channel when the parent is gone
        message = self.post(
            channel=channel, text=text, blocks=blocks, user=BOT_USER_ID, thread_ts=thread_ts
        )
        return {"channel": channel, "ts": message.ts, "message": self.as_json(message)}

    def _chat_postEphemeral(self, args: dict) -> dict:
        channel = self._channel_for(args)
        user = args.get("user")
        if user not in self.users:
            raise SlackApiError("user_not_in_channel")
        text, blocks = message_content(args)
        message = self.post(
            channel=channel, text=text, blocks=blocks, user=BOT_USER_ID, ephemeral_to=user
        )
        return {"message_ts": message.ts}

    def _chat_update(self, args: dict) -> dict:
        message = self.message(self._channel_for(args), args.get("ts") or "")
        if message is None or message.ephemeral_to:  # ephemeral ones only via response URLs
            raise SlackApiError("message_not_found")
        if message.user != BOT_USER_ID:
            raise SlackApiError("cant_update_message")
        message.text, message.blocks = message_content(args)
        self.changed()
        return {"channel": message.channel, "ts": message.ts, "text": message.text}

    def _chat_delete(self, args: dict) -> dict:
        message = self.message(self._channel_for(args), args.get("ts") or "")
        if message is None or message.ephemeral_to:
            raise SlackApiError("message_not_found")
        self.messages.remove(message)
        self.changed()
        return {"channel": message.channel, "ts": message.ts}

    def _take_trigger(self, args: dict) -> str:
        trigger = self.triggers.pop(args.get("trigger_id") or "", None)
        if trigger is None:
            raise SlackApiError("invalid_trigger_id")
        user, issued = trigger
        if self._monotonic() - issued > TRIGGER_SECONDS:
            raise SlackApiError("expired_trigger_id")
        return user

    def new_view(self, user: str, definition: dict, *, root: str | None = None, previous=None):
        view_id = self.next_id("V")
        state = ViewState(
            id=view_id,
            user=user,
            definition=definition,
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            root_view_id=root or view_id,
            previous_view_id=previous,
        )
        self.views[view_id] = state
        return state

    def _views_open(self, args: dict) -> dict:
        definition = view_definition(args, "modal")
        user = self._take_trigger(args)
        view = self.new_view(user, definition)
        self.modals[user] = [view.id]
        self.changed()
        return {"view": view.payload()}

    def _views_push(self, args: dict) -> dict:
        definition = view_definition(args, "modal")
        user = self._take_trigger(args)
        stack = self.modals.get(user) or []
        if not stack:
            raise SlackApiError("not_found")
        if len(stack) >= MAX_MODAL_STACK:
            raise SlackApiError("push_limit_reached")
        view = self.new_view(user, definition, root=stack[0], previous=stack[-1])
        stack.append(view.id)
        self.changed()
        return {"view": view.payload()}

    def _views_update(self, args: dict) -> dict:
        view = self.views.get(args.get("view_id") or "")
        if view is None and args.get("external_id"):
            view = next(
                (
                    v
                    for v in self.views.values()
                    if v.definition.get("external_id") == args["external_id"]
                ),
                None,
            )
        if view is None:
            raise SlackApiError("not_found")
        if args.get("hash") and args["hash"] != view.hash:
            raise SlackApiError("hash_conflict")
        view.definition = view_definition(args, view.definition.get("type"))
        view.hash = f"{int(time.time())}.{secrets.token_hex(4)}"
        view.errors = {}
        self.changed()
        return {"view": view.payload()}

    def _views_publish(self, args: dict) -> dict:
        user = args.get("user_id")
        if user not in self.users:
            raise SlackApiError("user_not_found")
        definition = view_definition(args, "home")
        current = self.views.get(self.homes.get(user, ""))
        if current is not None:
            if args.get("hash") and args["hash"] != current.hash:
                raise SlackApiError("hash_conflict")
            current.definition = definition
            current.hash = f"{int(time.time())}.{secrets.token_hex(4)}"
            view = current
        else:
            view = self.new_view(user, definition)
            self.homes[user] = view.id
        self.changed()
        return {"view": view.payload()}

    @staticmethod
    def as_json(message: Message) -> dict:
        return {
            "type": "message",
            "text": message.text,
            "blocks": message.blocks,
            "user": message.user,
            "bot_id": BOT_ID if message.user == BOT_USER_ID else None,
            "app_id": APP_ID if message.user == BOT_USER_ID else None,
            "ts": message.ts,
            "team": TEAM_ID,
            **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
        }

    # -- response URLs --------------------------------------------------------------------------

    def response_url_post(self, key: str, body: dict) -> tuple[int, str]:
        with self.lock:
            url = self.response_urls.get(key)
            if url is None:
                return 404, "invalid_url"
            if self._monotonic() - url.created > RESPONSE_URL_SECONDS:
                return 404, "expired_url"
            if url.uses >= RESPONSE_URL_USES:
                return 404, "used_url"
            url.uses += 1
            try:
                text, blocks = message_content(
                    body, allow_empty=_truthy(body.get("delete_original"))
                )
            except SlackApiError as error:
                return 400, error.error
            original = self.message(url.channel, url.message_ts) if url.message_ts else None
            if _truthy(body.get("delete_original")):
                if original is not None:
                    self.messages.remove(original)
                    self.changed()
                return 200, "ok"
            if _truthy(body.get("replace_original")) and original is not None:
                original.text, original.blocks = text, blocks
                if body.get("response_type") == "in_channel":
                    original.ephemeral_to = None
                self.changed()
                return 200, "ok"
            public = body.get("response_type") == "in_channel"
            message = self.post(
                channel=url.channel,
                text=text,
                blocks=blocks,
                user=BOT_USER_ID,
                ephemeral_to=None if public else url.user,
                thread_ts=body.get("thread_ts") or None,
            )
            if original is None:  # a command's URL: the next replace acts on this one
                url.message_ts = message.ts
            return 200, "ok"


def _truthy(value) -> bool:
    return value is True or str(value).lower() == "true"


def _parsed(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackApiError("invalid_json") from None
    return value


def message_content(args: dict, *, allow_empty: bool = False) -> tuple[str, list[dict]]:
    """(text, blocks) of a message, checked like Slack checks them."""
    text = str(args.get("text") or "")
    blocks = _parsed(args.get("blocks")) or []
    if not isinstance(blocks, list):
        raise SlackApiError("invalid_blocks_format")
    if not text and not blocks and not allow_empty:
        raise SlackApiError("no_text")
    problems = block_problems(blocks)
    if problems:
        raise SlackApiError("invalid_blocks", errors=problems)
    return text, with_ids(blocks)


def with_ids(blocks: list[dict]) -> list[dict]:
    """Slack gives every block a block_id, and every interactive element an action_id, that
    the app left out."""
    done = []
    for block in blocks:
        block = {**block}
        block.setdefault("block_id", secrets.token_urlsafe(3))
        for key in ("elements", "accessory", "element"):
            if key == "elements" and block.get("type") == "actions":
                block["elements"] = [_with_action_id(e) for e in block.get("elements") or []]
            elif key in block and key != "elements" and isinstance(block[key], dict):
                block[key] = _with_action_id(block[key])
        done.append(block)
    return done


def _with_action_id(element: dict) -> dict:
    if element.get("type") in ("image", "plain_text", "mrkdwn") or "action_id" in element:
        return element
    return {**element, "action_id": secrets.token_urlsafe(3)}


def block_problems(blocks: list) -> list[str]:
    problems = []
    if len(blocks) > 50:
        problems.append("no more than 50 items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        try:
            parsed = Block.parse(block) if isinstance(block, dict) else None
            if parsed is None:
                raise SlackObjectFormationError(f"unsupported block {block!r:.60}")
            parsed.validate_json()
        except (SlackObjectFormationError, TypeError, KeyError, ValueError) as error:
            problems.append(f"{error} [json-pointer:/blocks/{index}]")
    return problems


def view_definition(args: dict, kind: str | None) -> dict:
    view = _parsed(args.get("view"))
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise SlackApiError("invalid_arguments", response_metadata={"messages": ["bad view"]})
    if kind and view["type"] != kind:
        raise SlackApiError("invalid_arguments", response_metadata={"messages": ["view type"]})
    problems = block_problems(view.get("blocks") or [])
    try:
        SdkView(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as error:
        problems.append(str(error))
    if problems:
        raise SlackApiError("invalid_arguments", response_metadata={"messages": problems})
    return {**view, "blocks": with_ids(view.get("blocks") or [])}
