"""Typing text columns: which candidate type every value of a column reads as, and the null
tokens (``-``, ``n/a``) a column uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb

from lakegate.crawler.detect import Detected
from lakegate.crawler.dialect import Dialect
from lakegate.duck.readers import FilePlan, reader_sql
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.schema import Column

CANDIDATE_TYPES = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN")


def castable(value: str, where: str = "TRUE") -> list[str]:
    """Per candidate type, how many rows meeting ``where`` have ``value`` readable as that type."""
    return [
        # TRY_CAST rounds '1.5' to an integer: integers are recognised by their digits
        f"count(*) FILTER (WHERE {where} AND regexp_full_match(trim({value}), '[+-]?[0-9]+'))"
        if t == "BIGINT"
        else f"count(*) FILTER (WHERE {where} AND TRY_CAST({value} AS {t}) IS NOT NULL)"
        for t in CANDIDATE_TYPES
    ]


def type_columns(
    conn: duckdb.DuckDBPyConnection, path: str, fixed: dict[str, Any], dialect: Dialect, detected: Detected
) -> tuple[Any, ...]:
    """What ``sniff_csv`` would answer, for a file it cannot sniff: each column's narrowest type
    that every value of it casts to (text when none does), from one read of the whole file."""
    raw = [(f"c{i}", "VARCHAR") for i in range(dialect.columns)]
    options = {**fixed, "compression": detected.compression, "ignore_errors": True, "strict_mode": False}
    if detected.encoding != "utf-8":
        options["encoding"] = detected.encoding
    reader = reader_sql([path], "csv", options, raw)
    checks = [sql for name, _ in raw for sql in (f"count({name})", *castable(name))]
    [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {reader}").fetchall()
    width = 1 + len(CANDIDATE_TYPES)
    columns = []
    for i, name in enumerate(dialect.names or [f"column{i}" for i in range(dialect.columns)]):
        present, *fits = row[i * width : (i + 1) * width]
        typ = next(
            (t for t, n in zip(CANDIDATE_TYPES, fits, strict=True) if present and n == present), "VARCHAR"
        )
        columns.append({"name": name, "type": typ if present else "VARCHAR"})
    return (
        fixed["delim"],
        fixed["quote"],
        fixed["escape"],
        "",
        "",
        fixed["skip"],
        fixed["header"],
        columns,
        "",
        "",
    )


def null_tokens(
    conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, tokens: tuple[str, ...]
) -> FilePlan:
    """Read ``tokens`` (``NA``, ``-``...) as NULL when that gives their columns a real type.

    Each column with tokens takes the type all its other values have; a column where a token is
    a value of its own (a country code ``NA`` is Namibia) keeps them as text. The reader's null
    strings apply to every column, so when some column keeps its tokens, the others convert
    theirs in the projection (``column_nulls``). Decided over the whole file, read as text.
    """
    listed = ", ".join(sql_literal(t) for t in tokens)
    options = {**plan.options, "ignore_errors": True}
    text = reader_sql([path], "csv", options, [(c.name, "VARCHAR") for c in plan.columns])
    checks = []
    for c in plan.columns:
        col, real = quote_ident(c.name), f"trim({quote_ident(c.name)}) NOT IN ({listed})"
        checks += [f"count({col})", f"count(*) FILTER (WHERE NOT {real})", *castable(f"trim({col})", real)]
    try:
        [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {text}").fetchall()
    except duckdb.Error:
        return plan
    width = 2 + len(CANDIDATE_TYPES)
    retype: dict[str, str] = {}
    valued = False  # some column holds a token as a value of its own
    for i, c in enumerate(plan.columns):
        present, nulls, *fits = row[i * width : (i + 1) * width]
        if not nulls:
            continue
        typ = next((t for t, n in zip(CANDIDATE_TYPES, fits, strict=True) if n == present - nulls > 0), None)
        if typ is None:
            valued = True  # a token is a value in this column: it keeps its tokens as text
        else:
            retype[c.name] = typ
    if not retype:
        return plan
    columns = [replace(c, type=retype[c.name]) if c.name in retype else c for c in plan.columns]
    where = ", ".join(c.name for c in columns if c.name in retype)
    said = f"{', '.join(tokens)} read as empty values (in {where})"
    if valued:  # the reader's null strings are the whole file's: these columns convert their own
        options = {**plan.options, "column_nulls": {name: list(tokens) for name in retype}}
    else:
        options = {**plan.options, "nullstr": ["", *tokens]}
    return replace(plan, columns=columns, options=options, warnings=[*plan.warnings, said])


def strict_booleans(
    conn: duckdb.DuckDBPyConnection, text_reader: str, columns: list[Column], *, yes_no: bool = False
) -> tuple[list[Column], list[str]]:
    """Columns typed BOOLEAN only where every value is spelled ``true`` or ``false`` (any case):
    a column of ``F`` and ``O`` letters, ``Y``/``N`` or ``0``/``1`` is letters or digits, not
    booleans — a file of only ``F`` would otherwise read ``false`` once another file's ``O``
    widens the column to text. Digits become BIGINT, anything else VARCHAR; said in warnings.
    Decided over the whole file, read as text by ``text_reader``; ``yes_no``: ``yes`` and ``no``
    are booleans too (a dataset that says so)."""
    flagged = [c for c in columns if c.type == "BOOLEAN"]
    if not flagged:
        return columns, []
    checks = []
    words = "'true', 'false'" + (", 'yes', 'no'" if yes_no else "")
    for c in flagged:
        value = f"trim({quote_ident(c.name)})"
        checks += [
            f"count(*) FILTER (WHERE {value} IS NOT NULL AND lower({value}) NOT IN ({words}))",
            f"count(*) FILTER (WHERE {value} IS NOT NULL AND NOT regexp_full_match({value}, '[+-]?[0-9]+'))",
        ]
    try:
        [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {text_reader}").fetchall()
    except duckdb.Error:
        return columns, []
    retyped = {
        c.name: "BIGINT" if not_digits == 0 else "VARCHAR"
        for c, not_words, not_digits in zip(flagged, row[::2], row[1::2], strict=True)
        if not_words
    }
    if not retyped:
        return columns, []
    said = [
        f"{name}: read as {typ}, not booleans (only true and false are booleans)"
        for name, typ in retyped.items()
    ]
    return [replace(c, type=retyped[c.name]) if c.name in retyped else c for c in columns], said
