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

from bot.http import HttpApp, Request, Response, Route
from playground import ledger_pages as pages
from playground.ledger_api import AccountingApi, error
from playground.ledger_data import seed
from playground.ledger_oauth import AuthorizationServer
from playground.ledger_store import LedgerStore

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

    def add_supplier(self, org_id: str, name: str) -> Response:
        if self.store.org(org_id) is None:
            return error(404, "NotFound", f"no organisation {org_id}")
        return self.api.create_contact(org_id, {"Name": name})

    # -- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        p = self.prefix
        return [
            Route("GET", p, handler=self._home),
            Route("GET", f"{p}/orgs/{{org}}", handler=self._org),
            Route("GET", f"{p}/orgs/{{org}}/bills/{{bill}}", handler=self._bill),
            Route("GET", f"{p}/oauth/authorize", handler=self.oauth.authorize_page),
            Route("POST", f"{p}/oauth/authorize", handler=self.oauth.answer),
            Route("POST", f"{p}/oauth/token", handler=self.oauth.token),
            Route("POST", f"{p}/oauth/revoke", handler=self.oauth.revoke),
            Route("GET", f"{p}/api/connections", handler=self._connections),
            Route("GET", f"{p}/api/orgs/{{org}}/{{collection}}", handler=self._list),
            Route("POST", f"{p}/api/orgs/{{org}}/contacts", handler=self._create("contact")),
            Route("POST", f"{p}/api/orgs/{{org}}/bills", handler=self._create("bill")),
            Route("GET", f"{p}/control/status", handler=self._status),
            Route("POST", f"{p}/control/{{action}}", handler=self._control),
        ]

    def wsgi(self) -> HttpApp:
        return HttpApp(self.routes())

    def _authorized(self, request: Request):
        grant = self.oauth.grant_for(request)
        if grant is None:
            response = error(
                401, "invalid_token", "The access token is missing, expired or revoked."
            )
            response.headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
            return None, response
        return grant, None

    def _connections(self, request: Request) -> Response:
        grant, denied = self._authorized(request)
        return denied or self.api.connections(grant)

    def _list(self, request: Request) -> Response:
        grant, denied = self._authorized(request)
        org = request.params["org"]
        denied = denied or self.api.guard(request, grant, org, write=False)
        return denied or self.api.list(request, org, request.params["collection"])

    def _create(self, what: str):
        def handler(request: Request) -> Response:
            grant, denied = self._authorized(request)
            org = request.params["org"]
            denied = denied or self.api.guard(request, grant, org, write=True)
            if denied:
                return denied
            create = self.api.create_contact if what == "contact" else self.api.create_bill
            return self.api.once(request, org, lambda body: create(org, body))

        return handler

    def _status(self, request: Request) -> Response:
        names = {org.id: org.name for org in self.store.orgs()}
        return Response.json(
            {
                "orgs": [{"id": org_id, "name": name} for org_id, name in names.items()],
                "grants": [
                    {"orgs": [names.get(o, o) for o in g.orgs], "created_at": g.created_at}
                    for g in self.store.grants()
                    if not g.revoked_at
                ],
            }
        )

    def _control(self, request: Request) -> Response:
        if request.headers.get("x-sandbox-control") != "1":
            return error(403, "Forbidden", "control calls need the X-Sandbox-Control header")
        action = request.params["action"]
        if action == "expire-access":
            return Response.json({"expired": self.expire_access_tokens()})
        if action == "revoke":
            return Response.json({"revoked": self.revoke_all()})
        if action == "suppliers":
            try:
                body = request.json()
            except (ValueError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                return error(400, "InvalidRequest", 'send {"org": ..., "name": ...}')
            return self.add_supplier(str(body.get("org")), str(body.get("name") or ""))
        return error(404, "NotFound", f"no control {action}")

    # -- pages ----------------------------------------------------------------------------------

    def _home(self, request: Request) -> Response:
        orgs = self.store.orgs()
        names = {org.id: org.name for org in orgs}
        return Response.html(pages.home_page(self.prefix, orgs, self.store.grants(), names))

    def _org(self, request: Request) -> Response:
        org = self.store.org(request.params["org"])
        if org is None:
            return Response.html(pages.error_page("Not found", "No such organisation."), 404)
        contacts = [c for c in self.store.all(org.id, "contacts") if c["IsSupplier"]]
        contacts.sort(key=lambda c: (c["Status"] != "ACTIVE", c["Name"].casefold()))
        bills = self.store.all(org.id, "bills")
        return Response.html(pages.org_page(self.prefix, org, contacts, bills))

    def _bill(self, request: Request) -> Response:
        org = self.store.org(request.params["org"])
        bill = org and self.store.get(org.id, "bills", request.params["bill"])
        if not bill:
            return Response.html(pages.error_page("Not found", "No such bill."), 404)
        return Response.html(pages.bill_page(self.prefix, org, bill))
