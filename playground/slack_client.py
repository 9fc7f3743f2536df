"""What a person does in the Slack client, turned into the requests Slack sends the app.

`SlackClient` runs a slash command, clicks a button, picks from a select, types in an
external select (options load), submits or closes a modal and opens the App Home tab. Each
becomes the payload Slack would send (shapes from Slack's documentation: form-encoded slash
commands, `payload=` JSON for interactivity, JSON event callbacks), signed with the workspace's
signing secret (`v0:timestamp:body`, HMAC-SHA256) and POSTed to the app's `/slack/events` over
HTTP. The app's answer is read as Slack reads it: a slash command's body is shown to the user;
a view submission's `response_action` updates, pushes, clears or shows errors on the modal;
anything but a 200 within `ACK_SECONDS` is reported like Slack reports it ("failed with the
error operation_timeout").

Payloads are built from what the workspace stored (the message or view, and the element with
that block and action id), never from what the browser claims an element looks like.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from playground import slack_workspace as ws
from playground.slack_workspace import SlackWorkspace, ViewState

ACK_SECONDS = 3.0
COMMAND = "/integrations"
VERIFICATION_TOKEN = "deprecated-verification-token"
REQUIRED = "Please complete this required field."


class Failed(Exception):
    """Slack could not deliver a request to the app (its words are the message)."""


def elements_of(block: dict) -> list[dict]:
    if block.get("type") == "actions":
        return list(block.get("elements") or [])
    if block.get("type") == "input":
        return [block["element"]] if block.get("element") else []
    if block.get("type") == "section" and block.get("accessory"):
        return [block["accessory"]]
    return []


def find_element(blocks: list[dict], block_id: str, action_id: str) -> dict | None:
    for block in blocks:
        if block.get("block_id") == block_id:
            for element in elements_of(block):
                if element.get("action_id") == action_id:
                    return element
    return None


def all_options(element: dict) -> list[dict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


class SlackClient:
    def __init__(self, workspace: SlackWorkspace, events_url: str, http: httpx.Client):
        self.workspace = workspace
        self.events_url = events_url
        self.http = http
        self._suggested: dict[tuple, list[dict]] = {}

    # -- delivery -----------------------------------------------------------------------------

    def _send(self, body: str, content_type: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self.workspace.signing_secret).generate_signature(
            timestamp=timestamp, body=body
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        try:
            response = self.http.post(
                self.events_url, content=body.encode(), headers=headers, timeout=ACK_SECONDS
            )
        except httpx.TimeoutException:
            raise Failed("operation_timeout") from None
        except httpx.TransportError:
            raise Failed("dispatch_failed") from None
        if response.status_code != 200:
            raise Failed("dispatch_failed" if response.status_code >= 500 else "http_client_error")
        return response

    def _interactive(self, payload: dict) -> httpx.Response:
        return self._send(urlencode({"payload": json.dumps(payload)}), _FORM)

    def _user(self, user: str) -> dict:
        record = self.workspace.users[user]
        return {
            "id": user,
            "username": record["name"],
            "name": record["name"],
            "team_id": ws.TEAM_ID,
        }

    def _common(self, user: str) -> dict:
        return {
            "user": self._user(user),
            "api_app_id": ws.APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": {"id": ws.TEAM_ID, "domain": ws.TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- slash commands and plain messages ----------------------------------------------------

    def type_text(self, user: str, channel: str, text: str) -> None:
        """What the message box does with `text`: a slash command, or a message."""
        text = text.strip()
        if not text:
            return
        if not self.workspace.can_see(user, channel):
            raise Failed("that conversation is not open to you")
        if not text.startswith("/"):
            self.workspace.post(channel=channel, text=self.escaped(text), blocks=[], user=user)
            return
        command, _, rest = text.partition(" ")
        if command != COMMAND:
            self.workspace.notice(
                user,
                f"{command} is not a valid command. In the playground, the only command is "
                f"{COMMAND}.",
            )
            return
        self.workspace.post(
            channel=channel, text=text, blocks=[], user=user, ephemeral_to=user, echo=True
        )
        channel_info = self.workspace.channels[channel]
        body = urlencode(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": ws.TEAM_ID,
                "team_domain": ws.TEAM_DOMAIN,
                "channel_id": channel,
                "channel_name": "directmessage" if channel_info["is_im"] else channel_info["name"],
                "user_id": user,
                "user_name": self.workspace.users[user]["name"],
                "command": command,
                "text": self.escaped(rest.strip()),
                "api_app_id": ws.APP_ID,
                "is_enterprise_install": "false",
                "response_url": self.workspace.new_response_url(user, channel, None),
                "trigger_id": self.workspace.new_trigger(user),
            }
        )
        try:
            response = self._send(body, _FORM)
        except Failed as error:
            self.workspace.notice(user, f'{command} failed with the error "{error}"')
            return
        self._show_command_answer(user, channel, response)

    def _show_command_answer(self, user: str, channel: str, response: httpx.Response) -> None:
        if not response.content.strip():
            return
        if response.headers.get("content-type", "").startswith("application/json"):
            answer = response.json()
        else:
            answer = {"text": response.text}
        text, blocks = str(answer.get("text") or ""), answer.get("blocks") or []
        public = answer.get("response_type") == "in_channel"
        self.workspace.post(
            channel=channel,
            text=text,
            blocks=blocks,
            user=ws.BOT_USER_ID,
            ephemeral_to=None if public else user,
        )

    def escaped(self, typed: str) -> str:
        """Typed text as Slack sends it (the command has `should_escape`): `&`, `<` and `>`
        escaped, and @name and #channel turned into mentions."""
        text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for user_id, user in self.workspace.users.items():
            name = re.escape(user["name"])
            text = re.sub(rf"(?<![\w@])@{name}\b", f"<@{user_id}|{user['name']}>", text)
        for channel_id, info in self.workspace.channels.items():
            if not info["is_im"]:
                name = re.escape(info["name"])
                text = re.sub(rf"(?<![\w#])#{name}\b", f"<#{channel_id}|{info['name']}>", text)
        return text

    # -- interactivity ------------------------------------------------------------------------

    def act(self, user: str, where: dict, block_id: str, action_id: str, choice=None) -> None:
        """A click on a button, or a choice in a select, in a message or a view.

        `where` is {"channel", "ts"} for a message or {"view_id"} for a view; `choice` is the
        chosen option value (selects), date, conversation, or list of values (checkboxes)."""
        container, blocks, extra = self._container(user, where)
        element = find_element(blocks, block_id, action_id)
        if element is None:
            raise Failed("that element is not there any more")
        action = self._action(user, where, block_id, element, choice)
        payload = {
            "type": "block_actions",
            **self._common(user),
            "container": container,
            "trigger_id": self.workspace.new_trigger(user),
            "state": {"values": _state_of(action)},
            "actions": [action],
            **extra,
        }
        try:
            self._interactive(payload)
        except Failed as error:
            self.workspace.notice(user, f"Your click didn't reach ledgerlink ({error}).")

    def _container(self, user: str, where: dict) -> tuple[dict, list[dict], dict]:
        workspace = self.workspace
        if "view_id" in where:
            view = workspace.views.get(where["view_id"])
            if view is None or view.user != user:
                raise Failed("that view is closed")
            container = {"type": "view", "view_id": view.id}
            return container, view.definition.get("blocks") or [], {"view": view.payload()}
        message = workspace.message(where.get("channel", ""), where.get("ts", ""))
        if message is None or message.ephemeral_to not in (None, user):
            raise Failed("that message is gone")
        channel = workspace.channels[message.channel]
        container = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_to is not None,
        }
        extra = {
            "channel": {
                "id": message.channel,
                "name": "directmessage" if channel["is_im"] else channel["name"],
            },
            "response_url": workspace.new_response_url(user, message.channel, message.ts),
        }
        if message.ephemeral_to is None:
            extra["message"] = workspace.as_json(message)
        return container, message.blocks, extra

    def _action(self, user: str, where: dict, block_id: str, element: dict, choice) -> dict:
        kind = element.get("type")
        action = {
            "type": kind,
            "action_id": element.get("action_id"),
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if kind == "button":
            action["text"] = element.get("text")
            for key in ("value", "style"):
                if key in element:
                    action[key] = element[key]
        elif kind in ("static_select", "radio_buttons", "overflow"):
            option = next((o for o in all_options(element) if o.get("value") == choice), None)
            if option is None:
                raise Failed("that option is not offered")
            action["selected_option"] = option
        elif kind == "external_select":
            action["selected_option"] = self._suggested_option(
                user, where, block_id, element, choice
            )
        elif kind == "checkboxes":
            chosen = set(choice or [])
            action["selected_options"] = [o for o in all_options(element) if o["value"] in chosen]
        elif kind == "datepicker":
            action["selected_date"] = choice
        elif kind in ("conversations_select", "channels_select"):
            key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
            action[key] = choice
        elif kind == "users_select":
            action["selected_user"] = choice
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
        return action

    def _suggested_option(self, user, where, block_id, element, value) -> dict:
        key = (user, json.dumps(where, sort_keys=True), block_id, element.get("action_id"))
        options = self._suggested.get(key, [])
        initial = element.get("initial_option")
        option = next((o for o in options if o.get("value") == value), None)
        if option is None and initial and initial.get("value") == value:
            option = initial
        if option is None:
            raise Failed("that option was not offered")
        return option

    def suggest(self, user: str, where: dict, block_id: str, action_id: str, query: str):
        """An external select's options load (`block_suggestion`): the options the app offers."""
        container, blocks, extra = self._container(user, where)
        element = find_element(blocks, block_id, action_id)
        if element is None or element.get("type") != "external_select":
            raise Failed("that select is not there any more")
        extra.pop("response_url", None)  # options loads carry none
        payload = {
            "type": "block_suggestion",
            **self._common(user),
            "container": container,
            "action_id": action_id,
            "block_id": block_id,
            "value": query,
            **extra,
        }
        answer = self._interactive(payload).json()
        options = list(answer.get("options") or [])
        for group in answer.get("option_groups") or []:
            options += group.get("options") or []
        self._suggested[(user, json.dumps(where, sort_keys=True), block_id, action_id)] = options
        return answer

    # -- views --------------------------------------------------------------------------------

    def submit(self, user: str, view_id: str, raw: dict) -> dict[str, str]:
        """Submit a modal with the values typed in (`raw[block_id][action_id]`); returns the
        errors shown on it (empty when it closed or moved on)."""
        view = self.workspace.top_modal(user)
        if view is None or view.id != view_id:
            raise Failed("that modal is not open")
        values, missing = self._state_values(user, view, raw)
        if missing:
            view.errors = missing  # Slack checks required fields itself, before sending
            self.workspace.changed()
            return missing
        payload = {
            "type": "view_submission",
            **self._common(user),
            "trigger_id": self.workspace.new_trigger(user),
            "view": view.payload(values),
            "response_urls": [],
        }
        try:
            response = self._interactive(payload)
        except Failed:
            view.errors = {"_": "We had some trouble connecting. Try again?"}
            self.workspace.changed()
            return view.errors
        answer = response.json() if response.content.strip() else {}
        try:
            return self._after_submit(user, view, answer)
        except ws.SlackApiError as error:  # the app answered with a view Slack refuses
            view.errors = {"_": f"ledgerlink answered with a view Slack refuses ({error})."}
            self.workspace.changed()
            return view.errors

    def _after_submit(self, user: str, view: ViewState, answer: dict) -> dict[str, str]:
        workspace = self.workspace
        stack = workspace.modals.get(user) or []
        action = answer.get("response_action")
        with workspace.lock:
            if action == "errors":
                view.errors = dict(answer.get("errors") or {})
            elif action == "update":
                view.definition, view.errors = ws.view_definition(answer, "modal"), {}
            elif action == "push" and len(stack) < ws.MAX_MODAL_STACK:
                definition = ws.view_definition(answer, "modal")
                pushed = workspace.new_view(user, definition, root=stack[0], previous=view.id)
                stack.append(pushed.id)
            elif action == "clear":
                workspace.modals[user] = []
            elif stack:
                stack.pop()
            workspace.changed()
        return view.errors if action == "errors" else {}

    def close(self, user: str, view_id: str) -> None:
        view = self.workspace.top_modal(user)
        if view is None or view.id != view_id:
            return
        with self.workspace.lock:
            self.workspace.modals[user].pop()
            self.workspace.changed()
        if view.definition.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                **self._common(user),
                "view": view.payload(),
                "is_cleared": False,
            }
            # Slack does not tell the user when a view_closed notice fails.
            with contextlib.suppress(Failed):
                self._interactive(payload)

    def _state_values(self, user: str, view: ViewState, raw: dict):
        values: dict = {}
        missing: dict[str, str] = {}
        for block in view.definition.get("blocks") or []:
            if block.get("type") not in ("input", "actions", "section"):
                continue
            for element in elements_of(block):
                if element.get("type") in ("button", None):
                    continue
                block_id, action_id = block["block_id"], element.get("action_id")
                given = (raw.get(block_id) or {}).get(action_id)
                state = self._element_state(user, view, block_id, element, given)
                values.setdefault(block_id, {})[action_id] = state
                empty = given in (None, "", [])
                if block.get("type") == "input" and not block.get("optional") and empty:
                    missing[block_id] = REQUIRED
        return values, missing

    def _element_state(self, user, view, block_id, element, given) -> dict:
        kind = element.get("type")
        if kind == "plain_text_input":
            return {"type": kind, "value": given or None}
        if kind == "datepicker":
            return {"type": kind, "selected_date": given or None}
        if kind in ("static_select", "radio_buttons"):
            option = next((o for o in all_options(element) if o.get("value") == given), None)
            return {"type": kind, "selected_option": option}
        if kind == "external_select":
            where = {"view_id": view.id}
            try:
                option = (
                    self._suggested_option(user, where, block_id, element, given) if given else None
                )
            except Failed:
                option = None
            return {"type": kind, "selected_option": option}
        if kind == "checkboxes":
            chosen = set(given or [])
            return {
                "type": kind,
                "selected_options": [o for o in all_options(element) if o["value"] in chosen],
            }
        if kind == "conversations_select":
            return {"type": kind, "selected_conversation": given or None}
        if kind == "channels_select":
            return {"type": kind, "selected_channel": given or None}
        if kind == "users_select":
            return {"type": kind, "selected_user": given or None}
        return {"type": kind, "value": given}

    # -- events -------------------------------------------------------------------------------

    def open_home(self, user: str) -> None:
        """Opening the app's Home tab: Slack sends `app_home_opened`."""
        home = self.workspace.views.get(self.workspace.homes.get(user, ""))
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.workspace.dm_channel(user),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if home is not None:
            event["view"] = home.payload()
        body = json.dumps(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": ws.TEAM_ID,
                "api_app_id": ws.APP_ID,
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{int(time.time() * 1000)}{self.workspace.next_id('')}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": ws.TEAM_ID,
                        "user_id": ws.BOT_USER_ID,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
                "event_context": f"4-{self.workspace.next_id('')}",
            }
        )
        try:
            self._send(body, "application/json")
        except Failed as error:
            self.workspace.notice(user, f"The Home tab didn't load ({error}).")


_FORM = "application/x-www-form-urlencoded"


def _state_of(action: dict) -> dict:
    """The `state.values` Slack sends with an action: the chosen value of a stateful element."""
    if action["type"] == "button":
        return {}
    kept = {k: v for k, v in action.items() if k not in ("action_id", "block_id", "action_ts")}
    return {action["block_id"]: {action["action_id"]: kept}}
