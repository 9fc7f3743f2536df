"""`ledgerlink tick` as real OS processes: several at once on one database send each reminder
once, and a later tick (a restart) sends nothing again."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import ADMIN
from tests.fakes.databases import BACKENDS
from tests.fakes.rendezvous import FileBarrier
from tests.sync.conftest import make_connection

CONNECTIONS = 12
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Ticks racing on one SQLite file, and on PostgreSQL as processes on several hosts."""
    return request.param


@pytest.fixture
def db_path(database_target) -> str:
    """The database the store and every tick share (a path, or a postgresql:// URL)."""
    return database_target


def tick_env(fake_slack, database_env, secret_key) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    return {
        **env,
        "PYTHONUNBUFFERED": "1",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        **database_env,
        "LEDGERLINK_SECRET_KEY": secret_key,
    }


def start_tick(env, now, *, runner: tuple[str, ...] = ("bot",)) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *runner, "tick", "--now", now.isoformat()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def channel_posts(fake_slack) -> list[str]:
    return [call.args["channel"] for call in fake_slack.calls_to("chat.postMessage")]


def test_ticks_in_parallel_processes_send_each_reminder_once(
    store, fake_slack, database_env, secret_key, tmp_path
):
    """Three `tick` processes that all check and all claim every reminder at the same moment
    (a barrier before and after each claim) post each reminder exactly once."""
    connections = [
        make_connection(store, team_id=f"T{n:04d}", tenant_name=f"Org {n}")
        for n in range(1, CONNECTIONS + 1)
    ]
    store.database.execute("UPDATE connections SET channel_id = 'C' || id")
    env = tick_env(fake_slack, database_env, secret_key)
    moment = connections[0].expires_at - timedelta(days=7)
    barrier = tmp_path / "barrier"

    # Each racer is `ledgerlink tick` held at the barrier around each reminder claim.
    racer = ("tests.sync.tick_worker", str(barrier), "3")
    racers = [start_tick(env, moment, runner=racer) for _ in range(3)]
    results = [finish(p) for p in racers]

    assert [code for code, _, _ in results] == [0, 0, 0], results
    # They overlapped: all three were at the barrier before and after every reminder's claim.
    assert FileBarrier(barrier, 3).met() == [3] * (2 * CONNECTIONS)
    sent = sum(int(out.split("expiry-reminders: ")[1].split()[0]) for _, out, _ in results)
    assert sent == CONNECTIONS
    posted = channel_posts(fake_slack)
    assert sorted(c for c in posted if c.startswith("C")) == sorted(f"C{c.id}" for c in connections)
    assert posted.count("D" + ADMIN[1:]) == CONNECTIONS

    # A restart (another tick, later the same day) sends nothing again.
    code, out, err = finish(start_tick(env, moment + timedelta(hours=6)))
    assert code == 0, err
    assert "expiry-reminders: 0 done" in out
    assert len(channel_posts(fake_slack)) == 2 * CONNECTIONS


def test_tick_runs_due_jobs_and_exits_zero(store, fake_slack, database_env, secret_key):
    """`ledgerlink tick --now` at expiry marks the connection expired, tells admins, exits 0."""
    connection = make_connection(store, team_id=fake_slack.team_id)

    code, out, err = finish(
        start_tick(tick_env(fake_slack, database_env, secret_key), connection.expires_at)
    )

    assert code == 0, err
    assert "connection-expiry: 1 done" in out
    assert store.connection(connection.id).status == "expired"
    assert channel_posts(fake_slack) == ["C0001", "DADMIN"]
