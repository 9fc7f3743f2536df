"""GET /oauth/{provider}/callback: where Xero and QuickBooks send the admin after login."""

from __future__ import annotations

import flask

from bot.http import query
from bot.pages import result_page

PROVIDERS = ("xero", "quickbooks", "sandbox")  # sandbox: only `ledgerlink demo` sets it up


def provider_callback_blueprint(connections, providers: dict) -> flask.Blueprint:
    callbacks = flask.Blueprint("oauth", __name__)

    @callbacks.get("/oauth/<provider>/callback")
    def callback(provider: str):
        if provider not in PROVIDERS:
            return (
                result_page(
                    title="Unknown provider",
                    message="ledgerlink only connects to Xero and QuickBooks.",
                    ok=False,
                    team_id=None,
                ),
                404,
            )
        if provider not in providers:
            return (
                result_page(
                    title="Not set up",
                    message="This ledgerlink server is not set up for this provider.",
                    ok=False,
                    team_id=None,
                ),
                400,
            )
        result = connections.handle_callback(provider, query())
        page = result_page(
            title=result.title, message=result.message, ok=result.ok, team_id=result.team_id
        )
        return page, result.status  # Flask sends a str as text/html

    return callbacks
