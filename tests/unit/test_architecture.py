"""The package layering of DESIGN.md ("Dependencies run one way"), checked by import-linter.

The contracts live in pyproject.toml under [tool.importlinter]; this test runs `lint-imports`
on them so that a backwards import fails the suite with import-linter's own report, which
names the contract and the chain of imports that breaks it.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import outcomes
from handlers import render

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


def _skeleton(tmp_path: Path) -> None:
    """Empty root packages and every module the contracts name, for `lint-imports` to find;
    each ignored import exists, as an import-linter ignore must match an import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for contract in config["contracts"]:
        for module in contract["source_modules"]:
            if "." in module:
                (tmp_path / (module.replace(".", "/") + ".py")).write_text("")
        for ignored in contract.get("ignore_imports", []):
            importer, imported = (name.strip() for name in ignored.split("->"))
            (tmp_path / (imported.replace(".", "/") + ".py")).write_text("")
            (tmp_path / (importer.replace(".", "/") + ".py")).write_text(f"import {imported}\n")


def test_import_contracts_hold():
    """Every [tool.importlinter] contract holds on the real tree (providers/, store/ stay low)."""
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "providers/ and store/ import neither bot/ nor handlers/ KEPT" in result.stdout
    assert "the product does not import the playground; only `ledgerlink demo` starts it KEPT" in (
        result.stdout
    )
    assert "the domain services never import handlers/ KEPT" in result.stdout


BACKWARDS = [
    # A store module importing bot/ and a handlers module importing the playground; the
    # skeleton's bot/cli.py importing playground.demo is the allowed import, never reported.
    pytest.param(
        {
            "bot/clock.py": "",
            "store/leaky.py": "from bot.clock import Clock\n",
            "handlers/leaky.py": "import playground.demo\n",
        },
        [
            "providers/ and store/ import neither bot/ nor handlers/ BROKEN",
            "store.leaky -> bot.clock",
            "the product does not import the playground",
            "handlers.leaky -> playground.demo",
        ],
        ["bot.cli -> playground.demo"],
        id="store-and-handlers",
    ),
    # A service importing a Slack message builder through another bot module.
    pytest.param(
        {
            "handlers/item_messages.py": "",
            "bot/helper.py": "from handlers import item_messages\n",
            "bot/items.py": "from bot import helper\n",
        },
        ["the domain services never import handlers/ BROKEN", "bot.items -> bot.helper"],
        [],
        id="service-through-a-helper",
    ),
]


@pytest.mark.parametrize(("modules", "reported", "allowed"), BACKWARDS)
def test_a_backwards_import_is_reported(tmp_path, modules, reported, allowed):
    """The contracts catch each backwards import, even through another module, and the report
    names the contract and the chain; an ignored import stays unreported."""
    _skeleton(tmp_path)
    for path, source in modules.items():
        (tmp_path / path).write_text(source)
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    for line in reported:
        assert line in result.stdout
    for chain in allowed:
        assert chain not in result.stdout


def test_every_outcome_has_a_renderer_that_takes_its_fields():
    """Each outcome a service can report renders, and its fields are its builder's arguments."""
    reported = {
        cls
        for _, cls in inspect.getmembers(outcomes, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == outcomes.__name__
    }
    assert reported == set(render.BUILDERS)
    for cls, build in render.BUILDERS.items():
        names = [f.name for f in dataclasses.fields(cls)]
        inspect.signature(build).bind(**dict.fromkeys(names))
