"""Sandbox Books as an OAuth authorization server and an accounting API, over HTTP (its WSGI
app on an httpx transport): the rules a real provider enforces, which the demo shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.clock import FixedClock
from playground.ledger import SandboxLedger
from playground.ledger_api import RateWindow
from playground.ledger_data import HARBOUR, NORTHWIND
from playground.ledger_oauth import s256
from playground.ledger_store import LedgerStore, sandbox_db_path

BASE = "https://sandbox.test/sandbox"
REDIRECT = "https://ledgerlink.test/oauth/sandbox/callback"
VERIFIER = "a-verifier-that-is-long-enough-" + "x" * 20


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture
def ledger(clock):
    ledger = SandboxLedger(LedgerStore(":memory:"), clock=clock, base_url=BASE)
    yield ledger
    ledger.store.close()


@pytest.fixture
def client(ledger):
    ledger.client_id, ledger.secret = ledger.register_client(REDIRECT)
    with httpx.Client(transport=httpx.WSGITransport(app=ledger.wsgi()), base_url=BASE) as http:
        yield http


def authorize(client, ledger, **overrides):
    params = {
        "response_type": "code",
        "client_id": ledger.client_id,
        "redirect_uri": REDIRECT,
        "scope": "offline_access ledger.read ledger.write",
        "state": "st-1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.get(f"{BASE}/oauth/authorize", params={k: v for k, v in params.items() if v})


def consent(page) -> str:
    return re.search(r'name="consent" value="([^"]+)"', page.text).group(1)


def answer(client, consent_id: str, decision: str = "allow", orgs=(HARBOUR.id,)):
    return client.post(
        f"{BASE}/oauth/authorize",
        data={"consent": consent_id, "decision": decision, "org": list(orgs)},
    )


def query(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def token(client, ledger, **form):
    return client.post(f"{BASE}/oauth/token", data=form, auth=(ledger.client_id, ledger.secret))


def login(client, ledger, orgs=(HARBOUR.id,)) -> dict:
    code = query(answer(client, consent(authorize(client, ledger)), orgs=orgs))["code"]
    return token(
        client,
        ledger,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    ).json()


def api(client, access: str, path: str, **kwargs):
    method = "POST" if "json" in kwargs else "GET"
    headers = {"Authorization": f"Bearer {access}", **kwargs.pop("headers", {})}
    return client.request(method, f"{BASE}/api{path}", headers=headers, **kwargs)


# -- authorization ------------------------------------------------------------------------------


def test_the_consent_page_lists_both_organisations(client, ledger):
    """A valid request shows who asks, what it may do and both demo organisations to share."""
    page = authorize(client, ledger)
    assert page.status_code == 200
    assert "ledgerlink wants to connect to Sandbox Books" in page.text
    assert HARBOUR.name in page.text and NORTHWIND.name in page.text
    assert "Create contacts and bills" in page.text


def test_a_redirect_uri_mismatch_is_shown_never_followed(client, ledger):
    """An unregistered redirect URI gets an error page, not a redirect to it."""
    page = authorize(client, ledger, redirect_uri="https://evil.test/cb")
    assert page.status_code == 400 and "location" not in page.headers
    assert "Redirect URI mismatch" in page.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "ledger.read admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_requests_go_back_with_an_error_and_the_state(client, ledger, overrides, error):
    """PKCE is required and scopes are checked; errors return to the app with the state."""
    response = authorize(client, ledger, **overrides)
    assert response.status_code == 302
    assert query(response)["error"] == error and query(response)["state"] == "st-1"


def test_cancel_sends_access_denied(client, ledger):
    """Cancelling on the consent page sends the app error=access_denied with the state."""
    response = answer(client, consent(authorize(client, ledger)), decision="deny")
    assert query(response) == {"error": "access_denied", "state": "st-1"}


def test_sharing_no_organisation_asks_again_and_a_page_answers_once(client, ledger):
    """Allowing with no organisation ticked shows the page again; an answered page can't be
    answered twice."""
    consent_id = consent(authorize(client, ledger))
    again = answer(client, consent_id, orgs=())
    assert again.status_code == 400 and "Choose at least one organisation" in again.text
    assert answer(client, consent_id).status_code == 302
    assert "already answered" in answer(client, consent_id).text


def test_codes_need_the_right_verifier_and_work_once(client, ledger):
    """A code is refused with the wrong PKCE verifier, and is single-use: using it again
    revokes what it granted."""
    code = query(answer(client, consent(authorize(client, ledger))))["code"]
    wrong = token(
        client,
        ledger,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier="not-it",
    )
    assert wrong.json()["error"] == "invalid_grant"
    code = query(answer(client, consent(authorize(client, ledger))))["code"]
    form = dict(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
    )
    tokens = token(client, ledger, **form).json()
    assert api(client, tokens["access_token"], "/connections").status_code == 200
    assert token(client, ledger, **form).json()["error"] == "invalid_grant"
    assert api(client, tokens["access_token"], "/connections").status_code == 401


def test_client_authentication_is_required(client, ledger):
    """The token endpoint refuses a wrong client secret with 401 invalid_client."""
    response = client.post(
        f"{BASE}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(ledger.client_id, "wrong"),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant(client, ledger):
    """Each refresh token works once; presenting a spent one again ends the whole grant."""
    first = login(client, ledger)
    second = token(client, ledger, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    assert fresh["expires_in"] == 1800 and fresh["refresh_token_expires_in"] > 0
    reuse = token(client, ledger, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reuse.json()["error"] == "invalid_grant"
    assert api(client, fresh["access_token"], "/connections").status_code == 401
    again = token(client, ledger, grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert again.json()["error"] == "invalid_grant"


def test_access_tokens_expire_with_time_and_on_demand(client, ledger, clock):
    """Access tokens last 30 minutes, and the playground's control expires them at once."""
    tokens = login(client, ledger)
    assert api(client, tokens["access_token"], "/connections").status_code == 200
    clock.advance(minutes=31)
    assert api(client, tokens["access_token"], "/connections").status_code == 401
    tokens = login(client, ledger)
    assert client.post(f"{BASE}/control/expire-access").status_code == 403  # header needed
    client.post(f"{BASE}/control/expire-access", headers={"X-Sandbox-Control": "1"})
    response = api(client, tokens["access_token"], "/connections")
    assert response.status_code == 401 and "invalid_token" in response.headers["www-authenticate"]


