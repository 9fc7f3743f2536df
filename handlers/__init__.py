"""Slack listeners. Each module ends with `register(app, deps)`."""

from __future__ import annotations

from handlers import commands, connections, events, fallback, items
from handlers.deps import Deps

MODULES = (commands, connections, events, items, fallback)  # fallback last: it takes the rest


def register_all(app, deps: Deps) -> None:
    for module in MODULES:
        module.register(app, deps)
