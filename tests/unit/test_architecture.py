"""The package layering of DESIGN.md ("Dependencies run one way"), checked by import-linter.

The contracts live in pyproject.toml under [tool.importlinter]; this test runs `lint-imports`
on them so that a backwards import fails the suite with import-linter's own report, which
names the contract and the chain of imports that breaks it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `lint-imports` with the project's own contracts on the packages under `cwd`."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("lint-imports")),
            "--no-cache",
            "--no-logo",
            str(ROOT / "pyproject.toml"),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_hold():
    """Every [tool.importlinter] contract holds on the real tree (providers/, store/ stay low)."""
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "providers/ and store/ import neither bot/ nor handlers/ KEPT" in result.stdout
    assert "the product does not import the playground; only `ledgerlink demo` starts it KEPT" in (
        result.stdout
    )


def test_a_backwards_import_is_reported(tmp_path):
    """The same contracts catch a store module importing bot/ and a handlers module importing
    the playground, and the report names each import; the CLI's demo import stays allowed."""
    for package in ("bot", "handlers", "providers", "store", "playground"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "clock.py").write_text("")
    (tmp_path / "bot" / "cli.py").write_text("import playground.demo\n")
    (tmp_path / "playground" / "demo.py").write_text("")
    (tmp_path / "store" / "leaky.py").write_text("from bot.clock import Clock\n")
    (tmp_path / "handlers" / "leaky.py").write_text("import playground.demo\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "providers/ and store/ import neither bot/ nor handlers/ BROKEN" in result.stdout
    assert "store.leaky -> bot.clock" in result.stdout
    assert "the product does not import the playground" in result.stdout
    assert "handlers.leaky -> playground.demo" in result.stdout
    assert "bot.cli -> playground.demo" not in result.stdout  # the ignored one is not reported