def test_revocation_ends_the_grant(client, ledger):
    """RFC 7009 revocation of the refresh token stops the access token too."""
    tokens = login(client, ledger)
    response = client.post(
        f"{BASE}/oauth/revoke",
        data={"token": tokens["refresh_token"]},
        auth=(ledger.client_id, ledger.secret),
    )
    assert response.status_code == 200
    assert api(client, tokens["access_token"], "/connections").status_code == 401


# -- the API ------------------------------------------------------------------------------------


def test_a_grant_reaches_only_the_organisations_shared(client, ledger):
    """Connections lists the shared organisation; another organisation answers 403."""
    access = login(client, ledger, orgs=(HARBOUR.id,))["access_token"]
    assert [o["Name"] for o in api(client, access, "/connections").json()] == [HARBOUR.name]
    assert api(client, access, f"/orgs/{HARBOUR.id}/accounts").status_code == 200
    assert api(client, access, f"/orgs/{NORTHWIND.id}/accounts").status_code == 403


def test_lists_page_up_to_a_snapshot_and_resume_from_it(client, ledger):
    """Pages are read up to the first page's snapshot, so a change made while paging waits for
    the next fetch from that snapshot."""
    access = login(client, ledger)["access_token"]
    path = f"/orgs/{HARBOUR.id}/contacts"
    first = api(client, access, path, params={"limit": 10}).json()
    assert first["HasMore"] and len(first["Items"]) == 10
    ledger.add_supplier(HARBOUR.id, "Added While Paging Ltd")
    names, page = [c["Name"] for c in first["Items"]], first
    while page["HasMore"]:
        page = api(
            client,
            access,
            path,
            params={"since": page["NextSince"], "until": first["Snapshot"], "limit": 10},
        ).json()
        names += [c["Name"] for c in page["Items"]]
    assert "Added While Paging Ltd" not in names and len(names) == len(set(names))
    later = api(client, access, path, params={"since": first["Snapshot"]}).json()
    assert [c["Name"] for c in later["Items"]] == ["Added While Paging Ltd"]


