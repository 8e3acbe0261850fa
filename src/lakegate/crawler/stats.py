"""The full read of a file: its rows counted, every value parsed, and per-column statistics
(nulls, minimum, maximum) kept for pruning — in the same read as the dataset's value checks.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from lakegate.duck.readers import COPY_OPTIONS, FilePlan, Screen, plan_select
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.schema import Column


def read_all(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    plan: FilePlan,
    screen: Screen | None,
    *,
    copy_to: str | None = None,
) -> FilePlan:
    """Read every value as ``plan`` says (proving the file parses so), counting its rows.

    count(col) for every column forces every value to be parsed and converted: projection
    pushdown would otherwise let a bad value in an unread column pass. When the screen's
    aggregates fail (a pattern the engine refuses, say), the file is read again without them:
    the checks then run on their own and say what is wrong with them. The same read sums every
    row's hash (``row_hash``), which the file's Parquet copy must match.

    ``copy_to``: the file's Parquet copy is written in this same read (``read_into_copy``), and
    the rest is computed from it; the plain read follows when that cannot be done.
    """
    if copy_to is not None:
        copied = read_into_copy(conn, path, plan, screen, copy_to)
        if copied is not None:
            return copied
    row, stats, screened = counted(conn, f"({plan_select(path, plan)})", plan.columns, screen, row_hash=True)
    return replace(plan, rows=int(row[0]), screened=screened, stats=stats, row_hash=str(row[-1]))


COPY_HASH = "__lakegate_row_hash"  # a copy's column holding each row's hash as the file read


def read_into_copy(
    conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, screen: Screen | None, copy_to: str
) -> FilePlan | None:
    """The full read of a file that writes its Parquet copy (to ``copy_to``) as it goes: each row
    is written with its hash as the file read it (``COPY_HASH``), and the counts, statistics and
    checks are then taken from the copy, where every row's hash must be the one it was written
    with and the rows as many as the file gave. One parse of the delivered file, and a copy as
    verified as one checked by reading the file again. ``None`` (nothing left at ``copy_to``)
    when the copy cannot be written or does not match: the plain read then says why, or reads
    the file without it."""
    names = [c.name for c in plan.columns]
    row = ", ".join(quote_ident(n) for n in names) or "1"
    target = sql_literal(copy_to)
    try:
        [(written,)] = conn.execute(
            f"COPY (SELECT *, hash({row}) AS {COPY_HASH} FROM ({plan_select(path, plan)})) "
            f"TO {target} {COPY_OPTIONS}"
        ).fetchall()
        mismatched = f"count(*) FILTER (WHERE hash({row}) IS DISTINCT FROM {COPY_HASH})"
        counts, stats, screened = counted(
            conn, f"read_parquet({target})", plan.columns, screen, row_hash=True, checks=[mismatched]
        )
    except duckdb.Error:
        counts = None
    if counts is None or counts[0] != written or counts[-1] != 0:
        Path(copy_to).unlink(missing_ok=True)
        return None
    done = replace(plan, rows=int(counts[0]), screened=screened, stats=stats, row_hash=str(counts[-2]))
    return replace(done, copy=(copy_to, done.signature()))


STAT_TEXT = 64  # text minimums are kept to this many characters; longer maximums are not kept


def orderable(typ: str) -> bool:
    """Whether a column of type ``typ`` has a minimum and maximum worth keeping."""
    return not any(t in typ for t in ("[", "STRUCT", "MAP", "UNION", "JSON", "BLOB", "NULL"))


def jsonable(value: Any, *, high: bool) -> Any:
    """A statistic as JSON: numbers stay numbers, the rest is text (``None``: not kept)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    text = str(value)  # dates and times as ISO text, decimals exactly
    if isinstance(value, str) and len(text) > STAT_TEXT:
        return None if high else text[:STAT_TEXT]  # a prefix is still a lower bound
    return text


