"""The key that encrypts tokens at rest: provider tokens and Slack installations' tokens
(Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from LEDGERLINK_SECRET_KEY, or from a key file beside the database that is created
with mode 0600 on first run. LEDGERLINK_SECRET_KEY may hold several comma-separated keys: the
first encrypts, all decrypt, so keys can be rotated without losing stored tokens.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(ValueError):
    pass


def key_file_for(db_path: str | Path) -> Path:
    return Path(f"{db_path}.key")


def load_cipher(db_path: str | Path, secret_key: str | None) -> MultiFernet:
    if secret_key:
        keys = [part.strip() for part in secret_key.split(",") if part.strip()]
        try:
            return MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError):
            raise SecretKeyError(
                "LEDGERLINK_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes; "
                'make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None
    return MultiFernet([Fernet(_read_or_create_key_file(key_file_for(db_path)))])


def _read_or_create_key_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        try:
            Fernet(key)
        except ValueError:
            raise SecretKeyError(f"key file {path} does not hold a Fernet key") from None
        return key
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


class Cipher:
    """Encrypts and decrypts short secrets (tokens) as text."""

    def __init__(self, fernet: MultiFernet):
        self._fernet = fernet

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode("ascii")).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored token cannot be decrypted with the configured key "
                "(was LEDGERLINK_SECRET_KEY or the key file changed?)"
            ) from None
