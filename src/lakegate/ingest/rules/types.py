"""``types``: each listed column reads as the expected type.

Expected types are families — ``integer``, ``number``, ``boolean``, ``date``, ``timestamp``,
``text`` — or any SQL type (``DECIMAL(12,2)``). A column fits when the type the crawler inferred
widens to the expected one without loss (an ``INTEGER`` column fits ``number``; a column that
read as text because of ``n/a`` in one row does not). For a column that does not fit, the rows
whose values cannot be read as the expected type are named.
"""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident
from lakegate.ingest.rules import ValueTest, missing, plural, quoted_values
from lakegate.names import identifier
from lakegate.types import expected_type, fits


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    out = []
    for column, text in params["types"].items():
        name, expected = identifier(column), expected_type(text)
        absent = missing(name, columns)
        if absent:
            out.append(absent)
            continue
        if fits(columns[name], expected):
            continue
        col = quote_ident(name)
        readable = expected.readable.format(v=f"CAST({col} AS VARCHAR)")

        def describe(n: int, found: list[str], name: str = name, label: str = expected.label) -> str:
            return f"{name} is not {label} in {plural(n, 'row')}: {quoted_values(found)}"

        out.append(
            ValueTest(
                f"{col} IS NOT NULL AND NOT ({readable})",
                describe,
                example=col,
                column=name,
                always=f"{name} reads as {columns[name]}, not {expected.label}",
            )
        )
    return out
