"""Fixtures for the playground: `ledgerlink demo` in a subprocess, and headless Chromium.

Chromium and its driver are Debian's (`apt-get install chromium chromium-driver`; the test
command, `bash scripts/test`, installs them). Selenium is given the driver's path, so it never
tries to download one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.process import _base_env, terminate

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "demo"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
LISTENING = re.compile(r"ledgerlink demo listening on (http://\S+)")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,950",
)


class DemoProcess:
    """`ledgerlink demo --port 0` in a subprocess, with its output in a log file."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.env = env or {}
        self.db = workdir / "demo.db"
        self.out = workdir / "demo.out"
        self.err = workdir / "demo.err"
        self.process: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self, timeout: float = 30.0) -> DemoProcess:
        seen = self.out.stat().st_size if self.out.exists() else 0  # an earlier run's output
        with self.out.open("ab") as out, self.err.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "demo", "--port", "0", "--db", str(self.db)],
                env={**_base_env(), "PYTHONPATH": str(ROOT), **self.env},
                cwd=self.workdir,
                stdout=out,
                stderr=err,
            )
        try:
            self._wait_until_serving(seen, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_serving(self, seen: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ledgerlink demo exited early:\n{self.log()}")
            found = LISTENING.search(self.out.read_bytes()[seen:].decode(errors="replace"))
            if found:
                self.url = found.group(1)
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not answering yet
            time.sleep(0.05)
        raise RuntimeError(f"ledgerlink demo did not start:\n{self.log()}")

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.out, self.err) if p.exists())

    def stop(self, timeout: float = 20.0) -> int | None:
        return terminate(self.process, timeout)


@pytest.fixture
def demo(tmp_path):
    process = DemoProcess(tmp_path).start()
    yield process
    process.stop()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium through selenium; fails (never skips) when Chromium is missing."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail(
            "the playground's browser test needs Debian's chromium and chromium-driver: "
            "apt-get install -y chromium chromium-driver (bash scripts/test does it for you)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
        options=options,
    )
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def artifacts(request) -> Path:
    """A fresh folder for this test's screenshots, under test-artifacts/demo/ (gitignored)."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
