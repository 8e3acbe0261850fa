"""``range``: every value of ``column`` is within ``min`` and ``max`` — numbers, or dates and
timestamps when the bounds are ISO dates. A value that is not a number (or not a date) is out of
range too; empty cells are not judged."""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.ingest.rules import ValueTest, named_column, plural, quoted_values


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    name, absent = named_column(params, columns)
    if absent:
        return [absent]
    col = quote_ident(name)
    low, high = params.get("min"), params.get("max")
    dates = isinstance(low if low is not None else high, str)
    kind = "TIMESTAMP" if dates else "DOUBLE"
    value = f"TRY_CAST({col} AS {kind})"

    def bound(b: Any) -> str:
        return f"CAST({sql_literal(str(b))} AS TIMESTAMP)" if dates else repr(float(b))

    outside = [f"{value} IS NULL"]
    if low is not None:
        outside.append(f"{value} < {bound(low)}")
    if high is not None:
        outside.append(f"{value} > {bound(high)}")
    span = f"between {low} and {high}" if low is not None and high is not None else (
        f"≥ {low}" if low is not None else f"≤ {high}")  # fmt: skip
    what = "a date" if dates else "a number"

    def describe(n: int, found: list[str]) -> str:
        return f"{name} is not {what} {span} in {plural(n, 'row')}: {quoted_values(found)}"

    return [ValueTest(f"{col} IS NOT NULL AND ({' OR '.join(outside)})", describe, example=col, column=name)]
