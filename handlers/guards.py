"""Who may act: one set of checks for every button and form that changes something.

- Connection buttons (connect, reconnect, switch, choose the organisation, disconnect):
  ledgerlink admins (`bot.admins`: workspace admins and owners, LEDGERLINK_ADMINS, and those
  added with `/integrations admins add`).
- An item's Edit, Discard, Retry and Publish anyway, and the edit form when it is saved: the
  person who submitted the item, or a ledgerlink admin. An item that came in through the HTTP
  API without `submitted_by` has no submitter, so only admins.
- Answers to a supplier prompt (Create supplier, Use <supplier>, the selects): anyone in the
  channel, as in Dext; the first answer wins.

The check runs on the server for every click and every submission (a form opened by someone
allowed is checked again when it is saved). Anyone else gets a private refusal saying who can,
and nothing changes. Items are looked up only within the clicker's own workspace.
"""

from __future__ import annotations

from handlers import item_messages, messages
from handlers.deps import Deps
from handlers.payloads import parse_id, team_and_user


def reply(body: dict, client, respond, message: dict, *, replace: bool = False) -> None:
    """Answer an interaction privately: in place of (or beside) the message it came from, or,
    for App Home buttons (which have no message to answer), in a small modal."""
    if body.get("response_url"):
        respond(**message, response_type="ephemeral", replace_original=replace)
        return
    client.views_open(trigger_id=body["trigger_id"], view=messages.notice_view(message["blocks"]))


def _named(handler, guarded):
    # Not functools.wraps: Bolt reads a listener's parameters to choose its arguments, and
    # `__wrapped__` would make it read the inner handler's (which has no `ack`).
    guarded.__name__, guarded.__qualname__ = handler.__name__, handler.__qualname__
    guarded.__doc__, guarded.__module__ = handler.__doc__, handler.__module__
    return guarded


def admins_only(what: str):
    """For an admin's button: acknowledge, then run `handler(body, action, client, respond,
    deps=...)` only for a ledgerlink admin; anyone else is told who can `what`."""

    def decorate(handler):
        def guarded(ack, body, action, client, respond, *, deps: Deps) -> None:
            ack()
            team_id, user_id = team_and_user(body)
            if deps.admins.is_admin(client, team_id, user_id):
                handler(body, action, client, respond, deps=deps)
                return
            roster = deps.admins.roster(team_id).named
            reply(body, client, respond, messages.refusal_message(what, roster))

        return _named(handler, guarded)

    return decorate


def item_named(value: str | None, team_id: str, deps: Deps):
    """The item an action names (value "12" or "12|supplier"), only in the clicker's team."""
    item_id = parse_id((value or "").split("|", 1)[0])
    return None if item_id is None else deps.store.team_item(team_id, item_id)


def may_change_item(deps: Deps, client, team_id: str, user_id: str, item) -> bool:
    """The one rule for changing an item: its submitter, or a ledgerlink admin."""
    if item.submitted_by and item.submitted_by == user_id:
        return True
    return deps.admins.is_admin(client, team_id, user_id)


def item_refusal(item, what: str) -> dict:
    return messages.item_refusal_message(item.submitted_by, what)


def submitter_or_admin(what: str):
    """For an item's Edit, Discard, Retry or Publish anyway (`what` is one of
    `messages.ITEM_ACTIONS`): acknowledge, find the item the button names in the clicker's
    workspace, then run `handler(body, item, client, respond, deps=...)` only for its
    submitter or an admin; anyone else is told privately who can."""

    def decorate(handler):
        def guarded(ack, body, action, client, respond, *, deps: Deps) -> None:
            ack()
            team_id, user_id = team_and_user(body)
            item = item_named(action.get("value"), team_id, deps)
            if item is None:
                answer = item_messages.stale()
            elif may_change_item(deps, client, team_id, user_id, item):
                handler(body, item, client, respond, deps=deps)
                return
            else:
                answer = item_refusal(item, what)
            respond(**answer, response_type="ephemeral", replace_original=False)

        return _named(handler, guarded)

    return decorate
