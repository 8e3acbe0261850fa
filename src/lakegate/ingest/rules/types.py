"""``types``: each listed column reads as the expected type.

Expected types are families — ``integer``, ``number``, ``boolean``, ``date``, ``timestamp``,
``text`` — or any SQL type (``DECIMAL(12,2)``). A column fits when the type the crawler inferred
widens to the expected one without loss (an ``INTEGER`` column fits ``number``; a column that
read as text because of ``n/a`` in one row does not). For a column that does not fit, the rows
whose values cannot be read as the expected type are named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakegate.crawler.infer import quote_ident
from lakegate.crawler.names import identifier
from lakegate.crawler.types import TypeParseError, join, parse_type
from lakegate.ingest.rules import ValueTest, missing, plural, quoted_values


@dataclass(frozen=True)
class Expected:
    label: str  # for messages: "an integer"
    type: str  # the widest type that fits: BIGINT
    readable: str  # SQL over the text ``{v}``: true when it reads as this type


_FAMILIES = {
    "integer": Expected("an integer", "BIGINT", "regexp_full_match(trim({v}), '[+-]?[0-9]+')"),
    "number": Expected("a number", "DOUBLE", "TRY_CAST(trim({v}) AS DOUBLE) IS NOT NULL"),
    "boolean": Expected("true or false", "BOOLEAN", "TRY_CAST(trim({v}) AS BOOLEAN) IS NOT NULL"),
    "date": Expected("a date", "DATE", "TRY_CAST(trim({v}) AS DATE) IS NOT NULL"),
    "timestamp": Expected("a timestamp", "TIMESTAMP", "TRY_CAST(trim({v}) AS TIMESTAMP) IS NOT NULL"),
    "text": Expected("text", "VARCHAR", "true"),
}
_ZONED = "TIMESTAMP WITH TIME ZONE"
_SQL_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN", "VARCHAR", "DATE", "TIME", "TIMESTAMP",
    "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", _ZONED, "INTERVAL", "UUID", "BLOB", "JSON",
}  # fmt: skip


def expected_type(text: str) -> Expected:
    """Raises: ValueError when ``text`` is neither a family nor a SQL type."""
    family = _FAMILIES.get(text.strip().lower())
    if family is not None:
        return family
    try:
        parsed = parse_type(text)
        if parsed.name not in _SQL_TYPES:
            raise TypeParseError(text)
        typ = str(parsed)
    except TypeParseError:
        raise ValueError(
            f"{text!r} is not a type: use integer, number, boolean, date, timestamp, text or a SQL type"
        ) from None
    return Expected(typ, typ, f"TRY_CAST({{v}} AS {typ}) IS NOT NULL")


def fits(inferred: str, expected: Expected) -> bool:
    if inferred == "NULL" or expected.type == "VARCHAR":
        return True
    if expected.type == "TIMESTAMP" and inferred == _ZONED:
        return True
    return str(join(parse_type(inferred), parse_type(expected.type))) == expected.type


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
