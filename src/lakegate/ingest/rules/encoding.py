"""``encoding``: the file's text is in one of the allowed ``values``: ``ascii``, ``utf-8`` (ASCII
included), ``utf-8-sig`` (UTF-8 starting with a byte-order mark), ``latin-1``, ``cp1252``
(Windows-1252), ``utf-16`` (little-endian) or ``utf-16-be``.

lakegate reads all of these (Windows-1252 and big-endian UTF-16 through a derived UTF-8 copy).
This rule narrows that: UTF-8 only, no byte-order mark, or ASCII only — for consumers
downstream that need it. ASCII is checked in the header and in every text column's values,
naming the rows.
"""

from __future__ import annotations

from typing import Any

from lakegate.crawler.detect import MIXED
from lakegate.duck.sql import quote_ident
from lakegate.ingest.rules import Facts, Finding, ValueTest, plural, quoted_values

_NON_ASCII = "'[^\\x00-\\x7F]'"


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    allowed = set(params["values"])
    if facts.detected.encoding != "utf-8":
        found = facts.detected.encoding
        what = "UTF-8 with lines in Windows-1252" if found == MIXED else found
        return None if found in allowed else Finding(f"the file is {what} text", {"encoding": found})
    if facts.detected.bom and "utf-8-sig" not in allowed:
        return Finding("the file starts with a UTF-8 byte-order mark", {"encoding": "utf-8-sig"})
    if allowed & {"utf-8", "utf-8-sig"}:
        return None
    names = [c.original for c in facts.plan.columns if not c.original.isascii()]
    if names:
        return Finding(f"column names are not ASCII: {quoted_values(names)}", {"columns": names})
    return None


def tests(params: dict[str, Any], columns: dict[str, str]) -> list[ValueTest]:
    if set(params["values"]) & {"utf-8", "utf-8-sig"}:
        return []
    out = []
    for name, typ in columns.items():
        if typ != "VARCHAR":
            continue
        col = quote_ident(name)

        def describe(n: int, found: list[str], name: str = name) -> str:
            return f"{name} has text that is not ASCII in {plural(n, 'row')}: {quoted_values(found)}"

        bad = f"regexp_matches({col}, {_NON_ASCII})"
        out.append(ValueTest(bad, describe, example=col, column=name))
    return out
