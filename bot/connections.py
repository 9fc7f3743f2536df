"""The connection lifecycle: start a login, finish it, choose an organisation, disconnect.

Handlers and the OAuth callback route call this service; it owns the order of operations:
states are consumed before anything else, nothing is connected until an organisation is
chosen, tokens are stored encrypted, and every outcome is told to the admin in Slack.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace

from authlib.common.security import generate_token

from bot import outcomes as o
from bot.service import Service
from bot.sync_types import SyncStarted
from bot.wording import provider_name
from providers.base import ProviderError, Tenant
from store import Grant, OAuthState

log = logging.getLogger("ledgerlink.connections")


class AlreadyDisconnected(LookupError):
    """The connection was disconnected by someone else a moment before."""


FAILED = "Connection failed"


@dataclass(frozen=True)
class CallbackResult:
    """What the browser page says after the provider sent the admin back."""

    ok: bool
    title: str
    message: str
    team_id: str | None = None
    status: int = 200
    slack: dict | None = None  # what to show in Slack in place of a choice that was made

    @classmethod
    def failed(cls, message: str, team_id: str, status: int) -> CallbackResult:
        """A login that came back but could not be used."""
        return cls(False, FAILED, message, team_id, status=status)


class ConnectionService(Service):
    def __init__(self, *, clients, sync, events, **parts):
        super().__init__(**parts)
        self.clients = clients
        self.sync = sync
        self.events = events

    # -- starting a login ----------------------------------------------------------------

    def login_url(self, flow: OAuthState) -> str:
        """The provider's login page for `flow`, behind a new single-use state."""
        implementation = self.providers[flow.provider]
        verifier = generate_token(64) if implementation.capabilities.pkce else None
        state = self.store.create_oauth_state(replace(flow, code_verifier=verifier))
        self.store.audit(
            flow.team_id,
            flow.user_id,
            "login_started",
            provider=flow.provider,
            purpose=flow.purpose,
        )
        return implementation.authorize_url(state, code_verifier=verifier)

    # -- the provider's redirect ---------------------------------------------------------

    def handle_callback(self, provider: str, params: dict[str, str]) -> CallbackResult:
        name = provider_name(provider)
        state = self.store.consume_oauth_state(params.get("state") or "", provider)
        if state is None:
            return CallbackResult(
                False,
                "This link has expired",
                "This login link is unknown, expired or was already used, so "
                "nothing was connected. Run /integrations connect again in "
                "Slack.",
                status=400,
            )
        if params.get("error"):
            if params["error"] == "access_denied":
                return self._told(
                    state,
                    o.LoginCancelled(provider),
                    "Connection cancelled",
                    f"You cancelled the connection to {name}; nothing was changed.",
                )
            said = f"{name} said: {(params.get('error_description') or params['error'])[:200]}"
            return self._told(state, o.LoginFailed(provider, f"{said}."), FAILED, said, status=400)
        if not params.get("code"):
            return CallbackResult.failed(
                "The login came back without an authorization code.", state.team_id, 400
            )
        try:
            grant = self.providers[provider].exchange_code(
                params["code"], code_verifier=state.code_verifier, callback_params=params
            )
        except ProviderError as error:
            log.warning(
                "code exchange with %s failed for team %s: %s", provider, state.team_id, error
            )
            refused = f"{name} did not accept the login: {error}"
            failed = o.LoginFailed(provider, f"{error}.")
            return self._told(state, failed, FAILED, refused, status=502)
        if not grant.tenants:
            return self._told(
                state,
                o.NoTenants(provider),
                "No organisation shared",
                f"{name} didn't give access to any organisation.",
            )
        if len(grant.tenants) > 1:
            pending = self.store.create_pending_grant(state, grant.tokens, grant.tenants)
            return self._told(
                state,
                o.ChooseTenant(pending, provider),
                "Choose the organisation in Slack",
                "You gave access to several organisations. Go back to Slack "
                "and choose the one to connect.",
                ok=True,
            )
        return self._apply(state, grant.tokens, grant.tenants[0], grant.tenants)

    # -- choosing and confirming ---------------------------------------------------------

    def choose_tenant(
        self, grant_id: str, index: int, *, team_id: str, user_id: str
    ) -> CallbackResult:
        grant = self.store.consume_pending_grant(grant_id, team_id=team_id, user_id=user_id)
        if (
            grant is None
            or grant.chosen_tenant_id is not None
            or not (0 <= index < len(grant.tenants))
        ):
            return _expired(team_id)
        return self._apply(grant, grant.tokens, grant.tenants[index], grant.tenants)

    def confirm_tenant_switch(
        self, grant_id: str, *, team_id: str, user_id: str, confirmed: bool
    ) -> CallbackResult:
        grant = self.store.consume_pending_grant(grant_id, team_id=team_id, user_id=user_id)
        if grant is None or grant.chosen_tenant_id is None:
            return _expired(team_id)
        if not confirmed:
            self._revoke_quietly(grant.provider, grant.tokens)
            current = self.store.connection(grant.connection_id)
            kept = self.notifier.render(
                o.TenantSwitchKept(current.tenant_name if current else "the current organisation")
            )
            return CallbackResult(True, "Kept", kept["text"], team_id, slack=kept)
        tenant = next(t for t in grant.tenants if t.id == grant.chosen_tenant_id)
        return self._complete(grant, grant.tokens, tenant)

    # -- finishing -------------------------------------------------------------------------

    def _apply(self, flow, tokens, tenant: Tenant, tenants) -> CallbackResult:
        """Use a login for one chosen organisation, asking first if a reconnect would switch
        organisation. `flow` is the OAuth state or pending grant it came from."""
        current = self.store.current_connection(flow.team_id)
        if (
            flow.purpose == "reconnect"
            and current is not None
            and current.id == flow.connection_id
            and current.tenant_id != tenant.id
        ):
            ask = self.store.create_pending_grant(flow, tokens, tenants, chosen_tenant_id=tenant.id)
            self._tell(
                flow,
                self.notifier.render(o.ConfirmTenantSwitch(ask, current.tenant_name, tenant.name)),
            )
            return CallbackResult(
                True,
                "Confirm in Slack",
                "You chose a different organisation than before. Confirm the switch in Slack.",
                flow.team_id,
            )
        return self._complete(flow, tokens, tenant)

    def _complete(self, flow, tokens, tenant: Tenant) -> CallbackResult:
        """Store the connection. A reconnect to the same organisation renews the connection
        (keeping its lists, rules and settings); a switch of provider or organisation
        disconnects the old connection, kept as history, and starts a new one."""
        current = self.store.current_connection(flow.team_id)
        # What the connection is, whether it is renewed or new.
        grant = Grant(
            tenant_id=tenant.id,
            tenant_name=tenant.name,
            tokens=tokens,
            connected_by=flow.user_id,
            channel_id=flow.channel_id,
            lifetime_days=self.config.connection_lifetime_days,
        )
        renew = (
            flow.purpose == "reconnect"
            and current is not None
            and current.id == flow.connection_id
            and current.provider == flow.provider
            and current.tenant_id == tenant.id
        )
        if renew:
            connection = self.store.renew_connection(current.id, grant)
        else:
            replaceable = current is not None and (
                flow.purpose == "switch"
                or (flow.purpose == "reconnect" and current.id == flow.connection_id)
            )
            if current is not None and not replaceable:
                self._revoke_quietly(flow.provider, tokens)
                self._tell(flow, self.notifier.render(o.ConnectRaced(current)))
                return CallbackResult(
                    False,
                    "Already connected",
                    "This workspace was "
                    "connected by someone else meanwhile; your login was not "
                    "used.",
                    flow.team_id,
                    409,
                )
            if current is not None:
                with contextlib.suppress(AlreadyDisconnected):  # someone else did it meanwhile
                    self.disconnect(
                        current, actor=flow.user_id, reason=f"replaced ({flow.purpose})"
                    )
            connection = self.store.create_connection(
                team_id=flow.team_id, provider=flow.provider, grant=grant
            )
        self.store.audit(
            flow.team_id,
            flow.user_id,
            "reconnected" if renew else "connected",
            provider=flow.provider,
            tenant_id=tenant.id,
            connection_id=connection.id,
        )
        announcement = self.notifier.render(o.Connected(connection, reconnected=renew))
        self._announce(flow, announcement)
        self.executor.submit(self._after_connect, connection)
        name = provider_name(flow.provider)
        return CallbackResult(
            True,
            f"Connected to {name}",
            f"ledgerlink is connected to {name} — {tenant.name}. You can "
            "close this tab and go back to Slack.",
            flow.team_id,
            slack=announcement,
        )

    def _after_connect(self, connection) -> None:
        """First sync at once; once it is done, anything held while there was no working
        connection (items waiting to publish) goes ahead, matched against fresh lists."""
        started = self.sync.request(
            connection.id,
            requested_by=connection.connected_by,
            on_done=lambda _outcome: self.events.restored(connection),
        )
        if not isinstance(started, SyncStarted):  # a sync was already running: go ahead now
            self.events.restored(connection)

    # -- disconnect ------------------------------------------------------------------------

    def disconnect(self, connection, *, actor: str, reason: str = "disconnected") -> str | None:
        """Mark the connection disconnected, then revoke at the provider (best effort).
        Returns the provider's complaint if revoking failed; raises `AlreadyDisconnected` if
        someone else disconnected it first (a double click), so it happens once."""
        if not self.store.set_connection_status(
            connection.id,
            "disconnected",
            reason=reason,
            actor=actor,
            from_statuses=("active", "expired", "revoked"),
        ):
            raise AlreadyDisconnected(connection.id)
        problem = None
        provider = self.providers.get(connection.provider)
        if provider is not None:
            try:
                provider.revoke(self.store.connection_tokens(connection.id))
            except ProviderError as error:
                problem = str(error)
            except LookupError:
                problem = None
        self.store.audit(
            connection.team_id,
            actor,
            "disconnected",
            connection_id=connection.id,
            provider=connection.provider,
            revoke_error=problem,
        )
        return problem

    # -- telling Slack ---------------------------------------------------------------------

    def _told(
        self, state, outcome, title: str, message: str, *, ok: bool = False, status: int = 200
    ) -> CallbackResult:
        """Tell the admin in Slack what happened (`outcome`), then answer the browser."""
        self._tell(state, self.notifier.render(outcome))
        return CallbackResult(ok, title, message, state.team_id, status=status)

    def _tell(self, grant_or_state, message: dict) -> None:
        """A private message to the admin who started the login."""
        url = grant_or_state.response_url
        if url and self._respond(url, {**message, "response_type": "ephemeral"}):
            return
        self.notifier.direct(grant_or_state.team_id, grant_or_state.user_id, message)

    def _announce(self, grant, message: dict) -> None:
        """A public confirmation in the channel where the command was run."""
        if grant.response_url and self._respond(
            grant.response_url, {**message, "response_type": "in_channel"}
        ):
            return
        if grant.channel_id:
            # A channel Slack refuses for good sends it to the admin's DM instead.
            self.notifier.post(
                grant.team_id, grant.channel_id, message, fallback_user=grant.user_id
            )
            return
        self.notifier.direct(grant.team_id, grant.user_id, message)

    def _respond(self, url: str, payload: dict) -> bool:
        from slack_sdk.webhook import WebhookClient

        try:
            return WebhookClient(url, timeout=10).send_dict(payload).status_code == 200
        except OSError as error:
            log.warning("response_url post failed: %s", error)
            return False

    def _revoke_quietly(self, provider: str, tokens) -> None:
        try:
            self.providers[provider].revoke(tokens)
        except ProviderError as error:
            log.info("could not revoke an unused %s grant: %s", provider, error)


def _expired(team_id: str) -> CallbackResult:
    return CallbackResult(
        False,
        "Expired",
        "That choice has expired or was already made. Run /integrations connect again.",
        team_id,
        400,
    )
