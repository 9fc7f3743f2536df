"""Making user and provider text safe for Slack mrkdwn.

Slack reads `<...>` as links and mentions (`<!channel>` notifies everyone) and `&` as the start
of an entity, so those three characters are escaped in everything we did not write ourselves.
Text Slack already escaped (`&lt;`) is unescaped first, so escaping twice shows the same thing.

Slack also reads `*bold*`, `_italic_`, `~strike~` and `` `code` `` in mrkdwn, and documents no
escape for them. A supplier called `*Acme* _Ltd_` would otherwise be shown as formatting (and
a lone `*` in an organisation name ends the bold around it). Each of those four characters in
user text is therefore shown as a lookalike that Slack never reads as markup:

    *  ->  U+2217 ASTERISK OPERATOR
    _  ->  U+02CD MODIFIER LETTER LOW MACRON
    ~  ->  U+223C TILDE OPERATOR
    `  ->  U+02CB MODIFIER LETTER GRAVE ACCENT

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

_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_LOOKALIKES = str.maketrans(
    {
        "*": "\u2217",
        "_": "\u02cd",
        "~": "\u223c",
        "`": "\u02cb",
        "\n": " ",
        "\r": " ",
        "\v": " ",
        "\f": " ",
        "\u2028": " ",
        "\u2029": " ",
    }
)
# The characters Slack reads as formatting (or as the start of a new line) in mrkdwn.
FORMATTING = frozenset("*_~`\n\r\v\f\u2028\u2029")


def unescape(text: str) -> str:
    for entity, char in _UNESCAPE:
        text = text.replace(entity, char)
    return text


def escape(text: str) -> str:
    """User or provider text, shown as typed inside a mrkdwn field (see the module's notes)."""
    text = unescape(text).translate(_LOOKALIKES)
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
