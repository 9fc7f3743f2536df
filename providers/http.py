"""HTTP plumbing shared by the providers: retries, rate limits, tokens and the OAuth grant.

* `Retrier` sends one request with bounded retries: 5xx answers, timeouts and connection
  resets are retried with exponential backoff and jitter, then become `ProviderUnavailable`;
  a throttle (429) is waited out inline when the provider says it is short (a minute or
  concurrency limit, within `RetryPolicy.throttle_budget` seconds), otherwise raised at once
  as `RateLimited`. Nothing retries forever, and the sleep function is injected.
* `RateLimiter` keeps one tenant within the provider's calls per minute and concurrent calls,
  for every session of one provider object in this process.
* `ApiSession` is the one place that handles a connection's tokens: it refreshes ahead of
  expiry (within `REFRESH_MARGIN`) and once on a 401, always through
  `TokenStore.refresh_with`, which serialises refreshes across threads and processes.
* `OAuthClient` runs the authorization-code grant through authlib over the injected
  `httpx.Client` (authlib's protocol client with its httpx auth classes, but our client), and
  turns token answers into `TokenSet`s.

Token values never reach a log line, an exception message or a repr.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client as _ProtocolClient

from providers.base import (
    ConnectionExpired,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenSet,
    TokenStore,
    ValidationFailed,
)
from providers.clock import Clock

log = logging.getLogger("ledgerlink.providers")

# Refresh an access token this long before it lapses, so a request never starts with a token
# that dies in flight.
REFRESH_MARGIN = timedelta(minutes=2)


# ---------------------------------------------------------------------------------------------
# Timing: retries, backoff, throttles


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # after the first attempt, for 5xx / timeouts / resets
    base_delay: float = 0.5
    max_delay: float = 8.0
    throttle_retries: int = 3  # inline waits for a short throttle (minute / concurrent)
    throttle_budget: float = 60.0  # seconds of throttle waiting allowed per request

    def backoff(self, failures: int, rand: float) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random."""
        step = min(self.max_delay, self.base_delay * 2**failures)
        return step / 2 + step / 2 * rand


@dataclass(frozen=True)
class Timing:
    """Everything time-related a provider needs, injectable so tests never really sleep."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = random.random
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Throttle:
    """A provider's "slow down" answer: how long to wait and which limit was hit."""

    retry_after: float
    scope: str  # "minute", "concurrent", "day", ...
    inline: bool  # short enough to wait out inside the request


def retry_after_seconds(value: str | None, *, default: float, now: datetime | None = None) -> float:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class Retrier:
    """Sends a request with the bounded retries described at the top of this module."""

    def __init__(
        self, service: str, timing: Timing, throttle: Callable[[httpx.Response], Throttle | None]
    ):
        self._service = service
        self._timing = timing
        self._throttle = throttle

    def send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        policy = self._timing.retry
        failures = throttles = 0
        waited = 0.0
        while True:
            try:
                response = send()
            except httpx.TransportError as error:  # timeouts, resets, refused connections
                problem = type(error).__name__
            else:
                throttle = self._throttle(response)
                if throttle is not None:
                    if (
                        throttle.inline
                        and throttles < policy.throttle_retries
                        and waited + throttle.retry_after <= policy.throttle_budget
                    ):
                        throttles += 1
                        waited += throttle.retry_after
                        log.info(
                            "%s throttled (%s); waiting %.1f s",
                            self._service,
                            throttle.scope,
                            throttle.retry_after,
                        )
                        self._timing.sleep(throttle.retry_after)
                        continue
                    raise RateLimited(
                        throttle.retry_after,
                        throttle.scope,
                        f"{self._service} rate limit reached ({throttle.scope}); "
                        f"try again in {throttle.retry_after:g} s",
                    )
                if response.status_code < 500:
                    return response
                problem = f"HTTP {response.status_code}"
            if failures >= policy.retries:
                raise ProviderUnavailable(
                    f"{self._service} is not answering properly ({problem}) after "
                    f"{failures + 1} attempts; try again later"
                )
            delay = policy.backoff(failures, self._timing.random())
            failures += 1
            log.info("%s: %s; retry %d in %.2f s", self._service, problem, failures, delay)
            self._timing.sleep(delay)


# ---------------------------------------------------------------------------------------------
# Rate limits


@dataclass(frozen=True)
class RateLimit:
    per_minute: int
    concurrent: int
    # How long a caller may wait for a free concurrent slot before giving up.
    slot_timeout: float = 120.0
    per_second: int | None = None  # a burst limit within the minute (QuickBooks: 10 a second)
    per_day: int | None = None  # a rolling 24-hour budget (Xero: 5000 a day)


