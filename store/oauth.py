"""Provider OAuth flows in progress: single-use states, and grants waiting for a choice.

A state is random, stored only as a hash, bound to the team and user who asked, and used at
most once (consumed with an atomic update). A pending grant holds the tokens of a completed
login (encrypted) until the admin chooses which organisation to connect or confirms a switch.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.base import Tenant, TokenSet
from store.timeutil import iso, parse

STATE_SECONDS = 600
PENDING_GRANT_SECONDS = 1800


@dataclass(frozen=True)
class OAuthState:
    team_id: str
    user_id: str
    channel_id: str | None
    response_url: str | None
    provider: str
    purpose: str  # connect | reconnect | switch
    code_verifier: str | None
    connection_id: int | None


@dataclass(frozen=True)
class PendingGrant:
    id: str
    team_id: str
    user_id: str
    channel_id: str | None
    response_url: str | None
    provider: str
    purpose: str
    connection_id: int | None
    tokens: TokenSet
    tenants: tuple[Tenant, ...]
    chosen_tenant_id: str | None
    expires_at: datetime


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class OAuthQueries:
    def create_oauth_state(
        self,
        *,
        team_id: str,
        user_id: str,
        channel_id: str | None,
        response_url: str | None,
        provider: str,
        purpose: str,
        code_verifier: str | None,
        connection_id: int | None = None,
    ) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock.now()
        self.database.execute(
            "INSERT INTO provider_oauth_states (state_hash, team_id, user_id, channel_id, "
            "response_url, provider, purpose, code_verifier, connection_id, created_at, "
            "expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _hash(state),
                team_id,
                user_id,
                channel_id,
                response_url,
                provider,
                purpose,
                code_verifier and self.cipher.encrypt(code_verifier),
                connection_id,
                iso(now),
                iso(now + timedelta(seconds=STATE_SECONDS)),
            ),
        )
        return state

    def consume_oauth_state(self, state: str, provider: str) -> OAuthState | None:
        """The state's record if it is known, unexpired, unused and for `provider`; it is
        marked used in the same statement, so a replay finds nothing."""
        now = iso(self.clock.now())
        row = self.database.row(
            "UPDATE provider_oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL "
            "AND expires_at > ? AND provider = ? RETURNING *",
            (now, _hash(state), now, provider),
        )
        if row is None:
            return None
        verifier = row["code_verifier"]
        return OAuthState(
            team_id=row["team_id"],
            user_id=row["user_id"],
            channel_id=row["channel_id"],
            response_url=row["response_url"],
            provider=row["provider"],
            purpose=row["purpose"],
            code_verifier=self.cipher.decrypt(verifier) if verifier else None,
            connection_id=row["connection_id"],
        )

    def create_pending_grant(
        self,
        state: OAuthState,
        tokens: TokenSet,
        tenants: tuple[Tenant, ...],
        *,
        chosen_tenant_id: str | None = None,
    ) -> PendingGrant:
        grant_id = secrets.token_urlsafe(16)
        now = self.clock.now()
        self.database.execute(
            "INSERT INTO pending_grants (id, team_id, user_id, channel_id, response_url, "
            "provider, purpose, connection_id, access_token, refresh_token, access_expires_at, "
            "refresh_expires_at, tenants, chosen_tenant_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                grant_id,
                state.team_id,
                state.user_id,
                state.channel_id,
                state.response_url,
                state.provider,
                state.purpose,
                state.connection_id,
                *self._encrypted(tokens),
                json.dumps([[t.id, t.name] for t in tenants]),
                chosen_tenant_id,
                iso(now),
                iso(now + timedelta(seconds=PENDING_GRANT_SECONDS)),
            ),
        )
        return self.pending_grant(grant_id)

    def pending_grant(self, grant_id: str) -> PendingGrant | None:
        row = self.database.row("SELECT * FROM pending_grants WHERE id = ?", (grant_id,))
        return self._pending(row) if row else None

    def consume_pending_grant(
        self, grant_id: str, *, team_id: str, user_id: str
    ) -> PendingGrant | None:
        """Take the grant for use, once, by the user and team it belongs to."""
        now = iso(self.clock.now())
        row = self.database.row(
            "UPDATE pending_grants SET used_at = ? WHERE id = ? AND team_id = ? AND user_id = ? "
            "AND used_at IS NULL AND expires_at > ? RETURNING *",
            (now, grant_id, team_id, user_id, now),
        )
        return self._pending(row) if row else None

    def _pending(self, row: dict) -> PendingGrant:
        return PendingGrant(
            id=row["id"],
            team_id=row["team_id"],
            user_id=row["user_id"],
            channel_id=row["channel_id"],
            response_url=row["response_url"],
            provider=row["provider"],
            purpose=row["purpose"],
            connection_id=row["connection_id"],
            tokens=TokenSet(
                access_token=self.cipher.decrypt(row["access_token"]),
                refresh_token=self.cipher.decrypt(row["refresh_token"]),
                access_expires_at=parse(row["access_expires_at"]),
                refresh_expires_at=parse(row["refresh_expires_at"]),
            ),
            tenants=tuple(Tenant(t_id, name) for t_id, name in json.loads(row["tenants"])),
            chosen_tenant_id=row["chosen_tenant_id"],
            expires_at=parse(row["expires_at"]),
        )
