"""Fixtures for the reliability suite: running stacks of ledgerlink and its fakes.

Starting `ledgerlink serve` and connecting it costs a few seconds, so the modules share one
`stack` for the whole session (T0001 connected to Xero, T0002 to QuickBooks): every test uses
its own suppliers, references and totals, and puts back any setting it changes. Tests that
kill or restart the server build a stack of their own.

The stack runs on SQLite; a module or test that proves behaviour on both backends asks for a
PostgreSQL one too with `on_both_backends` (one more stack for the session, on a database of
its own).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.fakes.databases import BACKENDS, fresh_database
from tests.reliability.stack import OTHER_TEAM, Stack

# Runs the stack's tests once per backend (`stack` is session-wide, so is its parameter).
on_both_backends = pytest.mark.parametrize("stack", BACKENDS, indirect=True, scope="session")


@contextmanager
def started_stack(backend: str, workdir):
    """A started Stack on a fresh database of the backend; stopped (and the database
    dropped) afterwards."""
    with fresh_database(backend, workdir) as database:
        running = Stack(workdir, database=database)
        try:
            yield running.start()
        finally:
            running.stop()


@pytest.fixture(scope="session")
def stack(request, tmp_path_factory):
    backend = getattr(request, "param", "sqlite")
    with started_stack(backend, tmp_path_factory.mktemp(f"stack-{backend}")) as running:
        running.connect("xero")
        running.connect("quickbooks", team=OTHER_TEAM)
        yield running


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
