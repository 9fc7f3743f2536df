"""ledgerlink's own errors that handlers can explain to the user in one sentence.

Provider errors live in `providers.base`; configuration errors in `bot.config`.
"""


class UserFacingError(Exception):
    """An error whose message is written for the person who asked (mrkdwn-safe)."""


class SlackUnavailable(UserFacingError):
    """Slack's Web API could not answer a question ledgerlink needed answered."""
