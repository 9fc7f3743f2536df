"""In-process events other parts of ledgerlink subscribe to.

`connection_restored` fires after a reconnect makes a connection active again, so held work
(items waiting to publish) can resume. Subscribers run in the background executor; one failing
does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("ledgerlink.events")


class ConnectionEvents:
    def __init__(self):
        self._restored: list[Callable] = []

    def on_restored(self, callback: Callable) -> Callable:
        self._restored.append(callback)
        return callback

    def restored(self, connection) -> None:
        for callback in list(self._restored):
            try:
                callback(connection)
            except Exception:  # one subscriber's bug must not hide the others' work
                log.exception("connection_restored subscriber %r failed", callback)
