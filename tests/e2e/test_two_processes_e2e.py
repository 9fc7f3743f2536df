"""Two `ledgerlink serve` processes on one database, Slack's requests spread over both, as
behind a load balancer: nothing a request needs lives in one process's memory."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import STAFF
from tests.e2e.chat import Chat, button, click_of
from tests.e2e.conftest import follow_login
from tests.e2e.test_items_e2e import item_status, post_item, prompt_for
from tests.fakes.databases import both_backends
from tests.fakes.process import wait_until

pytestmark = pytest.mark.e2e


@both_backends
def test_any_process_answers_any_request(serve, provider_env, fake_slack, xero, database):
    """A login started on one process completes on the other and is announced once; both
    report the connection; an item submitted through one and answered on the other is
    published once; the first sync ran once."""
    xero.add_contacts(1, Name="Costa Coffee Ltd")
    first, second = serve(**provider_env), serve(**provider_env)
    on_first, on_second = Chat(first, fake_slack), Chat(second, fake_slack)
    on_second.n = 1000  # its response_url keys must not repeat the first one's

    reply = on_first.command("connect xero")
    page = follow_login(second, button(reply, "connection_open_provider_login")["url"])
    assert page.status_code == 200 and "Connected to Xero" in page.text, page.text
    tenant = xero.connections[0]["tenantName"]
    for chat in (on_second, on_first):
        assert tenant in chat.command("status", user=STAFF)["text"]
    announced = [r for r in fake_slack.responses if "Connected to Xero" in r.args.get("text", "")]
    assert len(announced) == 1

    wait_until(
        lambda: database.value("SELECT count(*) FROM sync_runs WHERE result = 'ok'"), "first sync"
    )
    token = subprocess.run(  # `ledgerlink token create`, on the same database as both
        [sys.executable, "-m", "bot", "token", "create", "--team", fake_slack.team_id],
        env={**first.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    item = post_item(on_second, token, supplier="Fresh Produce Co", reference="TWO-1").json()
    prompt = prompt_for(fake_slack, item["id"])
    on_first.click(click_of(button(prompt, "item_create_supplier")), user=STAFF, wait=False)
    assert item_status(on_second, token, item["id"], "published")["bill_id"]
    assert len([i for i in xero.invoices if i.get("InvoiceNumber") == "TWO-1"]) == 1
    assert len([c for c in xero.contacts if c["Name"] == "Fresh Produce Co"]) == 1
    assert database.value("SELECT count(*) FROM sync_runs") == 1
