"""The App Home tab: the connection's status, with buttons according to the viewer's role."""

from __future__ import annotations

from handlers import connection_messages as msgs
from handlers.deps import Deps


def publish_home(client, deps: Deps, team_id: str, user_id: str) -> None:
    view = msgs.home_view(
        connection=deps.store.current_connection(team_id),
        now=deps.clock.now(),
        is_admin=deps.admins.is_admin(client, team_id, user_id),
        configured=tuple(deps.providers),
    )
    client.views_publish(user_id=user_id, view=view)
