"""Token values never show up in logs, exception messages or reprs."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest

from providers.base import Bill, BillLine, ConnectionExpired, ProviderError
from tests.providers import fake_quickbooks, fake_xero
from tests.providers.conftest import MemoryTokenStore, token_set

VERIFIER = "s" * 43


def assert_no_secrets(text: str, secrets: list[str]) -> None:
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"secrets leaked: {leaked}"


def log_everything(caplog) -> None:
    """DEBUG for the root logger and for the libraries that `bot.logsetup` quiets: a test that
    ran `configure_logging` earlier in this process must not hide what these flows log."""
    caplog.set_level(logging.DEBUG)
    for library in ("httpx", "httpcore", "authlib"):
        caplog.set_level(logging.DEBUG, logger=library)


def test_a_full_xero_flow_logs_no_tokens(xero, fake_xero_server, clock, caplog):
    """Connect, list tenants, refresh on 401, sync, create a supplier and a bill, hit an expired
    grant and revoke, all at DEBUG: no token or client secret appears in logs, errors or
    reprs."""
    log_everything(caplog)
    code = fake_xero_server.issue_code()
    grant = xero.exchange_code(code, code_verifier=VERIFIER, callback_params={"code": code})
    tokens = MemoryTokenStore(grant.tokens)
    session = xero.session(grant.tenants[0].id, tokens)
    fake_xero_server.expire_access_tokens()
    for kind in ("supplier", "account", "tax_rate", "tracking"):
        list(session.fetch_list(kind, None).pages)
    supplier = session.create_supplier("Leak Check Ltd", idempotency_key="s-1")
    published = session.create_bill(
        Bill(
            supplier_id=supplier.remote_id,
            date=date(2025, 3, 1),
            lines=(BillLine("x", Decimal("1"), "123456"),),
        ),
        idempotency_key="b-1",
    )
    failures: list[ProviderError] = []
    dead = MemoryTokenStore(
        token_set(grant.tokens.access_token, "dead-refresh-token-value", expires_at=clock.now())
    )
    with pytest.raises(ConnectionExpired) as raised:
        list(xero.session(grant.tenants[0].id, dead).fetch_list("account", None).pages)
    failures.append(raised.value)
    xero.revoke(tokens.current())

    secrets = [*fake_xero_server.issued_tokens, "dead-refresh-token-value", fake_xero.CLIENT_SECRET]
    reprs = [
        repr(o)
        for o in (
            grant,
            grant.tokens,
            tokens.current(),
            session,
            xero,
            xero.oauth,
            supplier,
            published,
        )
    ]
    assert_no_secrets(caplog.text + "\n".join(reprs + [str(f) for f in failures]), secrets)
    assert "refreshing the access token" in caplog.text  # the flow really did log


def test_a_full_quickbooks_flow_logs_no_tokens(qbo, fake_qbo_server, clock, caplog):
    """The same for QuickBooks: connect, refresh on 401, sync, create, expired grant, revoke."""
    log_everything(caplog)
    code = fake_qbo_server.issue_code()
    grant = qbo.exchange_code(
        code,
        code_verifier=None,
        callback_params={"code": code, "realmId": fake_qbo_server.realm_id},
    )
    tokens = MemoryTokenStore(grant.tokens)
    session = qbo.session(fake_qbo_server.realm_id, tokens)
    fake_qbo_server.expire_access_tokens()
    for kind in ("supplier", "account", "tracking"):
        list(session.fetch_list(kind, None).pages)
    session.fetch_list("supplier", (clock.now() - timedelta(days=1)).isoformat())
    supplier = session.create_supplier("Leak Check Inc", idempotency_key="s-1")
    session.create_bill(
        Bill(
            supplier_id=supplier.remote_id,
            date=date(2025, 3, 1),
            lines=(BillLine("x", Decimal("1"), "6000"),),
        ),
        idempotency_key="b-1",
    )
    dead = MemoryTokenStore(
        token_set("dead-access-token-value", "dead-refresh-token-value", expires_at=clock.now())
    )
    with pytest.raises(ConnectionExpired) as raised:
        list(qbo.session(fake_qbo_server.realm_id, dead).fetch_list("account", None).pages)
    qbo.revoke(tokens.current())

    secrets = [
        *fake_qbo_server.issued_tokens,
        "dead-access-token-value",
        "dead-refresh-token-value",
        fake_quickbooks.CLIENT_SECRET,
    ]
    reprs = [repr(o) for o in (grant, tokens.current(), session, qbo, qbo.oauth, supplier)]
    assert_no_secrets(caplog.text + "\n".join(reprs) + str(raised.value), secrets)
    for step in (  # the flow really did log each step that handles a token
        "QuickBooks answered 401; refreshing the access token once",
        "QuickBooks tokens refreshed",
        "QuickBooks access token is about to lapse; refreshing",
        "/oauth2/v1/tokens/bearer",
        "/v2/oauth2/tokens/revoke",
    ):
        assert step in caplog.text
