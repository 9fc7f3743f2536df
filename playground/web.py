"""The two Flask helpers every playground view uses: a JSON answer, and the body read as JSON."""

from __future__ import annotations

import json

import flask


def json_answer(data, status: int = 200) -> flask.Response:
    """`data` as a JSON answer; unlike `flask.jsonify`, it needs no app context (the ledger's
    controls run outside a request too)."""
    return flask.Response(json.dumps(data), status, mimetype="application/json")


def json_body():
    """The request body parsed as JSON; ValueError or UnicodeDecodeError when it is not."""
    return json.loads(flask.request.get_data())
