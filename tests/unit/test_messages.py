"""Block Kit builders are pure and produce payloads Slack accepts."""

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers import connection_messages, messages
from handlers.grammar import UsageError
from store.connections import Connection
from tests.fakes import records

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def connection(**changes) -> Connection:
    values = dict(
        provider="xero",
        tenant_id="t",
        tenant_name="Demo Company (NZ)",
        connected_by="UADMIN",
        connected_at=NOW,
        expires_at=NOW + timedelta(days=365),
    )
    return records.connection(**{**values, **changes})


def validate(payload: dict) -> None:
    for block in payload["blocks"]:
        Block.parse(block).validate_json()


@pytest.mark.parametrize(
    "payload",
    [
        messages.help_message(),
        messages.status_message(None, NOW),
        messages.status_message(connection(), NOW),
        messages.overview_message(connection(status="expired"), NOW),
        messages.usage_error_message(UsageError("I don't know `x`.", suggestion="/integrations x")),
        messages.refusal_message("connect accounting software", ("U1", "U2")),
        messages.not_available_message("refresh"),
        messages.admins_message(()),
        messages.admin_changed_message("remove", "U1", False),
    ],
)
def test_messages_are_valid_block_kit(payload):
    """Every message builder's blocks pass slack_sdk's Block Kit validation."""
    assert payload["text"]
    validate(payload)


class Grant:
    id = "g1"
    tenants = ()


def connection_payloads() -> list[dict]:
    grant = Grant()
    grant.tenants = tuple(
        __import__("providers.base", fromlist=["Tenant"]).Tenant(f"t{i}", f"Org {i}" * 20)
        for i in range(120)
    )
    c = connection()
    return [
        connection_messages.not_configured("xero", "https://x.test"),
        connection_messages.login_link("quickbooks", "https://login.test/a?b=c", purpose="connect"),
        connection_messages.already_connected(c, "quickbooks", NOW, can_switch=True),
        connection_messages.choose_tenant(grant, "xero"),
        connection_messages.confirm_tenant_switch(grant, "Old " * 40, "New " * 40),
        connection_messages.connected(c, reconnected=True),
        connection_messages.disconnect_prompt(c),
        connection_messages.disconnected(c, "U1", "timeout"),
        connection_messages.warn_setting_changed(False),
    ]


@pytest.mark.parametrize("index", range(9))
def test_connection_messages_are_valid_block_kit(index):
    """Connection messages pass Block Kit validation, even with 120 long organisation names."""
    payload = connection_payloads()[index]
    assert payload["text"]
    validate(payload)


def test_home_view_is_a_valid_view():
    """The App Home view validates and tells non-admins what they cannot do."""
    view = connection_messages.home_view(
        connection=None, now=NOW, is_admin=False, configured=("xero",)
    )
    View(**view).validate_json()
    assert "for ledgerlink admins" in str(view)


def test_status_describes_an_active_connection():
    """Status names provider, organisation, who connected, and the expiry with days left."""
    text = messages.status_text(connection(), NOW)
    assert "Connected: Xero — *Demo Company (NZ)*" in text
    assert "Connected by <@UADMIN> on 26 Nov 2026" in text
    assert "Expires on 26 Nov 2027 (365 days left)" in text


def test_status_shows_expired_unmistakably():
    """An expired connection is flagged and tells admins to reconnect."""
    text = messages.status_text(connection(status="expired"), NOW + timedelta(days=400))
    assert ":red_circle: *Expired*" in text and "/integrations reconnect" in text


def test_hostile_organisation_names_are_escaped():
    """An organisation called `<!channel>` cannot notify anyone."""
    text = messages.status_text(connection(tenant_name="<!channel> & co"), NOW)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; co" in text
