"""``not_null``: the ``columns`` have a value in every row (empty or blank text counts as none)."""

from __future__ import annotations

from typing import Any

from lakegate.duck.sql import quote_ident
from lakegate.ingest.rules import ValueTest, missing, plural
from lakegate.names import identifier


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    out = []
    for name in (identifier(str(c)) for c in params["columns"]):
        absent = missing(name, columns)
        if absent:
            out.append(absent)
            continue
        col = quote_ident(name)
        blank = f" OR regexp_full_match({col}, '\\s*')" if columns[name] == "VARCHAR" else ""

        def describe(n: int, _values: list[str], name: str = name) -> str:
            return f"{name} is empty in {plural(n, 'row')}"

        out.append(ValueTest(f"{col} IS NULL{blank}", describe, column=name))
    return out
