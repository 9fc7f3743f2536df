"""`/integrations refresh [full]`: sync the lists now and report what changed.

Anyone may refresh; only admins may ask for a full refresh (every list fetched whole). The reply
comes at once ("Refreshing Xero data for *Org*…"), is updated every few seconds while a long list
is read ("… 12,000 of about 100,000 contacts") and is replaced, through the command's
response_url, with the outcome when the sync finishes in the background.
"""

from __future__ import annotations

import threading

from slack_bolt.context.respond import Respond

from bot.sync_types import SyncAlreadyRunning
from handlers import sync_messages
from handlers.deps import Deps
from handlers.grammar import Command

# The outcome waits for the first reply to be sent, so it can never arrive before it and be
# replaced by "Refreshing…"; this bounds the wait if that reply hangs.
FIRST_REPLY_WAIT_SECONDS = 10.0


def handle_refresh(parsed: Command, command: dict, client, deps: Deps) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    respond = Respond(response_url=command["response_url"], proxy=client.proxy, ssl=client.ssl)
    full = parsed.args == ("full",)
    connection = deps.store.current_connection(team_id)
    if connection is None:
        respond(**sync_messages.not_connected())
        return
    if full and not deps.admins.is_admin(client, team_id, user_id):
        respond(**sync_messages.full_refresh_refused(deps.admins.roster(team_id).named))
        return
    if connection.status != "active":
        respond(**sync_messages.connection_expired_reply(connection))
        return
    if connection.provider not in deps.providers:
        respond(**sync_messages.provider_unavailable(connection))
        return

    first_reply = threading.Event()

    def report(outcome) -> None:
        first_reply.wait(FIRST_REPLY_WAIT_SECONDS)
        latest = deps.store.connection(connection.id) or connection
        respond(replace_original=True, **sync_messages.refresh_outcome(latest, outcome))

    def progress(done) -> None:
        first_reply.wait(FIRST_REPLY_WAIT_SECONDS)
        respond(
            replace_original=True, **sync_messages.refresh_progress(connection, done, full=full)
        )

    started = deps.sync.request(
        connection.id,
        full=full,
        requested_by=user_id,
        on_done=report,
        trigger="command",
        on_progress=progress,
    )
    try:
        if isinstance(started, SyncAlreadyRunning):
            respond(**sync_messages.refresh_busy(connection, started))
            return
        if full:
            deps.store.audit(team_id, user_id, "refresh_full", connection_id=connection.id)
        respond(**sync_messages.refreshing(connection, full=full))
    finally:
        first_reply.set()
