"""`ledgerlink serve` in a subprocess, for end-to-end tests over real HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

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

    def start(self, timeout: float = 20.0) -> ServeProcess:
        # A restart in the same directory appends to the log: read only this run's lines.
        seen = len(self.log())
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", "0", *self.args],
                env={**_base_env(), **self.env},
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ledgerlink serve exited early:\n{self.log()}")
            found = LISTENING.search(self.log()[seen:])
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


def terminate(process: subprocess.Popen | None, timeout: float) -> int | None:
    """SIGTERM a started process and wait for it; kill it (and raise) if it outstays timeout."""
    if process is None or process.poll() is not None:
        return process.returncode if process else None
    process.send_signal(signal.SIGTERM)
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


def _base_env() -> dict[str, str]:
    """Only what a Python process needs; never the developer's Slack or provider settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "VIRTUAL_ENV")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env
