"""`/integrations refresh` end to end: `ledgerlink serve` in a subprocess, the fake Xero server,
signed Slack requests in and the fake Slack's response_url out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import STAFF
from tests.e2e.chat import Chat, connect
from tests.e2e.conftest import provider_env, quickbooks, xero  # noqa: F401 (fixtures)
from tests.fakes.databases import both_backends, database_for
from tests.fakes.process import wait_until
from tests.providers.fake_xero import ms_date

pytestmark = pytest.mark.e2e


def wait_for_first_sync(env: dict[str, str], timeout: float = 15.0) -> None:
    db = database_for(env)
    wait_until(
        lambda: (
            db.value("SELECT count(*) FROM sync_runs WHERE result = 'ok'")
            and not db.value("SELECT count(*) FROM leases WHERE name LIKE 'sync:%'")
        ),
        "the first sync",
        timeout,
    )


@both_backends
def test_refresh_reports_what_changed_at_xero(
    serve,
    serve_env,
    provider_env,  # noqa: F811 (the fixture imported above)
    xero,  # noqa: F811
    fake_slack,
):
    """After connecting, a refresh fetches only Xero's changes and reports them in place."""
    server = serve(**provider_env)
    chat = Chat(server, fake_slack)
    connect(chat)
    wait_for_first_sync(serve_env)
    later = ms_date(datetime.now(UTC) + timedelta(minutes=1))
    xero.add_contacts(1, Name="Fresh Produce Co", UpdatedDateUTC=later)
    xero.add_contacts(1, Name="Oat Milk Ltd", UpdatedDateUTC=later)

    first = chat.command("refresh", user=STAFF)

    assert first["text"].startswith(":arrows_counterclockwise: Refreshing Xero data for *")
    key = f"c{chat.n}"
    final = fake_slack.wait_for(
        lambda fake: [r.args for r in fake.responses if r.method == key][1:], timeout=15
    )[0]
    assert final["replace_original"] is True
    assert final["text"].startswith(":white_check_mark: Refreshed Xero data for *")
    assert ": +2 suppliers;" in final["text"]
    contacts = [r for r in xero.api_requests("Contacts") if r.method == "GET"]
    assert "If-Modified-Since" in contacts[-1].headers
