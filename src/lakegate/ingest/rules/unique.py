"""``unique``: no two rows share a value of the ``columns`` (taken together).

Rows where any of the columns is empty are not compared, as in SQL's UNIQUE. Every row of a
repeated value is reported, the first occurrence included.
"""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident
from lakegate.ingest.rules import ValueTest, missing, plural, quoted_values
from lakegate.names import identifier


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    names = [identifier(str(c)) for c in params["columns"]]
    absent = [t for t in (missing(n, columns) for n in names) if t is not None]
    if absent:
        return absent
    cols = [quote_ident(n) for n in names]
    present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    key = cols[0] if len(cols) == 1 else f"concat_ws(' | ', {', '.join(cols)})"
    label = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"

    def describe(n: int, values: list[str]) -> str:
        return f"{plural(n, 'row')} share a value of {label} with another row: {quoted_values(values)}"

    bad = f"{present} AND count(*) OVER (PARTITION BY {', '.join(cols)}) > 1"
    struct = cols[0] if len(cols) == 1 else "{" + ", ".join(f"'{i}': {c}" for i, c in enumerate(cols)) + "}"
    screen = f"count(*) FILTER (WHERE {present}) - count(DISTINCT {struct}) FILTER (WHERE {present})"
    return [ValueTest(bad, describe, example=key, column=label, screen=screen)]
