"""Sandbox Books' OAuth 2.0 authorization server (RFC 6749 authorization-code grant).

* `GET authorize` checks the client and its registered redirect URI (a mismatch is shown, never
  redirected to), requires PKCE S256 and a state, and shows the consent page, where the user
  picks which organisations to share. `POST authorize` answers it: a single-use code valid for
  five minutes, or `error=access_denied`, sent back to the redirect URI with the state.
* `POST token` authenticates the client (HTTP Basic, or client_secret_post) and exchanges a
  code (checking its redirect URI and PKCE verifier) or a refresh token. Refresh tokens rotate:
  each is good for one use, and presenting a spent one again revokes the whole grant (refresh
  token reuse detection, as OAuth 2.0 Security BCP advises); a code used twice does the same.
* `POST revoke` (RFC 7009) revokes the grant a token belongs to; unknown tokens answer 200.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import flask

from bot.http import query
from playground import ledger_pages as pages
from playground.ledger_store import LedgerStore
from playground.web import json_answer
from store.timeutil import parse

SCOPES = ("offline_access", "ledger.read", "ledger.write")
ACCESS_TOKEN_LIFETIME = timedelta(minutes=30)
REFRESH_TOKEN_LIFETIME = timedelta(days=60)  # since it was issued; each refresh issues a new one
CODE_LIFETIME = timedelta(minutes=5)
CONSENT_LIFETIME = timedelta(minutes=10)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def with_params(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def form() -> dict[str, list[str]]:
    """The request's form fields, parsed from the body whatever its Content-Type says."""
    return parse_qs(flask.request.get_data().decode("utf-8", "replace"), keep_blank_values=True)


def oauth_error(error: str, description: str, status: int = 400) -> flask.Response:
    response = json_answer({"error": error, "error_description": description}, status)
    response.headers["Cache-Control"] = "no-store"
    if error == "invalid_client":
        response.headers["WWW-Authenticate"] = 'Basic realm="Sandbox Books"'
    return response


