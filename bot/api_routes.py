"""The items HTTP API: POST /api/items and GET /api/items/{id}, with bearer API tokens.

Tokens come from `ledgerlink token create --team T`; a token acts only within its team.
Errors are JSON: 401 for a missing, unknown or revoked token, 400 with per-field `errors` (an
unknown or ambiguous category also lists the closest account names in `suggestions`),
404 for an item that is not the token's team's, 413 for bodies over 1 MiB (bot.http).
"""

from __future__ import annotations

import json

import flask
from flask import jsonify

from bot.item_input import parse_item
from handlers.payloads import parse_id


def _authenticate(store):
    header = flask.request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return store.authenticate_api_token(token.strip())


def _unauthorized():
    error = (
        "missing, unknown or revoked API token; send "
        "'Authorization: Bearer <token>' (ledgerlink token create)"
    )
    return jsonify(error=error), 401, {"WWW-Authenticate": 'Bearer realm="ledgerlink"'}


def item_json(item, store) -> dict:
    return {
        "id": item.id,
        "status": item.status,
        "external_id": item.external_id,
        "supplier": item.supplier_name,
        "supplier_id": item.supplier_id,
        "supplier_name": item.supplier_display,
        "date": item.date,
        "total": item.total,
        "currency": item.currency,
        "reference": item.reference,
        "hold_reason": item.hold_reason,
        "duplicate_of": item.duplicate_of,
        "error": item.last_error,
        "bill_id": item.bill_id,
        "bill_url": item.bill_url,
        "next_attempt_at": item.next_attempt_at,
        "history": store.item_events(item.id),
    }


def items_blueprint(store, items) -> flask.Blueprint:
    api = flask.Blueprint("items", __name__)

    @api.post("/api/items")
    def create():
        token = _authenticate(store)
        if token is None:
            return _unauthorized()
        try:
            data = json.loads(flask.request.get_data() or b"null")
        except (ValueError, UnicodeDecodeError):
            return jsonify(errors={"body": "not valid JSON"}), 400
        parsed, errors = parse_item(data)
        if errors:
            return jsonify(errors=errors), 400
        # The category must name an account of the synced chart (by code, name or id); it is
        # fixed to that account's id now, so a rename at the provider later changes nothing.
        category = items.check_category(token.team_id, parsed.category)
        if category is not None and category.error:
            return jsonify(
                errors={"category": category.error},
                suggestions={"category": list(category.suggestions)},
            ), 400
        item, created = items.submit(
            token.team_id,
            parsed,
            source="api",
            category_account_id=category.account.remote_id if category else None,
        )
        return jsonify(id=item.id, status=item.status), 201 if created else 200

    @api.get("/api/items/<item_id>")
    def show(item_id: str):
        token = _authenticate(store)
        if token is None:
            return _unauthorized()
        number = parse_id(item_id)
        item = None if number is None else store.team_item(token.team_id, number)
        if item is None:
            return jsonify(error="no such item"), 404
        return jsonify(item_json(item, store))

    return api
