"""The command line: exit codes, token management, manifest, tick."""

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from bot.cli import main


def run(args, env, capsys):
    code = main(args, environ=env)
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_with_incomplete_configuration_exits_2_in_a_real_process(tmp_path):
    """`ledgerlink serve` without a signing secret exits 2 with one line naming it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        capture_output=True,
        text=True,
        timeout=30,
        env={
            "PATH": "/usr/bin:/bin",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "LEDGERLINK_DB": str(tmp_path / "l.db"),
        },
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledgerlink: SLACK_SIGNING_SECRET:")


def test_serve_without_any_credentials_explains_the_three_ways(capsys, tmp_path):
    """No Slack credentials at all: the message lists bot token, install, and Socket Mode."""
    code, _, err = run(["serve"], {"LEDGERLINK_DB": str(tmp_path / "l.db")}, capsys)
    assert code == 2
    assert "SLACK_BOT_TOKEN" in err and "SLACK_CLIENT_ID" in err and "--socket-mode" in err


def test_bad_usage_exits_2(capsys):
    """An unknown command is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"], environ={})
    assert caught.value.code == 2


def test_token_create_list_revoke(capsys, tmp_path):
    """A created token is printed alone on the last line, listed without its value, revocable."""
    env = {
        "LEDGERLINK_DB": str(tmp_path / "l.db"),
        "LEDGERLINK_SECRET_KEY": Fernet.generate_key().decode(),
    }
    code, out, _ = run(["token", "create", "--team", "T0001", "--name", "scanner"], env, capsys)
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("llk_") and " " not in token
    code, out, _ = run(["token", "list"], env, capsys)
    assert "scanner" in out and token not in out and "active" in out
    assert run(["token", "revoke", "1"], env, capsys)[0] == 0
    assert "revoked" in run(["token", "list", "--team", "T0001"], env, capsys)[1]
    code, _, err = run(["token", "revoke", "1"], env, capsys)
    assert code == 2 and "no active API token #1" in err
    code, _, err = run(["token", "create", "--team", "nope!"], env, capsys)
    assert code == 2 and "--team" in err


def test_manifest_command_prints_urls(capsys):
    """`ledgerlink manifest --url` prints the manifest with that base URL."""
    code, out, _ = run(["manifest", "--url", "https://books.example.org"], {}, capsys)
    assert code == 0 and "https://books.example.org/slack/events" in out


def test_tick_runs_and_exits_zero(capsys, tmp_path):
    """`ledgerlink tick --now` runs the due jobs at that time and exits 0."""
    env = {
        "LEDGERLINK_DB": str(tmp_path / "l.db"),
        "LEDGERLINK_SECRET_KEY": Fernet.generate_key().decode(),
    }
    code, out, _ = run(["tick", "--now", "2027-01-01T00:00:00Z"], env, capsys)
    assert code == 0 and "2027-01-01T00:00:00+00:00" in out


def test_tick_rejects_a_naive_time(capsys):
    """A --now without a time zone is a usage error."""
    with pytest.raises(SystemExit) as caught:
        main(["tick", "--now", "2027-01-01T00:00:00"], environ={})
    assert caught.value.code == 2


def test_an_unreachable_postgresql_is_one_clear_line_without_the_password(capsys):
    """LEDGERLINK_DATABASE_URL pointing at a port nobody listens on: exit 2, one line naming
    the server and the driver's reason, and the URL's password never printed."""
    env = {
        "LEDGERLINK_DATABASE_URL": "postgresql://ledgerlink:hunter2-secret@127.0.0.1:9/ledger",
        "LEDGERLINK_SECRET_KEY": Fernet.generate_key().decode(),
    }
    code, out, err = run(["token", "list"], env, capsys)
    assert code == 2
    assert err.startswith("ledgerlink: cannot use the database (PostgreSQL at 127.0.0.1:9/ledger)")
    assert len(err.strip().splitlines()) == 1
    assert "hunter2-secret" not in out + err
