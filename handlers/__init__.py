"""Slack listeners. Each module ends with `register(app, deps)`."""

from __future__ import annotations

from handlers import commands, events
from handlers.deps import Deps

MODULES = (commands, events)


def register_all(app, deps: Deps) -> None:
    for module in MODULES:
        module.register(app, deps)
