"""The /integrations parser, on its own."""

import pytest

from handlers.grammar import SUBCOMMANDS, Command, UsageError, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("overview")),
        ("   ", Command("overview")),
        ("help", Command("help")),
        ("STATUS", Command("status")),
        ("connect xero", Command("connect", ("xero",))),
        ("connect QuickBooks", Command("connect", ("quickbooks",))),
        ("connect qbo", Command("connect", ("quickbooks",))),
        ("connect quickbooks-online", Command("connect", ("quickbooks",))),
        ("refresh", Command("refresh")),
        ("refresh full", Command("refresh", ("full",))),
        ("warn-new-supplier OFF", Command("warn-new-supplier", ("off",))),
        ("admins", Command("admins", ("list",))),
        ("admins list", Command("admins", ("list",))),
        ("admins add <@U012AB3CD|sam>", Command("admins", ("add", "U012AB3CD"))),
        ("admins remove <@W012AB3CD>", Command("admins", ("remove", "W012AB3CD"))),
        ("submit", Command("submit")),
    ],
)
def test_valid_commands(text, expected):
    """Every form in the grammar parses to its command."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "suggestion"),
    [
        ("stauts", "I don't know `stauts`.", "/integrations status"),
        ("conect xero", "I don't know `conect`.", "/integrations connect xero"),
        ("connect", "Which accounting software?", None),
        ("connect sage", "I can't connect to `sage`", None),
        ("connect xeor", "I can't connect to `xeor`", "/integrations connect xero"),
        ("refresh now", "Usage: `/integrations refresh [full]`", None),
        ("warn-new-supplier maybe", "Usage: `/integrations warn-new-supplier on|off`", None),
        ("admins add", "Usage: `/integrations admins add @user`", None),
        ("admins add bob", "`bob` isn't a Slack user", None),
        ("status please", "`status` takes no arguments", None),
    ],
)
def test_usage_errors(text, message, suggestion):
    """Malformed commands raise a UsageError saying what was wrong, with a suggestion."""
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert message in caught.value.message
    if suggestion:
        assert caught.value.suggestion == suggestion


def test_hostile_words_are_escaped_in_errors():
    """User text echoed in an error cannot ping a channel or break out of code formatting."""
    with pytest.raises(UsageError) as caught:
        parse("<!channel>`x` &")
    assert "<!channel>" not in caught.value.message
    assert "&lt;!channel&gt;" in caught.value.message


def test_huge_input_is_refused():
    """A very long command is refused instead of being processed."""
    with pytest.raises(UsageError, match="too long"):
        parse("help " * 1000)


def test_grammar_covers_the_design_contract():
    """The subcommands are exactly those DESIGN.md pins."""
    assert set(SUBCOMMANDS) == {
        "connect",
        "reconnect",
        "disconnect",
        "refresh",
        "status",
        "settings",
        "warn-new-supplier",
        "submit",
        "admins",
        "help",
    }
