"""Provider OAuth flows in progress: single-use states, and grants waiting for a choice.

A state is random, stored only as a hash, bound to the team and user who asked, and used at
most once (consumed with an atomic update). A pending grant holds the tokens of a completed
login (encrypted) until the admin chooses which organisation to connect or confirms a switch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.base import Tenant, TokenSet
from store.sql import from_row, insert
from store.timeutil import iso, parse

STATE_SECONDS = 600
PENDING_GRANT_SECONDS = 1800


@dataclass(frozen=True)
class OAuthState:
    """Who started a login, from where, and for what: kept until the provider sends them back."""

    team_id: str
    user_id: str
    channel_id: str | None
    response_url: str | None
    provider: str
    purpose: str  # connect | reconnect | switch
    connection_id: int | None = None  # the connection a reconnect renews
    code_verifier: str | None = None  # PKCE, for providers that use it


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
    def create_oauth_state(self, flow: OAuthState) -> str:
        """A new single-use state for `flow`; only its hash is stored, the verifier encrypted."""
        state = secrets.token_urlsafe(32)
        now = self.clock.now()
        verifier = flow.code_verifier
        self.database.execute(
            *insert(
                "provider_oauth_states",
                {
                    "state_hash": _hash(state),
                    **dataclasses.asdict(flow),
                    "code_verifier": verifier and self.cipher.encrypt(verifier),
                    "created_at": iso(now),
                    "expires_at": iso(now + timedelta(seconds=STATE_SECONDS)),
                },
            )
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
        return from_row(
            OAuthState, row, code_verifier=self.cipher.decrypt(verifier) if verifier else None
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
        flow = dataclasses.asdict(state)
        del flow["code_verifier"]  # used up by the code exchange; a grant never needs it
        self.database.execute(
            *insert(
                "pending_grants",
                {
                    "id": grant_id,
                    **flow,
                    **self._encrypted(tokens),
                    "tenants": json.dumps([[t.id, t.name] for t in tenants]),
                    "chosen_tenant_id": chosen_tenant_id,
                    "created_at": iso(now),
                    "expires_at": iso(now + timedelta(seconds=PENDING_GRANT_SECONDS)),
                },
            )
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
        return from_row(
            PendingGrant,
            row,
            tokens=self._decrypted(row),
            tenants=tuple(Tenant(t_id, name) for t_id, name in json.loads(row["tenants"])),
            expires_at=parse(row["expires_at"]),
        )
