"""Fixtures for the reliability suite: running stacks of ledgerlink and its fakes.

Starting `ledgerlink serve` and connecting it costs a few seconds, so the modules share one
`stack` for the whole session (T0001 connected to Xero, T0002 to QuickBooks): every test uses
its own suppliers, references and totals, and puts back any setting it changes. Tests that
kill or restart the server build a stack of their own.
"""

from __future__ import annotations

import pytest

from tests.reliability.stack import OTHER_TEAM, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("stack")).start()
    try:
        running.connect("xero")
        running.connect("quickbooks", team=OTHER_TEAM)
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def _calm(request):
    """Each test starts with no fault left over from the one before, and ends with nothing
    the app built refused by Slack."""
    yield
    for name in ("stack", "crash_stack"):
        if name in request.fixturenames:
            running = request.getfixturevalue(name)
            running.xero_net.clear()
            running.quickbooks_net.clear()
            with running.slack._lock:
                running.slack._failures.clear()
            running.slack.assert_nothing_malformed()
