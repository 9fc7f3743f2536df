"""API tokens for POST /api/items. Only a SHA-256 hash of each token is stored.

Tokens are 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from store.timeutil import iso

TOKEN_PREFIX = "llk_"


@dataclass(frozen=True)
class ApiToken:
    id: int
    team_id: str
    name: str
    hint: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQueries:
    def create_api_token(self, team_id: str, name: str) -> tuple[ApiToken, str]:
        """Return the stored record and the token itself, which is never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = self.database.scalar(
            "INSERT INTO api_tokens (team_id, name, token_hash, hint, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (team_id, name, _hash(token), token[-4:], iso(self.clock.now())),
        )
        return self.api_token(token_id), token

    def api_token(self, token_id: int) -> ApiToken | None:
        row = self.database.row(
            "SELECT id, team_id, name, hint, created_at, revoked_at, last_used_at "
            "FROM api_tokens WHERE id = ?",
            (token_id,),
        )
        return ApiToken(**row) if row else None

    def api_tokens(self, team_id: str | None = None) -> list[ApiToken]:
        sql = "SELECT id, team_id, name, hint, created_at, revoked_at, last_used_at FROM api_tokens"
        params: tuple = ()
        if team_id is not None:
            sql += " WHERE team_id = ?"
            params = (team_id,)
        return [ApiToken(**row) for row in self.database.rows(sql + " ORDER BY id", params)]

    def revoke_api_token(self, token_id: int) -> bool:
        cursor = self.database.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (iso(self.clock.now()), token_id),
        )
        return cursor.rowcount == 1

    def authenticate_api_token(self, token: str) -> ApiToken | None:
        """The live token matching `token`, or None (unknown or revoked)."""
        row = self.database.row(
            "SELECT id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (_hash(token),),
        )
        if row is None:
            return None
        self.database.execute(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
            (iso(self.clock.now()), row["id"]),
        )
        return self.api_token(row["id"])
