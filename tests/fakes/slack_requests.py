"""Requests shaped and signed exactly as Slack sends them to /slack/events."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


def slash_command(
    text: str,
    *,
    user_id: str,
    team_id: str,
    response_url: str,
    channel_id: str = "C0001",
    command: str = "/integrations",
) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "acme",
            "channel_id": channel_id,
            "channel_name": "accounts",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f",
        }
    )


def event_callback(event: dict, *, team_id: str) -> str:
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{int(time.time() * 1000)}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
        }
    )


def interactive(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    team_id: str, user: str, callback_id: str, values: dict, metadata: str = ""
) -> str:
    """The body Slack posts when user submits the modal callback_id with these state values."""
    return interactive(
        {
            "type": "view_submission",
            "team": {"id": team_id},
            "user": {"id": user, "team_id": team_id},
            "api_app_id": "A0001",
            "trigger_id": "1.2.3",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": metadata,
                "state": {"values": values},
            },
        }
    )
