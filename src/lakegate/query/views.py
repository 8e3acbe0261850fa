"""Building a table's SQL from catalog metadata alone: its columns, its files and their options.

Files that share a format, options, columns and partition keys are read by one reader call;
each group projects the table's columns, casting file types to the table's (wider) types and
filling columns a file lacks with NULL. Partition keys come from the Hive folder names. A file
with a derived Parquet copy (one the engine cannot read in place) is read through the copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from lakegate.catalog.records import FileRecord, TableInfo
from lakegate.duck.readers import reader_name, reader_sql, value_sql
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.keys import DERIVED, MEMBER, is_compacted
from lakegate.query.permissions import restrict

if TYPE_CHECKING:
    from lakegate.query.planner import Plan

__all__ = ["as_text", "duckdb_views", "table_sql"]


def _read_type(typ: str) -> str:
    return "VARCHAR" if typ == "NULL" else typ


def _in_place(f: FileRecord) -> bool:
    """Whether ``f`` (as read) lies outside the lake's ``key=value`` folders: a file registered in
    place by a crawl, or a derived copy. Its partition values then come from the catalog."""
    return "://" in f.key or f.key.startswith(DERIVED)


def _as_read(f: FileRecord) -> FileRecord:
    """The file queries read for ``f``: its derived Parquet copy (lakegate's names, the file's
    types) when it has a current one, else ``f`` itself."""
    if not f.derived_key:
        return f
    columns = [replace(c, original=c.name) for c in f.columns]
    return replace(f, key=f.derived_key, format="parquet", options={}, columns=columns, derived_key=None)


_TEXT_FORMATS = ("csv", "json")


def as_text(f: FileRecord, types: dict[str, str]) -> FileRecord:
    """``f`` with the columns its table widened to text read as the text it holds: a CSV ``F``
    stays ``F`` (not ``false`` cast to text), ``1.50`` stays ``1.50``, ``03/04/2026`` stays
    ``03/04/2026``. Read in place, so a file whose copy is only for speed is read from itself;
    a file whose copy is needed (zip, Excel, another encoding) keeps its copy's typed values."""
    widened = {
        c.name for c in f.columns if types.get(c.name) == "VARCHAR" and c.type not in ("VARCHAR", "NULL")
    }
    if not widened or f.format not in _TEXT_FORMATS or (f.derived_key and not f.accelerated):
        return f
    columns = [replace(c, type="VARCHAR") if c.name in widened else c for c in f.columns]
    return replace(f, columns=columns, derived_key=None, accelerated=False)


def table_sql(table: TableInfo, url: Callable[[str], str]) -> str:
    """A SELECT over every registered file of ``table`` with the table's exact schema."""
    out_cols = [(c.name, _read_type(c.type)) for c in table.columns] + [
        (k, "VARCHAR") for k in table.partition_keys
    ]
    types = dict(out_cols)
    if not table.files:
        select = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(n)}" for n, t in out_cols)
        return f"SELECT {select} WHERE false"
    groups: dict[str, list[FileRecord]] = {}
    compacted: dict[str, list[FileRecord]] = {}  # a compacted copy's key -> its members read
    alone = []
    for f in (as_text(f, types) for f in table.files):
        if f.derived_key and is_compacted(f.derived_key):
            compacted.setdefault(f.derived_key, []).append(f)
        else:
            alone.append(f)
    for f in map(_as_read, alone):
        # Files outside the lake's folders (crawled in place, derived copies): their partition
        # values come from the catalog, so they are grouped by value.
        partition = f.partition if _in_place(f) else sorted(f.partition)
        key = json.dumps(
            [f.format, f.options, [(c.name, c.original, c.type) for c in f.columns], partition, _in_place(f)],
            sort_keys=True,
        )
        groups.setdefault(key, []).append(f)
    parts = [_compacted_sql(key, members, out_cols, url) for key, members in compacted.items()]
    for members in groups.values():
        first = members[0]
        by_name = {c.name: c for c in first.columns}
        reader = reader_sql(
            [url(f.key) for f in members],
            first.format,
            first.options,
            [(reader_name(first.format, c), c.type) for c in first.columns],
            # the lake layout is Hive-style: partition values from the folders
            hive=bool(first.partition) and not _in_place(first),
        )
        projection: list[str] = []
        for name, typ in out_cols:
            col = by_name.get(name)
            if col is not None:
                source = value_sql(first.format, first.options, col)
                expr = source if _read_type(col.type) == typ else f"CAST({source} AS {typ})"
            elif name in first.partition:
                expr = sql_literal(first.partition[name]) if _in_place(first) else quote_ident(name)
            else:
                expr = f"CAST(NULL AS {typ})"
            projection.append(f"{expr} AS {quote_ident(name)}")
        parts.append(f"SELECT {', '.join(projection)} FROM {reader}")
    return "\nUNION ALL\n".join(parts)


def _compacted_sql(
    key: str, members: list[FileRecord], out_cols: list[tuple[str, str]], url: Callable[[str], str]
) -> str:
    """The rows of ``members`` in the compacted copy ``key``: it holds the rows of many small files
    of one partition, each row marked with its file; only the members asked for are read (a
    file pruned, replaced or removed since is left out by that mark, its row groups skipped)."""
    first = _as_read(members[0])
    by_name = {c.name: c for c in first.columns}
    reader = reader_sql([url(key)], "parquet", {}, [])
    projection = []
    for name, typ in out_cols:
        col = by_name.get(name)
        if col is not None:
            expr = quote_ident(name) if _read_type(col.type) == typ else f"CAST({quote_ident(name)} AS {typ})"
        elif name in first.partition:
            expr = sql_literal(first.partition[name])
        else:
            expr = f"CAST(NULL AS {typ})"
        projection.append(f"{expr} AS {quote_ident(name)}")
    wanted = ", ".join(sql_literal(m.key) for m in members)
    return f"SELECT {', '.join(projection)} FROM {reader} WHERE {quote_ident(MEMBER)} IN ({wanted})"


def duckdb_views(plan: Plan, url: Callable[[str], str]) -> dict[str, str]:
    """The view of each table of ``plan``, as its caller may read it: what the DuckDB engines
    create in the instance a query runs on (``url`` gives a lake key's address)."""
    out = {}
    for name, read in plan.tables.items():
        view = table_sql(read.table, url)
        out[name] = view if read.access is None else restrict(view, read.access, read.names)
    return out
