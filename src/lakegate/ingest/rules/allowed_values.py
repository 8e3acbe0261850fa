"""``allowed_values``: ``column`` holds only the listed ``values`` (empty cells are not judged;
``not_null`` does that). Numbers compare as numbers in a numeric column, everything else as text."""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.ingest.rules import ValueTest, named_column, plural, quoted_values
from lakegate.types import parse_type

NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
           "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}  # fmt: skip


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    name, absent = named_column(params, columns)
    if absent:
        return [absent]
    col, values = quote_ident(name), params["values"]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numbers and parse_type(columns[name]).name in NUMERIC:
        value, listed = col, ", ".join(repr(v) for v in values)
    else:
        value = f"CAST({col} AS VARCHAR)"
        listed = ", ".join(sql_literal(str(v).lower() if isinstance(v, bool) else str(v)) for v in values)

    def describe(n: int, found: list[str]) -> str:
        return f"{name} is not one of the allowed values in {plural(n, 'row')}: {quoted_values(found)}"

    return [ValueTest(f"{col} IS NOT NULL AND {value} NOT IN ({listed})", describe, example=col, column=name)]
