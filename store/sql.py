"""Statements built from named values, so each column stands beside its value exactly once.

Column and table names come from this package's code, never from input; they are checked
anyway, and every value is bound as a parameter.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

_NAME = re.compile(r"[a-z_][a-z0-9_]*")

T = TypeVar("T")


def _names(names: Mapping[str, Any] | tuple[str, ...]) -> list[str]:
    for name in names:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a column or table name: {name!r}")
    return list(names)


def insert(table: str, values: Mapping[str, Any]) -> tuple[str, tuple]:
    """`INSERT INTO table (a, b) VALUES (?, ?)` and its parameters, from {column: value}."""
    (table,) = _names((table,))
    columns = _names(values)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    return sql, tuple(values.values())


def assignments(values: Mapping[str, Any]) -> tuple[str, tuple]:
    """`a = ?, b = ?` for an UPDATE's SET clause and its parameters, from {column: value}."""
    return ", ".join(f"{name} = ?" for name in _names(values)), tuple(values.values())


def from_row(cls: type[T], row: Mapping[str, Any], **converted: Any) -> T:
    """The dataclass `cls` from a row: each field from the column of its name, unless it is
    given (decrypted, parsed, or not a column at all) in `converted`."""
    return cls(
        **{
            field.name: converted[field.name] if field.name in converted else row[field.name]
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        }
    )
