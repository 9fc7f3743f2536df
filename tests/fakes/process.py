"""`ledgerlink serve` in a subprocess, for end-to-end tests over real HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import httpx

from tests.fakes.balancer import Balancer
from tests.fakes.slack_requests import signed_headers

LISTENING = re.compile(r"ledgerlink listening on (http://\S+)")


class ServeProcess:
    def __init__(self, env: dict[str, str], workdir: Path, *, args: tuple[str, ...] = ()):
        self.env = env
        self.log_path = workdir / "serve.log"
        self.workdir = workdir
        self.args = args
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self._seen = 0

    def start(self, timeout: float = 20.0) -> ServeProcess:
        return self.launch().wait_listening(timeout)

    def launch(self) -> ServeProcess:
        """Start the process without waiting for it (`wait_listening` does)."""
        # A restart in the same directory appends to the log: read only this run's lines.
        self._seen = len(self.log())
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", "0", *self.args],
                env={**_base_env(), **self.env},
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )
        return self

    def wait_listening(self, timeout: float = 20.0) -> ServeProcess:
        """Wait until the launched process logs its URL and answers /healthz."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ledgerlink serve exited early:\n{self.log()}")
            found = LISTENING.search(self.log()[self._seen :])
            if found:
                self.url = found.group(1)
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"ledgerlink serve did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def post_signed(
        self,
        body: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        path: str = "/slack/events",
    ) -> httpx.Response:
        secret = secret or self.env["SLACK_SIGNING_SECRET"]
        headers = signed_headers(secret, body, timestamp=timestamp, content_type=content_type)
        return httpx.post(f"{self.url}{path}", content=body.encode(), headers=headers, timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        return terminate(self.process, timeout)


class ServeCluster:
    """Several `ledgerlink serve` processes on one (PostgreSQL) database behind a round-robin
    balancer (tests.fakes.balancer): a deployment beyond one machine, on loopback. It has
    ServeProcess's interface: `url` is the balancer's, so every request a test sends goes to
    the next process in turn; `log()` is every process's log; `process` is the first one (a
    signal goes to one process, as on one host)."""

    post_signed = ServeProcess.post_signed

    def __init__(self, env: dict[str, str], workdir: Path, *, count: int = 2):
        self.env = env
        self.members = []
        for n in range(1, count + 1):
            (workdir / f"serve-{n}").mkdir(exist_ok=True)
            self.members.append(ServeProcess(env, workdir / f"serve-{n}"))
        self.balancer: Balancer | None = None
        self.url: str | None = None

    def start(self) -> ServeCluster:
        # Side by side, as a deployment starts them: both import and migrate at once.
        for member in self.members:
            member.launch()
        try:
            for member in self.members:
                member.wait_listening()
        except BaseException:
            for member in self.members:
                member.stop()
            raise
        self.balancer = Balancer([member.url for member in self.members]).start()
        self.url = self.balancer.url
        return self

    @property
    def process(self) -> subprocess.Popen | None:
        return self.members[0].process

    def log(self) -> str:
        return "".join(member.log() for member in self.members)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None
        # SIGTERM to all, then wait for each: they wind down side by side.
        for member in self.members:
            _signal(member.process)
        codes = [_wait_exit(member.process, timeout) for member in self.members]
        return codes[0]


def terminate(process: subprocess.Popen | None, timeout: float) -> int | None:
    """SIGTERM a started process and wait for it; kill it (and raise) if it outstays timeout."""
    _signal(process)
    return _wait_exit(process, timeout)


def _signal(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)


def _wait_exit(process: subprocess.Popen | None, timeout: float) -> int | None:
    if process is None:
        return None
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def wait_until(predicate, what: str, timeout: float = 15.0, *, every: float = 0.05):
    """Poll predicate every `every` seconds until it returns something truthy (returned), or
    fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def create_api_token(env: dict[str, str], team: str) -> str:
    """A new API token for the team, made by `ledgerlink token create` on the database env
    points at. It runs the command line's own code in this process: a new interpreter would cost
    a second of imports in every test that needs a token, and tests/unit/test_cli.py and
    tests/e2e/test_two_processes_e2e.py run the command in a real process already."""
    from bot.cli import main  # imported late: most tests never need the command line

    out = StringIO()
    with redirect_stdout(out):
        code = main(["token", "create", "--team", team], environ=env)
    if code != 0:
        raise AssertionError(f"ledgerlink token create exited {code}:\n{out.getvalue()}")
    return out.getvalue().strip().splitlines()[-1]


def _base_env() -> dict[str, str]:
    """Only what a Python process needs; never the developer's Slack or provider settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "VIRTUAL_ENV")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env
