"""``regex``: every value of ``column`` fully matches ``pattern`` (RE2 syntax; empty cells are
not judged)."""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.ingest.rules import ValueTest, named_column, plural, quoted_values


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    name, absent = named_column(params, columns)
    if absent:
        return [absent]
    col, pattern = quote_ident(name), params["pattern"]

    def describe(n: int, found: list[str]) -> str:
        return f"{name} does not match {pattern!r} in {plural(n, 'row')}: {quoted_values(found)}"

    bad = f"{col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), {sql_literal(pattern)})"
    return [ValueTest(bad, describe, example=col, column=name)]
