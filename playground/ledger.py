"""Sandbox Books, served under one URL prefix (`/sandbox` in the demo): the routes of its
authorization server, its API, its web pages, and the controls the playground uses to expire or
revoke access on demand.

    GET  {prefix}                                   the ledger: organisations, apps with access
    GET  {prefix}/orgs/{org}[/bills/{bill}]         suppliers and bills
    GET  {prefix}/oauth/authorize, POST (consent)   see `ledger_oauth`
    POST {prefix}/oauth/token, {prefix}/oauth/revoke
    *    {prefix}/api/...                           see `ledger_api`
    GET  {prefix}/control/status                    JSON for the playground's panel
    POST {prefix}/control/{expire-access|revoke|suppliers}

Control calls must carry `X-Sandbox-Control: 1`, which a cross-site form cannot send.
"""

from __future__ import annotations

import logging
import secrets

import flask

from bot.http import HttpApp
from playground import ledger_pages as pages
from playground.ledger_api import AccountingApi, error
from playground.ledger_data import seed
from playground.ledger_oauth import AuthorizationServer
from playground.ledger_store import LedgerStore
from playground.web import json_answer, json_body

log = logging.getLogger("ledgerlink.sandbox")

CLIENT_ID = "ledgerlink-demo"
CLIENT_NAME = "ledgerlink"


class SandboxLedger:
    def __init__(self, store: LedgerStore, *, clock, base_url: str, prefix: str = "/sandbox"):
        self.store = store
        self.clock = clock
        self.base_url = base_url.rstrip("/")  # the public URL of `prefix`
        self.prefix = prefix
        seed(store, clock.now())
        self.oauth = AuthorizationServer(store, clock)
        self.api = AccountingApi(
            store, clock, bill_url=lambda org, bill: f"{self.base_url}/orgs/{org}/bills/{bill}"
        )

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """(client_id, a new client secret) for ledgerlink, registered with `redirect_uri`."""
        secret = "sbs_" + secrets.token_urlsafe(24)
        self.store.register_client(CLIENT_ID, secret, CLIENT_NAME, redirect_uri)
        return CLIENT_ID, secret

    # -- controls -------------------------------------------------------------------------------

    def expire_access_tokens(self) -> int:
        return self.store.expire_access_tokens(self.clock.now())

    def revoke_all(self, why: str = "revoked in Sandbox Books") -> int:
        return sum(
            self.store.revoke_grant(g.id, why, self.clock.now())
            for g in self.store.grants()
            if not g.revoked_at
        )

    def add_supplier(self, org_id: str, name: str) -> flask.Response:
        if self.store.org(org_id) is None:
            return error(404, "NotFound", f"no organisation {org_id}")
        return self.api.create_contact(org_id, {"Name": name})

    # -- routes ---------------------------------------------------------------------------------

    def blueprint(self) -> flask.Blueprint:
        sandbox = flask.Blueprint("sandbox", __name__, url_prefix=self.prefix)
        sandbox.get("")(self._home)
        sandbox.get("/orgs/<org>")(self._org)
        sandbox.get("/orgs/<org>/bills/<bill>")(self._bill)
        sandbox.get("/oauth/authorize")(self.oauth.authorize_page)
        sandbox.post("/oauth/authorize", endpoint="answer")(self.oauth.answer)
        sandbox.post("/oauth/token")(self.oauth.token)
        sandbox.post("/oauth/revoke")(self.oauth.revoke)
        sandbox.get("/api/connections")(self._connections)
        sandbox.get("/api/orgs/<org>/<collection>")(self._list)
        sandbox.post("/api/orgs/<org>/contacts", endpoint="contacts")(self._create("contact"))
        sandbox.post("/api/orgs/<org>/bills", endpoint="bills")(self._create("bill"))
        sandbox.get("/control/status")(self._status)
        sandbox.post("/control/<action>")(self._control)
        return sandbox

    def wsgi(self) -> HttpApp:
        return HttpApp([self.blueprint()])

    def _authorized(self):
        grant = self.oauth.grant_for()
        if grant is None:
            response = error(
                401, "invalid_token", "The access token is missing, expired or revoked."
            )
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return None, response
        return grant, None

    def _connections(self) -> flask.Response:
        grant, denied = self._authorized()
        return denied or self.api.connections(grant)

    def _list(self, org: str, collection: str) -> flask.Response:
        grant, denied = self._authorized()
        denied = denied or self.api.guard(grant, org, write=False)
        return denied or self.api.list(org, collection)

    def _create(self, what: str):
        def handler(org: str) -> flask.Response:
            grant, denied = self._authorized()
            denied = denied or self.api.guard(grant, org, write=True)
            if denied:
                return denied
            create = self.api.create_contact if what == "contact" else self.api.create_bill
            return self.api.once(org, lambda body: create(org, body))

        return handler

    def _status(self) -> flask.Response:
        names = {org.id: org.name for org in self.store.orgs()}
        return json_answer(
            {
                "orgs": [{"id": org_id, "name": name} for org_id, name in names.items()],
                "grants": [
                    {"orgs": [names.get(o, o) for o in g.orgs], "created_at": g.created_at}
                    for g in self.store.grants()
                    if not g.revoked_at
                ],
            }
        )

    def _control(self, action: str) -> flask.Response:
        if flask.request.headers.get("x-sandbox-control") != "1":
            return error(403, "Forbidden", "control calls need the X-Sandbox-Control header")
        if action == "expire-access":
            return json_answer({"expired": self.expire_access_tokens()})
        if action == "revoke":
            return json_answer({"revoked": self.revoke_all()})
        if action == "suppliers":
            try:
                body = json_body()
            except (ValueError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                return error(400, "InvalidRequest", 'send {"org": ..., "name": ...}')
            return self.add_supplier(str(body.get("org")), str(body.get("name") or ""))
        return error(404, "NotFound", f"no control {action}")

    # -- pages ----------------------------------------------------------------------------------

    def _home(self) -> flask.Response:
        orgs = self.store.orgs()
        names = {org.id: org.name for org in orgs}
        return flask.Response(pages.home_page(self.prefix, orgs, self.store.grants(), names))

    def _org(self, org: str) -> flask.Response:
        org = self.store.org(org)
        if org is None:
            return flask.Response(pages.error_page("Not found", "No such organisation."), 404)
        contacts = [c for c in self.store.all(org.id, "contacts") if c["IsSupplier"]]
        contacts.sort(key=lambda c: (c["Status"] != "ACTIVE", c["Name"].casefold()))
        bills = self.store.all(org.id, "bills")
        return flask.Response(pages.org_page(self.prefix, org, contacts, bills))

    def _bill(self, org: str, bill: str) -> flask.Response:
        org = self.store.org(org)
        bill = org and self.store.get(org.id, "bills", bill)
        if not bill:
            return flask.Response(pages.error_page("Not found", "No such bill."), 404)
        return flask.Response(pages.bill_page(self.prefix, org, bill))