def test_contacts_are_unique_by_name_and_keys_are_idempotent(client, ledger):
    """A second active contact with the same name (any case or spacing) is 409 with the
    existing one; an Idempotency-Key replays the first answer and refuses another body."""
    access = login(client, ledger)["access_token"]
    path = f"/orgs/{HARBOUR.id}/contacts"
    duplicate = api(client, access, path, json={"Name": "green  leaf FLORISTS"})
    assert duplicate.status_code == 409
    assert duplicate.json()["Existing"]["Name"] == "Green Leaf Florists"
    key = {"Idempotency-Key": "k-1"}
    made = api(client, access, path, json={"Name": "Quayside Ropes"}, headers=key)
    again = api(client, access, path, json={"Name": "Quayside Ropes"}, headers=key)
    assert made.status_code == again.status_code == 201 and made.json() == again.json()
    other = api(client, access, path, json={"Name": "Other"}, headers=key)
    assert other.status_code == 422 and other.json()["Error"] == "IdempotencyKeyReused"


def test_bills_report_every_problem_at_once(client, ledger):
    """An invalid bill is refused with each of its problems in the ledger's words."""
    access = login(client, ledger)["access_token"]
    response = api(
        client,
        access,
        f"/orgs/{HARBOUR.id}/bills",
        json={
            "ContactID": "nobody",
            "Date": "26/11/2026",
            "Currency": "JPY",
            "Lines": [{"Amount": "-1", "AccountCode": "090", "TaxCode": "VAT99"}],
        },
    )
    assert response.status_code == 422
    assert response.json()["Messages"] == [
        "The contact could not be found.",
        "Date must be a date like 2026-11-26.",
        "The currency JPY is not enabled for Harbour Lane Café Ltd.",
        "Line 1: the amount must be a positive number.",
        "Line 1: bank account 090 can't be used on a bill line.",
        "Line 1: tax rate 'VAT99' doesn't exist.",
    ]


def test_a_bill_gets_a_number_totals_and_a_page(client, ledger):
    """A valid bill is numbered, its VAT worked out, and its URL shows it in the ledger."""
    access = login(client, ledger)["access_token"]
    supplier = ledger.store.all(HARBOUR.id, "contacts")[0]
    bill = api(
        client,
        access,
        f"/orgs/{HARBOUR.id}/bills",
        json={
            "ContactID": supplier["ContactID"],
            "Date": "2026-11-26",
            "Status": "DRAFT",
            "Lines": [{"Description": "Beans", "Amount": "120.00", "AccountCode": "320"}],
        },
    ).json()["Bill"]
    assert (bill["Number"], bill["Total"], bill["TotalTax"]) == ("BILL-0001", "120.00", "20.00")
    page = client.get(bill["Url"])
    assert page.status_code == 200 and "BILL-0001" in page.text and supplier["Name"] in page.text


def test_the_rate_limit_answers_429_with_retry_after():
    """A grant over its calls a minute is told how long to wait."""
    now = [100.0]
    window = RateWindow(2, monotonic=lambda: now[0])
    assert window.wait_needed("g") == 0 and window.wait_needed("g") == 0
    assert window.wait_needed("g") == 60.0
    now[0] += 60
    assert window.wait_needed("g") == 0


def test_the_ledger_and_its_grants_survive_a_restart(tmp_path, clock):
    """Data lives in `<demo db>.sandbox.db`: reopened, the organisations and tokens are there,
    and a new client secret (each demo run makes one) still refreshes old tokens."""
    path = sandbox_db_path(str(tmp_path / "demo.db"))
    assert path == str(tmp_path / "demo.sandbox.db")
    first = SandboxLedger(LedgerStore(path), clock=clock, base_url=BASE)
    first.client_id, first.secret = first.register_client(REDIRECT)
    with httpx.Client(transport=httpx.WSGITransport(app=first.wsgi())) as http:
        tokens = login(http, first)
    first.store.close()
    second = SandboxLedger(LedgerStore(path), clock=clock, base_url=BASE)
    second.client_id, second.secret = second.register_client(REDIRECT)
    with httpx.Client(transport=httpx.WSGITransport(app=second.wsgi())) as http:
        assert [o.name for o in second.store.orgs()] == [HARBOUR.name, NORTHWIND.name]
        refreshed = token(
            http, second, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refreshed.status_code == 200
    second.store.close()