class AuthorizationServer:
    def __init__(self, store: LedgerStore, clock):
        self.store = store
        self.clock = clock

    # -- the consent page ---------------------------------------------------------------------

    def authorize_page(self) -> flask.Response:
        args = query()
        client = self.store.client(args.get("client_id", ""))
        if client is None:
            return flask.Response(
                pages.error_page("Unknown app", "No app is registered with that client_id."), 400
            )
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri != client["redirect_uri"]:
            return flask.Response(
                pages.error_page(
                    "Redirect URI mismatch",
                    f"{redirect_uri or '(none)'} is not the redirect URI registered for "
                    f"{client['name']} ({client['redirect_uri']}).",
                ),
                400,
            )
        state = args.get("state", "")

        def refuse(error: str, description: str) -> flask.Response:
            params = {"error": error, "error_description": description, "state": state}
            return _redirect(with_params(redirect_uri, **params))

        if args.get("response_type") != "code":
            return refuse("unsupported_response_type", "only response_type=code is supported")
        scopes = (args.get("scope") or "").split()
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown or "ledger.read" not in scopes:
            return refuse("invalid_scope", f"unknown or missing scopes: {' '.join(unknown)}")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required")
        if not state:
            return refuse("invalid_request", "state is required")
        consent_id = secrets.token_urlsafe(18)
        self.store.create_consent(
            consent_id,
            now=self.clock.now(),
            client_id=client["client_id"],
            redirect_uri=redirect_uri,
            scope=" ".join(scopes),
            state=state,
            code_challenge=args["code_challenge"],
        )
        return flask.Response(self._consent_html(consent_id, client, redirect_uri, scopes))

    def _consent_html(self, consent_id, client, redirect_uri, scopes, error=None) -> str:
        return pages.consent_page(
            consent_id=consent_id,
            client_name=client["name"],
            redirect_host=urlsplit(redirect_uri).netloc,
            scopes=scopes,
            orgs=self.store.orgs(),
            error=error,
        )

    def answer(self) -> flask.Response:
        fields = form()
        consent_id = (fields.get("consent") or [""])[0]
        decision = (fields.get("decision") or [""])[0]
        known = {org.id for org in self.store.orgs()}
        chosen = [org for org in fields.get("org", []) if org in known]
        if decision == "allow" and not chosen:
            row = self.store.consent(consent_id)
            if row is not None and not row["answered"]:
                client = self.store.client(row["client_id"])
                html = self._consent_html(
                    consent_id,
                    client,
                    row["redirect_uri"],
                    row["scope"].split(),
                    error="Choose at least one organisation to share.",
                )
                return flask.Response(html, 400)
        row = self.store.answer_consent(consent_id)
        if row is None or parse(row["created_at"]) + CONSENT_LIFETIME < self.clock.now():
            return flask.Response(
                pages.error_page(
                    "This page has expired",
                    "This sign-in page was already answered or is too old. Start connecting "
                    "again from the app.",
                ),
                400,
            )
        if decision != "allow":
            return _redirect(
                with_params(row["redirect_uri"], error="access_denied", state=row["state"])
            )
        code = "sbc_" + secrets.token_urlsafe(24)
        self.store.create_code(
            code,
            expires_at=self.clock.now() + CODE_LIFETIME,
            orgs=chosen,
            client_id=row["client_id"],
            redirect_uri=row["redirect_uri"],
            scope=row["scope"],
            code_challenge=row["code_challenge"],
        )
        return _redirect(with_params(row["redirect_uri"], code=code, state=row["state"]))

    # -- the token endpoint -------------------------------------------------------------------

    def token(self) -> flask.Response:
        fields = {k: v[0] for k, v in form().items()}
        client_id = self._authenticated_client(fields)
        if client_id is None:
            return oauth_error("invalid_client", "client authentication failed", 401)
        grant_type = fields.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(client_id, fields)
        if grant_type == "refresh_token":
            return self._refresh(client_id, fields.get("refresh_token", ""))
        return oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} not supported")

    def _authenticated_client(self, fields: dict) -> str | None:
        scheme, _, value = flask.request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(value.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            client_id, _, secret = pair.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        else:
            client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
        if client_id and self.store.client_authenticates(client_id, secret):
            return client_id
        return None

    def _exchange(self, client_id: str, fields: dict) -> flask.Response:
        grant_id = secrets.token_hex(8)
        code, reused_by = self.store.redeem_code(fields.get("code", ""), grant_id)
        if reused_by is not None:
            self.store.revoke_grant(reused_by, "authorization code used twice", self.clock.now())
            return oauth_error("invalid_grant", "the authorization code was already used")
        if code is None:
            return oauth_error("invalid_grant", "unknown authorization code")
        problem = None
        if code["client_id"] != client_id:
            problem = "the code was issued to another client"
        elif parse(code["expires_at"]) < self.clock.now():
            problem = "the authorization code expired"
        elif code["redirect_uri"] != fields.get("redirect_uri"):
            problem = "redirect_uri does not match the authorization request"
        elif s256(fields.get("code_verifier", "")) != code["code_challenge"]:
            problem = "the PKCE code_verifier does not match the code_challenge"
        if problem:
            return oauth_error("invalid_grant", problem)
        self.store.create_grant(
            grant_id,
            client_id=client_id,
            scope=code["scope"],
            orgs=_orgs(code["orgs"]),
            now=self.clock.now(),
        )
        return self._issue(grant_id, code["scope"])

    def _refresh(self, client_id: str, refresh_token: str) -> flask.Response:
        now = self.clock.now()
        outcome, row = self.store.spend_refresh_token(refresh_token, now)
        if outcome == "reused":
            self.store.revoke_grant(row["grant_id"], "refresh token used twice", now)
            return oauth_error("invalid_grant", "the refresh token was already used")
        grant = self.store.grant(row["grant_id"]) if row is not None else None
        if grant is None or grant.revoked_at or grant.client_id != client_id:
            return oauth_error("invalid_grant", "unknown or revoked refresh token")
        if parse(row["expires_at"]) < now:
            return oauth_error("invalid_grant", "the refresh token expired")
        return self._issue(grant.id, grant.scope)

    def _issue(self, grant_id: str, scope: str) -> flask.Response:
        now = self.clock.now()
        access, refresh = "sba_" + secrets.token_urlsafe(24), "sbr_" + secrets.token_urlsafe(32)
        self.store.add_token(access, grant_id, "access", now + ACCESS_TOKEN_LIFETIME)
        self.store.add_token(refresh, grant_id, "refresh", now + REFRESH_TOKEN_LIFETIME)
        response = json_answer(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
                "refresh_token": refresh,
                "refresh_token_expires_in": int(REFRESH_TOKEN_LIFETIME.total_seconds()),
                "scope": scope,
            }
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- revocation ---------------------------------------------------------------------------

    def revoke(self) -> flask.Response:
        fields = {k: v[0] for k, v in form().items()}
        if self._authenticated_client(fields) is None:
            return oauth_error("invalid_client", "client authentication failed", 401)
        token = fields.get("token", "")
        row = self.store.token(token, "refresh") or self.store.token(token, "access")
        if row is not None:
            self.store.revoke_grant(row["grant_id"], "revoked by the app", self.clock.now())
        return flask.Response(status=200, mimetype="text/plain")

    # -- bearer tokens ------------------------------------------------------------------------

    def grant_for(self):
        """The live grant behind the request's bearer access token, or None."""
        scheme, _, token = flask.request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        row = self.store.token(token.strip(), "access")
        if row is None or parse(row["expires_at"]) <= self.clock.now():
            return None
        grant = self.store.grant(row["grant_id"])
        return grant if grant is not None and not grant.revoked_at else None


def _orgs(raw: str) -> list[str]:
    return list(json.loads(raw))


def _redirect(location: str) -> flask.Response:
    headers = {"Location": location, "Cache-Control": "no-store"}
    return flask.Response(status=302, headers=headers, mimetype="text/plain")
