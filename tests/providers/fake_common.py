"""What the Xero and QuickBooks fakes share: the token side (which access and refresh tokens are
live, every token issued for log-safety checks, the newest token answer) and idempotent writes."""

from __future__ import annotations

import base64
import secrets

import httpx


class IssuesTokens:
    """Mixed into a fake with a `_lock`, an `_issue()` that answers the token endpoint, and
    `client`: the (client ID, secret) pair ledgerlink is registered with."""

    client: tuple[str, str]

    def _start_tokens(self) -> None:
        self.token_calls = 0
        self.issued_tokens: list[str] = []
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.latest: dict | None = None  # the newest token answer

    def grant(self) -> tuple[str, str]:
        """A valid access and refresh token pair, as if the user had connected."""
        with self._lock:
            issued = self._issue()
        return issued["access_token"], issued["refresh_token"]

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def _client_ok(self, request: httpx.Request) -> bool:
        """Whether the request authenticates the client with HTTP Basic."""
        expected = base64.b64encode(":".join(self.client).encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def _mint(self, prefix: str, n: int, **answer) -> dict:
        """A new live token pair, `prefix`ed and numbered `n`, in a token answer with `answer`."""
        access = f"{prefix}-access-{n}-{secrets.token_hex(8)}"
        refresh = f"{prefix}-refresh-{n}-{secrets.token_hex(8)}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        self.issued_tokens += [access, refresh]
        self.latest = {"access_token": access, "refresh_token": refresh, **answer}
        return dict(self.latest)


class AnswersOnce:
    """Mixed into a fake with a `_lock` and a `_replies` dict: a write repeated with the same
    key gets the first answer again, and nothing is created twice."""

    def _answer_once(self, key: str | None, request, create, *, keep) -> httpx.Response:
        """`create(request)`'s answer, kept for `key` when `keep(answer)`."""
        with self._lock:
            if key and key in self._replies:
                status, content = self._replies[key]
                return httpx.Response(
                    status, content=content, headers={"Content-Type": "application/json"}
                )
        response = create(request)
        if key and keep(response):
            with self._lock:
                self._replies[key] = (response.status_code, response.content)
        return response
