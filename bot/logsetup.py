"""Logging with secrets scrubbed from every line, tracebacks included.

Handlers should never log a secret in the first place; this is the second line of defence:
Slack tokens, bearer credentials, ledgerlink API tokens and every configured secret value are
replaced by `[redacted]` in the formatted output.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Each pattern keeps its first group and replaces the rest of the match.
PATTERNS = (
    re.compile(r"()xox[abeoprs]-[0-9A-Za-z-]+"),
    re.compile(r"()xapp-[0-9A-Za-z-]+"),
    re.compile(r"()llk_[0-9A-Za-z_-]{20,}"),
    re.compile(r"(?i)(bearer )[^\s'\",]+"),
    re.compile(r"(?i)((?:access_token|refresh_token|client_secret|code)=)[^&\s'\"]+"),
    re.compile(r"(?i)(\"(?:access_token|refresh_token|id_token)\":\s*\")[^\"]+"),
)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str] = ()):
        super().__init__(fmt)
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in PATTERNS:
            text = pattern.sub(r"\1[redacted]", text)
        return text


# Libraries whose debug output can include request bodies: WARNING and above unless asked.
QUIETED = ("slack_sdk", "slack_bolt", "httpx", "httpcore", "authlib")


def configure(secrets: Iterable[str] = (), *, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIETED:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
