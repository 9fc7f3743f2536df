"""End-to-end fixtures: loopback fake Xero and QuickBooks servers with their login pages."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.databases import BACKENDS
from tests.fakes.loopback import LoopbackServer
from tests.providers import fake_quickbooks, fake_xero


def pytest_generate_tests(metafunc):
    """Every end-to-end test runs on both backends: SQLite with one `serve` process, and
    PostgreSQL with two behind a balancer (tests/conftest.py's `serve`). Tests already marked
    `both_backends` keep their mark."""
    if "backend" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "backend" in (names.split(",") if isinstance(names, str) else names):
            return
    metafunc.parametrize("backend", BACKENDS, indirect=True)


# The public URL the app believes it has; tests play the reverse proxy that maps it to the
# real server (the fakes' registered redirect URIs use this host).
PUBLIC_URL = "https://ledgerlink.test"


class ProviderLogin:
    """Plays the provider's login page: the admin logs in and approves (or cancels), and the
    provider redirects the browser back to ledgerlink's callback with a code and the state."""

    def __init__(self, fake, *, authorize_path: str, extra: dict | None = None):
        self.fake = fake
        self.authorize_path = authorize_path
        self.extra = extra or {}
        self.deny = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != self.authorize_path:
            return self.fake.handle(request)
        query = request.url.params
        redirect = httpx.URL(query["redirect_uri"])
        if self.deny:
            params = {"error": "access_denied", "state": query["state"]}
        else:
            challenge = query.get("code_challenge")
            code = (
                self.fake.issue_code(challenge) if challenge is not None else self.fake.issue_code()
            )
            params = {"code": code, "state": query["state"], **self.extra}
        return httpx.Response(302, headers={"Location": str(redirect.copy_merge_params(params))})


def _served(fake, login: ProviderLogin):
    """Yield fake, with its login pages in front of it, served on a loopback port."""
    server = LoopbackServer(login.handle).start()
    fake.login = login
    fake.url = server.url
    yield fake
    server.stop()


@pytest.fixture
def xero():
    fake = fake_xero.FakeXero()
    yield from _served(fake, ProviderLogin(fake, authorize_path="/identity/connect/authorize"))


@pytest.fixture
def quickbooks():
    fake = fake_quickbooks.FakeQuickBooks()
    login = ProviderLogin(fake, authorize_path="/connect/oauth2", extra={"realmId": fake.realm_id})
    yield from _served(fake, login)


@pytest.fixture
def provider_env(xero, quickbooks) -> dict[str, str]:
    return {
        "LEDGERLINK_PUBLIC_URL": PUBLIC_URL,
        "XERO_CLIENT_ID": fake_xero.CLIENT_ID,
        "XERO_CLIENT_SECRET": fake_xero.CLIENT_SECRET,
        "XERO_LOGIN_URL": xero.url,
        "XERO_IDENTITY_URL": xero.url,
        "XERO_API_URL": xero.url,
        "QBO_CLIENT_ID": fake_quickbooks.CLIENT_ID,
        "QBO_CLIENT_SECRET": fake_quickbooks.CLIENT_SECRET,
        "QBO_AUTH_URL": f"{quickbooks.url}/connect/oauth2",
        "QBO_TOKEN_URL": f"{quickbooks.url}/oauth2/v1/tokens/bearer",
        "QBO_API_URL": quickbooks.url,
    }


def follow_login(server, authorize_url: str) -> httpx.Response:
    """The admin's browser: open the provider login, approve, land on ledgerlink's callback."""
    at_provider = httpx.get(authorize_url, follow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    callback = at_provider.headers["Location"].replace(PUBLIC_URL, server.url, 1)
    return httpx.get(callback, timeout=30)
