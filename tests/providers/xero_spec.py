"""Xero's published OpenAPI spec as test data: example fixtures and request-body validation.

The specs (XeroAPI/Xero-OpenAPI, see SOURCE beside them) are vendored in `tests/specs/xero/`;
a checkout without them falls back to the shared copy at `<repo>/../shared/specs/xero/`. They
are read at test time, so the fake Xero answers with the shapes Xero documents, and every body
ledgerlink sends is checked against Xero's own schemas.

YAML is loaded with the timestamp resolver removed, so dates in examples stay the strings Xero
sends (`2019-03-11T00:00:00`) instead of becoming Python datetimes. Some examples are JSON held
in a string (`example: '[ { "id": ... } ]'`); `example()` parses those.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = next(
    (
        path
        for path in (REPO / "tests" / "specs" / "xero", REPO / ".." / "shared" / "specs" / "xero")
        if (path / "xero_accounting.yaml").exists()
    ),
    REPO / "tests" / "specs" / "xero",
)
ACCOUNTING = "xero_accounting.yaml"
IDENTITY = "xero-identity.yaml"


# libyaml's parser when PyYAML has it (five times faster on the 900 KB accounting spec, read
# once per test process); the same documents either way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_SafeLoader):
    """SafeLoader that leaves timestamps as strings."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def load(name: str) -> dict[str, Any]:
    with (SPEC_DIR / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SpecLoader)  # noqa: S506 (a SafeLoader subclass)


def example(
    path: str, method: str = "get", status: str | None = "200", *, spec: str = ACCOUNTING
) -> Any:
    """A fresh copy of an operation's documented example: a response (by status) or, with
    `status=None`, the request body."""
    operation = load(spec)["paths"][path][method]
    if status is None:
        media = operation["requestBody"]["content"]["application/json"]
    else:
        media = operation["responses"][status]["content"]["application/json"]
    value = media["example"]
    return json.loads(value) if isinstance(value, str) else copy.deepcopy(value)


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema: `nullable: true` becomes a "null" type."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False) and "type" in converted:
        kind = converted["type"]
        converted["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    return converted


@functools.cache
def _validator(spec: str, schema: str) -> jsonschema.Draft4Validator:
    uri = f"urn:xero-openapi:{spec}"
    # OpenAPI 3.0 schemas are close to draft 4 (boolean exclusiveMinimum, $ref siblings
    # ignored); the whole spec is one resource so "#/components/schemas/..." refs resolve.
    registry = Registry().with_resource(
        uri, Resource(_as_json_schema(load(spec)), specification=DRAFT4)
    )
    return jsonschema.Draft4Validator(
        {"$ref": f"{uri}#/components/schemas/{schema}"},
        registry=registry,
        format_checker=jsonschema.FormatChecker(),
    )


def validate(schema: str, instance: Any, *, spec: str = ACCOUNTING) -> None:
    """Raise AssertionError naming every way `instance` breaks `#/components/schemas/<schema>`."""
    errors = sorted(_validator(spec, schema).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors
        )
        raise AssertionError(f"body does not match Xero's {schema} schema: {details}")