@dataclass(frozen=True)
class ApiRules:
    """How a provider's API paces and refuses, and how long its refresh tokens live."""

    rate_limit: RateLimit
    throttle: Callable[[httpx.Response], Throttle | None]  # reads a throttled answer
    refresh_lifetime: Callable[[Mapping[str, Any]], timedelta]  # from a token answer


DAY = 86_400.0


class TenantLimiter:
    """Sliding windows of calls (a second, a minute, a day) plus a cap on calls in flight, for
    one tenant. Second and minute limits are waited out; a spent daily budget raises
    `RateLimited` (scope "day") at once, with the time until a call leaves the window."""

    def __init__(self, limit: RateLimit, timing: Timing):
        self._limit = limit
        self._timing = timing
        self._slots = threading.BoundedSemaphore(limit.concurrent)
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()  # the last minute's calls
        self._day: deque[float] = deque()  # the last day's calls, when there is a daily limit

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._limit.slot_timeout):
            raise RateLimited(
                self._limit.slot_timeout,
                "concurrent",
                "too many requests in flight for this organisation; try again",
            )
        try:
            self._wait_for_window()
            yield
        finally:
            self._slots.release()

    def _wait_for_window(self) -> None:
        limit = self._limit
        while True:
            with self._lock:
                now = self._timing.monotonic()
                while self._calls and now - self._calls[0] >= 60.0:
                    self._calls.popleft()
                while self._day and now - self._day[0] >= DAY:
                    self._day.popleft()
                if limit.per_day is not None and len(self._day) >= limit.per_day:
                    raise RateLimited(
                        self._day[0] + DAY - now,
                        "day",
                        f"the day's {limit.per_day} calls for this organisation are spent",
                    )
                wait = 0.0
                if len(self._calls) >= limit.per_minute:
                    wait = self._calls[0] + 60.0 - now
                elif limit.per_second is not None and len(self._calls) >= limit.per_second:
                    recent = self._calls[-limit.per_second]
                    if now - recent < 1.0:
                        wait = recent + 1.0 - now
                if wait <= 0:
                    self._calls.append(now)
                    if limit.per_day is not None:
                        self._day.append(now)
                    return
            log.debug("rate limit reached; waiting %.2f s", wait)
            self._timing.sleep(wait)


class RateLimiter:
    """One `TenantLimiter` per tenant, shared by every session of one provider."""

    def __init__(self, limit: RateLimit, timing: Timing):
        self.limit = limit
        self._timing = timing
        self._lock = threading.Lock()
        self._tenants: dict[str, TenantLimiter] = {}

    def for_tenant(self, tenant_id: str) -> TenantLimiter:
        with self._lock:
            limiter = self._tenants.get(tenant_id)
            if limiter is None:
                limiter = self._tenants[tenant_id] = TenantLimiter(self.limit, self._timing)
            return limiter


# ---------------------------------------------------------------------------------------------
# Responses


def read_json(response: httpx.Response, service: str) -> Any:
    """The response's JSON, or `ProviderUnavailable` when it cannot be read. Decoded with
    orjson (strict RFC 8259 JSON, as the providers send): pages of 1000 contacts are large."""
    try:
        return orjson.loads(response.content)
    except ValueError:
        raise ProviderUnavailable(
            f"{service} sent an unreadable answer (HTTP {response.status_code})"
        ) from None


def read_object(response: httpx.Response, service: str) -> dict[str, Any]:
    data = read_json(response, service)
    if not isinstance(data, dict):
        raise ProviderUnavailable(
            f"{service} sent an unexpected answer (HTTP {response.status_code})"
        )
    return data


def idempotency_key(key: str, max_length: int) -> str:
    """`key` if the provider accepts its length, else a stable digest of it."""
    if 0 < len(key) <= max_length:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:max_length]


# ---------------------------------------------------------------------------------------------
# One connection's authenticated requests


