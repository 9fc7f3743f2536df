"""Configuration: one frozen dataclass built from the environment.

`Config.from_env(environ)` parses and checks every value it reads; `Config.check_serve(socket_mode)`
adds the checks that depend on how the app is run. Both raise `ConfigError`, whose message names
the variable and what is wrong, so the CLI can print it on one line and exit 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from providers.quickbooks import DEFAULT_TOKEN_URL

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_XERO_SCOPES = "offline_access accounting.settings accounting.contacts accounting.invoices"
QBO_API_URLS = {
    "production": "https://quickbooks.api.intuit.com",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
}

# Every variable ledgerlink reads (DESIGN.md's table); README.md documents each one.
ENV_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "LEDGERLINK_DB",
    "LEDGERLINK_PUBLIC_URL",
    "LEDGERLINK_SECRET_KEY",
    "LEDGERLINK_ADMINS",
    "LEDGERLINK_SYNC_INTERVAL_HOURS",
    "LEDGERLINK_CONNECTION_LIFETIME_DAYS",
    "LEDGERLINK_REMINDER_DAYS",
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_LOGIN_URL",
    "XERO_IDENTITY_URL",
    "XERO_API_URL",
    "XERO_SCOPES",
    "QBO_CLIENT_ID",
    "QBO_CLIENT_SECRET",
    "QBO_ENVIRONMENT",
    "QBO_API_URL",
    "QBO_AUTH_URL",
    "QBO_TOKEN_URL",
)

SLACK_CREDENTIALS_HELP = (
    "no Slack credentials: set SLACK_BOT_TOKEN (one workspace), or SLACK_CLIENT_ID and "
    "SLACK_CLIENT_SECRET (install into many workspaces at /slack/install), or SLACK_APP_TOKEN "
    "with --socket-mode (no public URL needed)"
)


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class ProviderCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Config:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    db_path: str = "./ledgerlink.db"
    public_url: str = "http://localhost:3000"
    secret_key: str | None = None
    admins: tuple[str, ...] = ()
    sync_interval_hours: int = 48
    connection_lifetime_days: int = 365
    reminder_days: tuple[int, ...] = (30, 7, 1)
    xero: ProviderCredentials | None = None
    xero_login_url: str = "https://login.xero.com"
    xero_identity_url: str = "https://identity.xero.com"
    xero_api_url: str = "https://api.xero.com"
    xero_scopes: str = DEFAULT_XERO_SCOPES
    quickbooks: ProviderCredentials | None = None
    qbo_environment: str = "production"
    qbo_api_url: str = QBO_API_URLS["production"]
    qbo_auth_url: str = "https://appcenter.intuit.com/connect/oauth2"
    qbo_token_url: str = DEFAULT_TOKEN_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        env = _Env(environ)
        qbo_environment = env.choice("QBO_ENVIRONMENT", QBO_API_URLS, "production")
        return cls(
            slack_bot_token=env.text("SLACK_BOT_TOKEN", prefix="xoxb-"),
            slack_signing_secret=env.text("SLACK_SIGNING_SECRET"),
            slack_app_token=env.text("SLACK_APP_TOKEN", prefix="xapp-"),
            slack_client_id=env.text("SLACK_CLIENT_ID"),
            slack_client_secret=env.text("SLACK_CLIENT_SECRET"),
            slack_api_url=_with_slash(env.url("SLACK_API_URL", DEFAULT_SLACK_API_URL)),
            db_path=env.text("LEDGERLINK_DB") or "./ledgerlink.db",
            public_url=env.url("LEDGERLINK_PUBLIC_URL", "http://localhost:3000").rstrip("/"),
            secret_key=env.text("LEDGERLINK_SECRET_KEY"),
            admins=env.user_ids("LEDGERLINK_ADMINS"),
            sync_interval_hours=env.positive_int("LEDGERLINK_SYNC_INTERVAL_HOURS", 48),
            connection_lifetime_days=env.positive_int("LEDGERLINK_CONNECTION_LIFETIME_DAYS", 365),
            reminder_days=env.day_list("LEDGERLINK_REMINDER_DAYS", (30, 7, 1)),
            xero=env.credentials("XERO_CLIENT_ID", "XERO_CLIENT_SECRET"),
            xero_login_url=env.url("XERO_LOGIN_URL", "https://login.xero.com").rstrip("/"),
            xero_identity_url=env.url("XERO_IDENTITY_URL", "https://identity.xero.com").rstrip("/"),
            xero_api_url=env.url("XERO_API_URL", "https://api.xero.com").rstrip("/"),
            xero_scopes=" ".join((env.text("XERO_SCOPES") or DEFAULT_XERO_SCOPES).split()),
            quickbooks=env.credentials("QBO_CLIENT_ID", "QBO_CLIENT_SECRET"),
            qbo_environment=qbo_environment,
            qbo_api_url=env.url("QBO_API_URL", QBO_API_URLS[qbo_environment]).rstrip("/"),
            qbo_auth_url=env.url("QBO_AUTH_URL", cls.qbo_auth_url),
            qbo_token_url=env.url("QBO_TOKEN_URL", cls.qbo_token_url),
        )

    @property
    def multi_workspace(self) -> bool:
        return self.slack_client_id is not None

    def check_serve(self, *, socket_mode: bool) -> None:
        """Raise ConfigError if this configuration cannot serve in the chosen mode."""
        if self.slack_bot_token and self.slack_client_id:
            raise ConfigError(
                "SLACK_CLIENT_ID",
                "set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (many workspaces), not both",
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise ConfigError(
                missing,
                "multi-workspace install needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
            )
        if socket_mode:
            if not self.slack_app_token:
                raise ConfigError(
                    "SLACK_APP_TOKEN", "--socket-mode needs an app-level token (xapp-...)"
                )
            if not (self.slack_bot_token or self.slack_client_id):
                raise ConfigError(
                    "SLACK_BOT_TOKEN",
                    "Socket Mode also needs SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and "
                    "SLACK_CLIENT_SECRET",
                )
            return
        if not (self.slack_bot_token or self.slack_client_id):
            raise ConfigError("SLACK_BOT_TOKEN", SLACK_CREDENTIALS_HELP)
        if not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET",
                "required in HTTP mode to verify requests from Slack (Basic Information > "
                "App Credentials > Signing Secret)",
            )

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)


class _Env:
    """Typed reads of environment variables; blank values count as unset."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    def text(self, name: str, *, prefix: str | None = None) -> str | None:
        value = (self._environ.get(name) or "").strip()
        if not value:
            return None
        if prefix and not value.startswith(prefix):
            raise ConfigError(name, f"should start with {prefix!r}")
        return value

    def url(self, name: str, default: str) -> str:
        return self._read(name, default, _url)

    def positive_int(self, name: str, default: int) -> int:
        return self._read(name, default, _positive_int)

    def day_list(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        return self._read(name, default, _day_list)

    def user_ids(self, name: str) -> tuple[str, ...]:
        return self._read(name, (), _user_ids)

    def choice(self, name: str, choices: Mapping[str, object], default: str) -> str:
        def known(name: str, value: str) -> str:
            if value not in choices:
                raise ConfigError(name, f"expected one of {', '.join(choices)}; got {value!r}")
            return value

        return self._read(name, default, known)

    def _read(self, name: str, default, parse: Callable[[str, str], object]):
        """`default` when the variable is unset or blank, else `parse(name, value)`, which
        raises ConfigError naming the variable when the value is malformed."""
        value = self.text(name)
        return default if value is None else parse(name, value)

    def credentials(self, id_name: str, secret_name: str) -> ProviderCredentials | None:
        client_id, secret = self.text(id_name), self.text(secret_name)
        if client_id and secret:
            return ProviderCredentials(client_id, secret)
        if client_id or secret:
            missing = secret_name if client_id else id_name
            raise ConfigError(missing, f"set both {id_name} and {secret_name}, or neither")
        return None


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"not an http(s) URL: {value!r}")
    return value


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"not a whole number: {value!r}") from None
    if number <= 0:
        raise ConfigError(name, f"must be greater than 0, got {number}")
    return number


def _day_list(name: str, value: str) -> tuple[int, ...]:
    days = []
    for part in value.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) <= 0:
            raise ConfigError(name, f"expected whole days like 30,7,1; got {value!r}")
        days.append(int(part))
    return tuple(sorted(set(days), reverse=True))


def _user_ids(name: str, value: str) -> tuple[str, ...]:
    ids = [part.strip() for part in value.split(",") if part.strip()]
    for user_id in ids:
        if not user_id.isalnum() or user_id[0] not in "UW":
            raise ConfigError(name, f"not a Slack user ID (like U012AB3CD): {user_id!r}")
    return tuple(ids)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
