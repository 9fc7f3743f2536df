"""Making user and provider text safe for Slack mrkdwn.

Slack reads `<...>` as links and mentions (`<!channel>` notifies everyone) and `&` as the start
of an entity, so those three characters are escaped in everything we did not write ourselves.
Text Slack already escaped (`&lt;`) is unescaped first, so escaping twice shows the same thing.

Slack also reads `*bold*`, `_italic_`, `~strike~` and `` `code` `` in mrkdwn, and documents no
escape for them. A supplier called `*Acme* _Ltd_` would otherwise be shown as formatting (and
a lone `*` in an organisation name ends the bold around it). Those characters in user text are
therefore shown as lookalikes that Slack never reads as markup:

    *  ->  U+2217 ASTERISK OPERATOR
    _  ->  U+02CD MODIFIER LETTER LOW MACRON
    ~  ->  U+223C TILDE OPERATOR
    `  ->  U+02CB MODIFIER LETTER GRAVE ACCENT

Slack opens `_` and `~` only after a space, punctuation or the start, and closes them only
before one; between two letters or digits they are plain characters, so those are kept as
typed (`invalid_grant`, `snake_case`) and only the ones that could open or close formatting are
replaced. Every `*` is replaced, because our messages put names in bold and an asterisk inside
a bold can end it; every backtick too, because backticks open code anywhere.

Why lookalikes rather than invisible separators: the usual alternative, a zero-width space
beside the character, depends on how each Slack client classifies that space, which Slack does
not document; zero-width spaces are used in the wild precisely to *enable* bold inside a word,
so they cannot be trusted to disable it. A lookalike reads the same to people and can never be
markup. Only the message is affected: the item keeps the name as typed, and the supplier
created at the provider, the buttons and the form (plain_text, which Slack shows literally)
all use the original characters.

Line breaks in user text become spaces: our messages show user words inline, and a line of
user text starting with `>` would otherwise become a block quote.
"""

from __future__ import annotations

import re

_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_LINE_BREAKS = str.maketrans(dict.fromkeys("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "))
# A letter or digit ([^\W_]: a word character that is not the underscore).
_ALNUM = r"[^\W_]"
# `_` or `~` not between two letters or digits, and every `*` and backtick.
_DELIMITER = re.compile(rf"(?<!{_ALNUM})[_~]|[_~](?!{_ALNUM})|[*`]")


def unescape(text: str) -> str:
    for entity, char in _UNESCAPE:
        text = text.replace(entity, char)
    return text


def escape(text: str) -> str:
    """User or provider text, shown as typed inside a mrkdwn field (see the module's notes)."""
    text = unescape(text).translate(_LINE_BREAKS)
    text = _DELIMITER.sub(lambda found: LOOKALIKES[found.group()], text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str, *, limit: int = 40) -> str:
    """User text shown inside `code`: escaped, without backticks, bounded in length."""
    text = unescape(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{escape(text)}`"


def bold(text: str) -> str:
    """User text in *bold*: escaped, so no asterisk in it ends the bold early."""
    shown = escape(text).strip()
    return f"*{shown}*" if shown else ""


def plain_text(text: str) -> dict:
    """A Block Kit plain_text object (Slack shows it literally; 75 characters at most)."""
    return {"type": "plain_text", "text": (text or " ")[:75], "emoji": True}