class ApiSession:
    """Authenticated requests for one tenant: tokens, rate limit, retries.

    `request` returns every answer that is not handled here (2xx, and 4xx other than 401 and
    throttles); the provider maps its own error bodies.
    """

    def __init__(
        self,
        *,
        service: str,
        http_client: httpx.Client,
        tokens: TokenStore,
        refresh: Callable[[TokenSet], TokenSet],
        clock: Clock,
        limiter: TenantLimiter,
        retrier: Retrier,
        headers: Mapping[str, str],
    ):
        self._service = service
        self._http = http_client
        self._tokens = tokens
        self._refresh = refresh
        self._clock = clock
        self._limiter = limiter
        self._retrier = retrier
        self._headers = dict(headers)

    def __repr__(self) -> str:
        return f"<ApiSession {self._service}>"

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        tokens = self._fresh_tokens()
        refreshed = False
        while True:
            response = self._send(method, url, tokens, params=params, json=json, headers=headers)
            if response.status_code != 401:
                return response
            if refreshed:
                raise ConnectionExpired(
                    f"{self._service} refused a freshly refreshed access token; reconnect"
                )
            log.info("%s answered 401; refreshing the access token once", self._service)
            tokens = self._tokens.refresh_with(tokens, self._refresh)
            refreshed = True

    def _fresh_tokens(self) -> TokenSet:
        tokens = self._tokens.current()
        if tokens.access_expires_at - self._clock.now() <= REFRESH_MARGIN:
            log.debug("%s access token is about to lapse; refreshing", self._service)
            tokens = self._tokens.refresh_with(tokens, self._refresh)
        return tokens

    def _send(
        self, method: str, url: str, tokens: TokenSet, *, params, json, headers
    ) -> httpx.Response:
        all_headers = {
            **self._headers,
            **(headers or {}),
            "Authorization": f"Bearer {tokens.access_token}",
        }

        def attempt() -> httpx.Response:
            with self._limiter.slot():
                return self._http.request(
                    method, url, params=params, json=json, headers=all_headers
                )

        response = self._retrier.send(attempt)
        log.debug(
            "%s %s %s -> %d", self._service, method, httpx.URL(url).path, response.status_code
        )
        return response


# ---------------------------------------------------------------------------------------------
# The OAuth 2.0 grant, through authlib


@dataclass(frozen=True)
class OAuthSettings:
    service: str
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    redirect_uri: str
    scope: str
    pkce: bool
    # Extra headers on token requests (QuickBooks asks for the refresh token's hard expiry).
    token_headers: Mapping[str, str] = field(default_factory=dict)


class _RetryingSession:
    """What authlib calls its "session": our injected client, with our bounded retries."""

    def __init__(self, http_client: httpx.Client, retrier: Retrier):
        self._http = http_client
        self._retrier = retrier

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._retrier.send(lambda: self._http.post(url, **kwargs))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._retrier.send(lambda: self._http.request(method, url, **kwargs))


class _ClientAuth(httpx.Auth):
    """authlib's client authentication (HTTP Basic with the client id and secret) for httpx.

    authlib ships the same adapter in `authlib.integrations.httpx_client`, but importing that
    module warns that its httpx support is deprecated (in favour of httpx2), and the suite
    treats warnings as errors; this is the few lines it takes over authlib's own `ClientAuth`.
    """

    def __init__(
        self, client_id: str, client_secret: str, auth_method: str = "client_secret_basic"
    ):
        if auth_method != "client_secret_basic":
            raise ValueError(f"unsupported client authentication {auth_method!r}")
        self._auth = ClientAuth(client_id, client_secret, auth_method)

    def __repr__(self) -> str:
        return "<ClientAuth client_secret_basic>"

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        _, headers, _ = self._auth.prepare(
            request.method, str(request.url), dict(request.headers), b""
        )
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class _TokenError(Exception):
    """An OAuth error answer from a token endpoint (`{"error": "invalid_grant", ...}`).

    authlib's own `OAuth2Error` refuses (with a ValueError) descriptions holding characters
    RFC 6749 forbids; a provider that sends one must still be read as the error it is.
    """

    def __init__(self, error: str | None = None, description: str | None = None, **_: Any):
        super().__init__(error)
        self.error = error
        self.description = description


class _AuthlibClient(_ProtocolClient):
    """authlib's framework-neutral OAuth 2.0 client, speaking through `_RetryingSession`."""

    client_auth_class = _ClientAuth
    oauth_error_class = _TokenError


