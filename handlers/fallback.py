"""What Slack sends that no other listener takes: refused clearly, and nothing changes.

a button, select or form ledgerlink does not know (an old message, a forged payload) gets a
private "nothing was changed", an options request an empty list, an unknown event an ack.
(Requests without the parts every listener reads are refused with 400 before Bolt sees them:
`handlers.payloads.well_formed`, checked in `bot.http.SlackEvents`.)

Registered last, so only what the other modules leave falls through to here.
"""

from __future__ import annotations

import re

from handlers import ids, messages
from handlers.deps import Deps

UNKNOWN_ACTION = (
    "That button isn't one ledgerlink knows (the message may be from an older version). "
    "Nothing was changed."
)


def _known() -> str:
    """A pattern matching every ID that is not one of ledgerlink's own."""
    names = sorted(v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str))
    return "^(?!(?:" + "|".join(map(re.escape, names)) + ")$)"


def on_unknown_action(ack, body, respond) -> None:
    ack()
    if body.get("response_url"):
        respond(
            **messages.error_message(UNKNOWN_ACTION),
            response_type="ephemeral",
            replace_original=False,
        )


def on_unknown_view(ack) -> None:
    ack(
        response_action="update",
        view=messages.notice_view(
            [messages.section("This form isn't one ledgerlink knows. Nothing was saved.")]
        ),
    )


def register(app, deps: Deps) -> None:
    unknown = re.compile(_known())
    app.action(unknown)(on_unknown_action)
    app.view(unknown)(on_unknown_view)
    app.options(unknown)(lambda ack: ack(options=[]))
    app.shortcut(unknown)(lambda ack: ack())
    app.event(re.compile(".*"))(lambda ack: ack())  # listeners registered earlier come first
