"""Block Kit for the outbox: grouped prompts, fallback notes, the App Home's queue. Pure."""

from __future__ import annotations

from handlers import ids
from handlers.item_messages import amount
from handlers.messages import section
from handlers.text import escape, plain_text

OUTCOMES = {
    "needs_supplier": None,
    "ready": ":hourglass_flowing_sand: answered — publishing",
    "publishing": ":hourglass_flowing_sand: answered — publishing",
    "published": ":white_check_mark: published",
    "failed": ":warning: publishing error",
    "held": ":pause_button: held",
    "discarded": ":wastebasket: discarded",
    "received": ":hourglass_flowing_sand: being checked",
}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _line(item) -> str:
    """Reference, supplier as submitted, total, who sent it."""
    parts = [f"*{escape(item.supplier_name)}*", amount(item)]
    if item.reference:
        parts.append(f"ref {escape(item.reference)}")
    if item.submitted_by:
        parts.append(f"from <@{item.submitted_by}>")
    return f"#{item.id} · " + " · ".join(parts)


def grouped_prompts(group, items) -> dict:
    """One message for a burst of supplier prompts in a channel: each waiting item with a
    button that posts its own prompt in this message's thread; answered ones say so."""
    waiting = [item for item in items if item.status == "needs_supplier"]
    if waiting:
        text = (
            f":exclamation: {len(waiting)} of {len(items)} items need a supplier that isn't "
            "in the accounting software yet. Open one to choose or create its supplier."
        )
    else:
        text = f":white_check_mark: All {len(items)} items that needed a supplier are answered."
    blocks = [section(text)]
    for item in items:
        outcome = OUTCOMES.get(item.status, escape(item.status))
        if outcome is None:
            blocks.append(
                {
                    **section(_line(item)),
                    "accessory": {
                        "type": "button",
                        "text": plain_text("Open"),
                        "action_id": ids.OPEN_PROMPT,
                        "value": str(item.id),
                    },
                }
            )
        else:
            chosen = item.supplier_display
            choice = f" as *{escape(chosen)}*" if chosen and chosen != item.supplier_name else ""
            blocks.append(_context(f"{_line(item)} — {outcome}{choice}"))
    return {"text": text, "blocks": blocks[:50]}


def with_note(message: dict, note: str) -> dict:
    """A message sent somewhere else than meant, saying why (`note` is ledgerlink's own)."""
    return {
        **message,
        "text": f"{message.get('text', '')}\n_{note}_".strip(),
        "blocks": [*(message.get("blocks") or [])[:49], _context(f":information_source: {note}")],
    }


def opened(item, where: str) -> dict:
    return {"text": f"The prompt for item #{item.id} is in the thread of {where}."}


def home_queue(summary: dict) -> list[dict]:
    """The App Home's line about messages still on their way, and ones Slack refused."""
    lines = []
    if summary["waiting"]:
        why = ", ".join(f"{n} {escape(reason)}" for reason, n in summary["waiting_reasons"].items())
        lines.append(
            f":outbox_tray: {summary['waiting']} message(s) waiting to be delivered"
            + (f" (last errors: {why})" if why else " (paced to Slack's limits)")
        )
    if summary["failed"]:
        why = ", ".join(f"{n} {escape(reason)}" for reason, n in summary["failed_reasons"].items())
        lines.append(f":warning: {summary['failed']} message(s) Slack refused today: {why}")
    if not lines:
        return [_context(":outbox_tray: Every message has been delivered.")]
    return [_context("\n".join(lines))]
