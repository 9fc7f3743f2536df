"""What every OAuth 2.0 provider shares: the grant and the set-up of a per-tenant API session.

Xero, QuickBooks and Sandbox Books differ in their URLs, their throttling answers and how they
list the organisations a grant reaches; the rest is this base class. A provider names its
`rules` (`ApiRules`: rate limit, throttle reader, refresh-token lifetime) and its
`_oauth_settings(config)`, and gets `authorize_url`, `exchange_code`, `refresh`, the retrying
`_bearer_get` for its tenant list and `_api_session` for `session()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from providers.base import (
    Capabilities,
    ClientCredentials,
    Grant,
    ProviderConfig,
    Tenant,
    TokenSet,
    TokenStore,
    ValidationFailed,
)
from providers.clock import Clock
from providers.http import (
    ApiRules,
    ApiSession,
    OAuthClient,
    OAuthSettings,
    RateLimiter,
    Retrier,
    Timing,
    read_json,
)


class OAuthProvider:
    """A provider reached over HTTP with an OAuth 2.0 authorization-code grant."""

    name: str
    display_name: str  # the service's name in messages, e.g. "Xero"
    capabilities: Capabilities
    rules: ApiRules

    oauth: OAuthClient
    _http: httpx.Client
    _clock: Clock
    _timing: Timing
    _retrier: Retrier
    _limiter: RateLimiter

    def __init__(
        self,
        config: ProviderConfig,
        *,
        http_client: httpx.Client,
        clock: Clock,
        timing: Timing | None = None,
    ) -> None:
        """Set up the HTTP client, retries, per-tenant rate limits and the OAuth client."""
        self._config = config
        self._http = http_client
        self._clock = clock
        self._timing = timing or Timing()
        self._retrier = Retrier(self.display_name, self._timing, self.rules.throttle)
        self._limiter = RateLimiter(self.rules.rate_limit, self._timing)
        self.oauth = OAuthClient(
            self._oauth_settings(config),
            http_client=http_client,
            retrier=self._retrier,
            clock=clock,
            refresh_lifetime=self.rules.refresh_lifetime,
        )

    def _oauth_settings(self, config: ProviderConfig) -> OAuthSettings:
        """The provider's OAuth client settings (`_login`); ValueError when not configured."""
        raise NotImplementedError

    def _login(
        self,
        config: ProviderConfig,
        client: ClientCredentials | None,
        authorize_url: str,
        token_url: str,
        scope: str,
        **extra: Any,
    ) -> OAuthSettings:
        """The OAuth settings every provider shares the shape of: its callback is
        `{public_url}/oauth/<name>/callback` and PKCE is on when its capabilities say so."""
        if client is None:
            raise ValueError(f"{self.display_name} is not configured (no client ID and secret)")
        return OAuthSettings(
            service=self.display_name,
            client_id=client.client_id,
            client_secret=client.client_secret,
            authorize_url=authorize_url,
            token_url=token_url,
            redirect_uri=f"{config.public_url}/oauth/{self.name}/callback",
            scope=scope,
            pkce=self.capabilities.pkce,
            **extra,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # -- the grant ----------------------------------------------------------------------------

    def authorize_url(self, state: str, *, code_verifier: str | None) -> str:
        return self.oauth.authorize_url(state, code_verifier)

    def exchange_code(
        self, code: str, *, code_verifier: str | None, callback_params: Mapping[str, str]
    ) -> Grant:
        self._refuse_denied(callback_params)
        tokens = self.oauth.exchange_code(code, code_verifier)
        return Grant(tokens=tokens, tenants=self.list_tenants(tokens))

    def list_tenants(self, tokens: TokenSet) -> tuple[Tenant, ...]:
        raise NotImplementedError

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self.oauth.refresh(tokens)

    def _refuse_denied(self, callback_params: Mapping[str, str]) -> None:
        """The user (or the provider) declined on the consent screen: say so, exchange nothing."""
        if callback_params.get("error"):
            raise ValidationFailed(
                [
                    f"{self.display_name} did not authorize the connection"
                    f" ({callback_params['error']})"
                ]
            )

    def _bearer_get(
        self,
        url: str,
        tokens: TokenSet,
        *,
        error: Callable[[httpx.Response], Exception],
        params: Mapping[str, str] | None = None,
        read: Callable[[httpx.Response, str], Any] = read_json,
    ) -> Any:
        """GET `url` with the grant's access token (retried like every call) and decode the
        answer with `read`; an unsuccessful answer raises `error(response)`."""
        response = self._retrier.send(
            lambda: self._http.get(
                url,
                params=params,
                headers={
                    "Authorization": f"Bearer {tokens.access_token}",
                    "Accept": "application/json",
                },
            )
        )
        if not response.is_success:
            raise error(response)
        return read(response, self.display_name)

    # -- work against one tenant --------------------------------------------------------------

    def _api_session(
        self, tenant_id: str, tokens: TokenStore, headers: Mapping[str, str]
    ) -> ApiSession:
        """An authorized, retrying, rate-limited session for one tenant."""
        return ApiSession(
            service=self.display_name,
            http_client=self._http,
            tokens=tokens,
            refresh=self.refresh,
            clock=self._clock,
            limiter=self._limiter.for_tenant(tenant_id),
            retrier=self._retrier,
            headers={"Accept": "application/json", **headers},
        )
