"""Who may administer ledgerlink in a workspace.

A user is an admin when Slack says they are a workspace admin or owner (`users.info`), when they
are listed in LEDGERLINK_ADMINS, or when an admin added them with `/integrations admins add`.
Slack's answer is cached for a few minutes per user; a failed lookup fails closed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import SlackUnavailable

CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class AdminRoster:
    configured: tuple[str, ...]  # LEDGERLINK_ADMINS
    granted: tuple[str, ...]  # the admins table

    @property
    def named(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.configured + self.granted))


class AdminPolicy:
    def __init__(
        self,
        *,
        store,
        configured: tuple[str, ...],
        cache_seconds: float = CACHE_SECONDS,
        monotonic=time.monotonic,
    ):
        self._store = store
        self._configured = configured
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def roster(self, team_id: str) -> AdminRoster:
        granted = tuple(row["user_id"] for row in self._store.admins(team_id))
        return AdminRoster(configured=self._configured, granted=granted)

    def is_admin(self, client: WebClient, team_id: str, user_id: str) -> bool:
        if user_id in self._configured or self._store.is_listed_admin(team_id, user_id):
            return True
        return self.is_slack_admin(client, team_id, user_id)

    def is_slack_admin(self, client: WebClient, team_id: str, user_id: str) -> bool:
        key = (team_id, user_id)
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] > now:
            return cached[1]
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "user_not_visible"):
                return False
            raise SlackUnavailable(
                "I couldn't check your permissions with Slack just now. Please try again."
            ) from error
        except (SlackClientError, OSError) as error:
            raise SlackUnavailable(
                "I couldn't reach Slack to check your permissions. Please try again."
            ) from error
        answer = bool(
            user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
        ) and not user.get("deleted")
        with self._lock:
            self._cache[key] = (now + self._cache_seconds, answer)
        return answer

    def forget(self, team_id: str, user_id: str) -> None:
        with self._lock:
            self._cache.pop((team_id, user_id), None)
