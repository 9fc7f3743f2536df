"""Workspaces (Slack teams) and their settings."""

from __future__ import annotations

from dataclasses import dataclass

from store.timeutil import iso

BILL_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")


@dataclass(frozen=True)
class Settings:
    warn_new_supplier: bool = True
    notification_channel: str | None = None
    bill_status: str = "DRAFT"
    default_account_code: str | None = None


class WorkspaceQueries:
    def ensure_workspace(
        self, team_id: str, *, team_name: str | None = None, enterprise_id: str | None = None
    ) -> None:
        """Record a workspace the first time ledgerlink hears from it; a reinstall revives it."""
        with self.database.write() as db:
            db.execute(
                "INSERT INTO workspaces (team_id, team_name, enterprise_id, installed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (team_id) DO UPDATE SET "
                "team_name = COALESCE(excluded.team_name, workspaces.team_name), "
                "uninstalled_at = NULL",
                (team_id, team_name, enterprise_id, iso(self.clock.now())),
            )

    def mark_uninstalled(self, team_id: str) -> None:
        self.database.execute(
            "UPDATE workspaces SET uninstalled_at = ? WHERE team_id = ?",
            (iso(self.clock.now()), team_id),
        )

    def workspace(self, team_id: str) -> dict | None:
        return self.database.row("SELECT * FROM workspaces WHERE team_id = ?", (team_id,))

    def settings(self, team_id: str) -> Settings:
        row = self.workspace(team_id)
        if row is None:
            return Settings()
        return Settings(
            warn_new_supplier=bool(row["warn_new_supplier"]),
            notification_channel=row["notification_channel"],
            bill_status=row["bill_status"],
            default_account_code=row["default_account_code"],
        )

    def save_settings(self, team_id: str, settings: Settings) -> None:
        if settings.bill_status not in BILL_STATUSES:
            raise ValueError(f"unknown bill status {settings.bill_status!r}")
        self.ensure_workspace(team_id)
        self.database.execute(
            "UPDATE workspaces SET warn_new_supplier = ?, notification_channel = ?, "
            "bill_status = ?, default_account_code = ? WHERE team_id = ?",
            (
                int(settings.warn_new_supplier),
                settings.notification_channel,
                settings.bill_status,
                settings.default_account_code,
                team_id,
            ),
        )
