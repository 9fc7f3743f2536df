"""The playground is a package beside the product: the product never loads it, and the demo adds
its Sandbox Books provider through the public runtime builder rather than the registry."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx

from bot.clock import SystemClock
from bot.config import Config
from bot.runtime import Runtime

PRODUCT = ("bot", "handlers", "providers", "store")

# Imports every module of the product (bar `bot.__main__`, which runs the CLI) in a fresh
# interpreter and prints the playground modules that came along.
LOAD_THE_PRODUCT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    for package in sys.argv[1:]:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not info.name.endswith(".__main__"):
                importlib.import_module(info.name)
    print(sorted(m for m in sys.modules if m == "playground" or m.startswith("playground.")))
    """
)


def test_the_product_loads_without_the_playground():
    """Importing every module of bot/, handlers/, providers/ and store/ loads no playground
    module (the CLI reaches `playground.demo` only inside the demo command)."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_THE_PRODUCT, *PRODUCT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_extra_providers_join_the_configured_ones_on_the_runtimes_client(tmp_path):
    """`Runtime.open(extra_providers=...)` adds what the factory builds beside the providers the
    configuration enables, handing the factory the runtime's own HTTP client and clock."""
    config = Config.from_env(
        {
            "XERO_CLIENT_ID": "an-id",
            "XERO_CLIENT_SECRET": "a-secret",
            "LEDGERLINK_DB": str(tmp_path / "ledgerlink.db"),
        }
    )
    clock = SystemClock()
    given = []
    extra = object()

    def factory(http_client, factory_clock):
        given.append((http_client, factory_clock))
        return {"extra": extra}

    runtime = Runtime.open(config, clock=clock, extra_providers=factory)
    try:
        assert set(runtime.providers) == {"extra", "xero"}
        assert runtime.providers["extra"] is extra
        assert given == [(runtime.http_client, clock)]
        assert isinstance(runtime.http_client, httpx.Client)
    finally:
        runtime.close()
