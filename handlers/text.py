"""Making user and provider text safe for Slack mrkdwn.

Slack reads `<...>` as links and mentions (`<!channel>` notifies everyone) and `&` as the start
of an entity, so those three characters are escaped in everything we did not write ourselves.
Text Slack already escaped (`&lt;`) is unescaped first, so escaping twice shows the same thing.
"""

from __future__ import annotations

_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    for entity, char in _UNESCAPE:
        text = text.replace(entity, char)
    return text


def escape(text: str) -> str:
    text = unescape(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str, *, limit: int = 40) -> str:
    """User text shown inside `code`: escaped, without backticks, bounded in length."""
    text = unescape(text).replace("`", "'")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{escape(text)}`"


def bold(text: str) -> str:
    """User text in *bold*: escaped, and without the asterisks that would end the bold."""
    # U+2217 looks like an asterisk but does not end the bold.
    return "*" + escape(text).replace("*", "\u2217") + "*"


def plain_text(text: str) -> dict:
    """A Block Kit plain_text object (Slack shows it literally; 75 characters at most)."""
    return {"type": "plain_text", "text": (text or " ")[:75], "emoji": True}