def column_stats(columns: list[Column], values: list[Any]) -> dict[str, dict[str, Any]]:
    """Per column statistics from ``values``: for each column its null count, then (orderable
    columns only) its minimum and maximum."""
    out: dict[str, dict[str, Any]] = {}
    it = iter(values)
    for c in columns:
        nulls = next(it)
        found: dict[str, Any] = {"nulls": int(nulls) if nulls is not None else None}
        if orderable(c.type):
            low, high = jsonable(next(it), high=False), jsonable(next(it), high=True)
            found |= {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        out[c.name] = {k: v for k, v in found.items() if v is not None}
    return out


def stat_sql(columns: list[Column]) -> list[str]:
    out = []
    for c in columns:
        col = quote_ident(c.name)
        out.append(f"count(*) - count({col})")
        if orderable(c.type):
            out += [as_stat(f"min({col})", c.type), as_stat(f"max({col})", c.type)]
    return out


def as_stat(sql: str, typ: str) -> str:
    """Numbers and booleans as they are; everything else as the engine writes it as text (dates
    and times in ISO form, zoned ones with their offset, decimals exactly)."""
    numeric = typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE", "FLOAT", "BOOLEAN")
    return sql if numeric or typ.startswith("U") else f"CAST({sql} AS VARCHAR)"


def row_hash_sql(names: list[str]) -> str:
    """The sum of every row's hash over columns ``names``: equal for the same rows in any order."""
    row = ", ".join(quote_ident(n) for n in names) or "1"
    return f"coalesce(sum(hash({row})::HUGEINT), 0)"


def counted(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[Column],
    screen: Screen | None,
    *,
    row_hash: bool = False,
    checks: list[str] | None = None,
) -> tuple[tuple[Any, ...], dict[str, dict[str, Any]], list[Any] | None]:
    """``count(*)`` and ``count(col)`` of every column over ``source``, its statistics, and the
    screen's aggregates when there are any: the row of counts (then the sum of the rows' hashes
    when ``row_hash``, then the ``checks`` aggregates), the columns' statistics, and the screen's
    results (``None`` when the engine refused them, the file then read again without)."""
    counts = ["count(*)", *(f"count({quote_ident(c.name)})" for c in columns)]
    if row_hash:
        counts.append(row_hash_sql([c.name for c in columns]))
    counts += checks or []
    stats = stat_sql(columns)
    extra = screen(columns) if screen else []
    try:
        # fetchall: a rejects table the read writes is complete only when the query finishes
        [row] = conn.execute(f"SELECT {', '.join(counts + stats + extra)} FROM {source}").fetchall()
    except duckdb.Error:
        if not extra:
            raise
        extra = []  # the checks run on their own, and say why they cannot
        [row] = conn.execute(f"SELECT {', '.join(counts + stats)} FROM {source}").fetchall()
    found = column_stats(columns, list(row[len(counts) : len(counts) + len(stats)]))
    return row[: len(counts)], found, list(row[len(counts) + len(stats) :]) if extra else None


def footer_value(text: Any, typ: str) -> Any:
    """A footer's min or max (text from the engine, a value from pyarrow) as a statistic:
    numbers as numbers, the rest as text."""
    if text is None or not isinstance(text, str):
        return None if isinstance(text, bytes) else text
    try:
        if typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT") or typ.startswith("UINT"):
            return int(text)
        if typ in ("DOUBLE", "FLOAT"):
            return float(text)
        if typ == "BOOLEAN":
            return text.lower() == "true"
        if typ.startswith("DECIMAL"):
            return Decimal(text)
    except (ValueError, ArithmeticError):
        return None
    return text


def footer_stats(chunks: list[Any], columns: list[Column]) -> dict[str, dict[str, Any]]:
    """Column statistics from a Parquet footer's column chunks (top-level columns; what the writer
    recorded, so some may be missing: then that bound is not known)."""
    by_path: dict[str, list[Any]] = {}
    for chunk in chunks:
        by_path.setdefault(chunk[2], []).append(chunk)
    values: list[Any] = []
    for c in columns:
        mine = by_path.get(c.original, [])
        counts = [m[5] for m in mine]
        values.append(None if not mine or None in counts else sum(counts))
        if orderable(c.type):
            lows = [footer_value(m[3], c.type) for m in mine]
            highs = [footer_value(m[4], c.type) for m in mine]
            values.append(None if not mine or None in lows else min(lows))
            values.append(None if not mine or None in highs else max(highs))
    return column_stats(columns, values)
