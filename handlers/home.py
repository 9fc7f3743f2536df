"""The App Home tab: the connection's status, with buttons according to the viewer's role, and
how many of ledgerlink's messages are still on their way to Slack (and why)."""

from __future__ import annotations

from datetime import timedelta

from handlers import connection_messages as msgs
from handlers import outbox_messages
from handlers.deps import Deps

FAILED_SHOWN_FOR = timedelta(days=1)


def publish_home(client, deps: Deps, team_id: str, user_id: str) -> None:
    view = msgs.home_view(
        connection=deps.store.current_connection(team_id),
        now=deps.clock.now(),
        is_admin=deps.admins.is_admin(client, team_id, user_id),
        configured=tuple(deps.providers),
    )
    summary = deps.store.outbox_summary(team_id, failed_since=deps.clock.now() - FAILED_SHOWN_FOR)
    view["blocks"] = [*view["blocks"], *outbox_messages.home_queue(summary)]
    # Through the outbox like every message: paced (Tier 4), and a newer view replaces one
    # that has not gone out yet.
    deps.notifier.publish_home(team_id, user_id, view)