class OAuthClient:
    """Authorize URL, code exchange, refresh and revocation for one provider."""

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        http_client: httpx.Client,
        retrier: Retrier,
        clock: Clock,
        refresh_lifetime: Callable[[Mapping[str, Any]], timedelta | None],
    ):
        self.settings = settings
        self._http = http_client
        self._retrier = retrier
        self._clock = clock
        self._refresh_lifetime = refresh_lifetime

    def __repr__(self) -> str:
        return f"<OAuthClient {self.settings.service}>"

    def _client(self, *, scope: str | None = None) -> _AuthlibClient:
        # A new authlib client per call: it keeps the last token it saw, and must not share
        # one organisation's tokens with another, nor be used from two threads. The scope is
        # only sent when authorizing (authlib would add it to refresh requests too).
        settings = self.settings
        return _AuthlibClient(
            _RetryingSession(self._http, self._retrier),
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            scope=scope,
            redirect_uri=settings.redirect_uri,
            code_challenge_method="S256" if settings.pkce else None,
        )

    def _token_headers(self) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
            **self.settings.token_headers,
        }

    def authorize_url(self, state: str, code_verifier: str | None, **extra: str) -> str:
        verifier = code_verifier if self.settings.pkce else None
        url, _ = self._client(scope=self.settings.scope).create_authorization_url(
            self.settings.authorize_url, state=state, code_verifier=verifier, **extra
        )
        return url

    def exchange_code(self, code: str, code_verifier: str | None) -> TokenSet:
        extra = {"code_verifier": code_verifier} if self.settings.pkce and code_verifier else {}
        data = self._token_call(
            lambda client: client.fetch_token(
                self.settings.token_url,
                grant_type="authorization_code",
                code=code,
                headers=self._token_headers(),
                **extra,
            ),
            rejected="the authorization code was rejected; start connecting again",
        )
        return self.token_set(data, previous=None)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        data = self._token_call(
            lambda client: client.refresh_token(
                self.settings.token_url,
                refresh_token=tokens.refresh_token,
                headers=self._token_headers(),
            ),
            rejected="the connection's refresh token was rejected; reconnect",
        )
        log.info("%s tokens refreshed", self.settings.service)
        return self.token_set(data, previous=tokens)

    def revoke(self, revoke_url: str, token: str, hint: str = "refresh_token") -> None:
        """RFC 7009 revocation; a token the provider no longer knows counts as revoked."""
        response = self._client().revoke_token(
            revoke_url,
            token=token,
            token_type_hint=hint,
            headers={"Accept": "application/json"},
        )
        self.check_revocation(response)

    def client_auth(self) -> httpx.Auth:
        """HTTP Basic client authentication (authlib's), for calls outside the grant."""
        return _ClientAuth(self.settings.client_id, self.settings.client_secret)

    def check_revocation(self, response: httpx.Response) -> None:
        if response.status_code in (200, 204, 400):
            return
        raise ProviderError(
            f"{self.settings.service} did not revoke the connection (HTTP {response.status_code})"
        )

    def token_set(self, data: Mapping[str, Any], *, previous: TokenSet | None) -> TokenSet:
        service = self.settings.service
        access = data.get("access_token")
        refresh = data.get("refresh_token") or (previous.refresh_token if previous else None)
        if not access or not refresh:
            missing = "an access token" if not access else "a refresh token"
            raise ProviderError(
                f"{service} did not send {missing}; connect again (is offline access granted?)"
            )
        now = self._clock.now()
        try:
            expires_in = float(data.get("expires_in") or 1800)
        except (TypeError, ValueError):
            raise ProviderUnavailable(f"{service} sent an unreadable token expiry") from None
        lifetime = self._refresh_lifetime(data)
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=now + timedelta(seconds=expires_in),
            refresh_expires_at=now + lifetime if lifetime is not None else None,
            scope=data.get("scope") or (previous.scope if previous else None),
            version=previous.version if previous else 0,
        )

    def _token_call(
        self, call: Callable[[_AuthlibClient], Mapping[str, Any]], *, rejected: str
    ) -> dict[str, Any]:
        service = self.settings.service
        try:
            return dict(call(self._client()))
        except _TokenError as error:
            if error.error == "invalid_grant":
                raise ConnectionExpired(f"{service}: {rejected}") from None
            if error.error in ("invalid_client", "unauthorized_client"):
                raise ProviderError(
                    f"{service} refused ledgerlink's client credentials "
                    f"({error.error}); check the app's client id and secret"
                ) from None
            raise ValidationFailed(
                [f"{service} refused the token request ({error.error})"]
            ) from None
        except httpx.HTTPStatusError as error:
            raise ProviderUnavailable(
                f"{service} token endpoint answered HTTP {error.response.status_code}"
            ) from None
        except ValueError:  # a 2xx answer that is not a JSON object
            raise ProviderUnavailable(f"{service} sent an unreadable token answer") from None


# ---------------------------------------------------------------------------------------------
# List cursors: the UTC time a fetch started, as ISO-8601 text (opaque to the rest of the app)


def make_cursor(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_cursor(cursor: str | None) -> datetime | None:
    """The cursor's time, or None (meaning: fetch everything) when absent or unreadable."""
    if not cursor:
        return None
    try:
        moment = datetime.fromisoformat(cursor)
    except ValueError:
        log.warning("ignoring an unreadable list cursor; fetching the whole list")
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
