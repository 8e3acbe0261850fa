"""Building a table's SQL from catalog metadata alone: its columns, its files and their options.

Files that share a format, options, columns and partition keys are read by one reader call;
each group projects the table's columns, casting file types to the table's (wider) types and
filling columns a file lacks with NULL. Partition keys come from the Hive folder names.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from lakegate.catalog.records import FileRecord, TableInfo
from lakegate.crawler.infer import quote_ident, reader_name, reader_sql

__all__ = ["quote_ident", "table_sql"]


def _read_type(typ: str) -> str:
    return "VARCHAR" if typ == "NULL" else typ


def table_sql(table: TableInfo, url: Callable[[str], str]) -> str:
    """A SELECT over every registered file of ``table`` with the table's exact schema."""
    out_cols = [(c.name, _read_type(c.type)) for c in table.columns] + [
        (k, "VARCHAR") for k in table.partition_keys
    ]
    if not table.files:
        select = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(n)}" for n, t in out_cols)
        return f"SELECT {select} WHERE false"
    groups: dict[str, list[FileRecord]] = {}
    for f in table.files:
        key = json.dumps(
            [f.format, f.options, [(c.name, c.original, c.type) for c in f.columns], sorted(f.partition)],
            sort_keys=True,
        )
        groups.setdefault(key, []).append(f)
    parts = []
    for members in groups.values():
        first = members[0]
        by_name = {c.name: c for c in first.columns}
        reader = reader_sql(
            [url(f.key) for f in members],
            first.format,
            first.options,
            [(reader_name(first.format, c), c.type) for c in first.columns],
            hive=bool(first.partition),  # the lake layout is Hive-style: partition values from the folders
        )
        projection: list[str] = []
        for name, typ in out_cols:
            col = by_name.get(name)
            if col is not None:
                source = quote_ident(reader_name(first.format, col))
                expr = source if _read_type(col.type) == typ else f"CAST({source} AS {typ})"
            elif name in first.partition:
                expr = quote_ident(name)
            else:
                expr = f"CAST(NULL AS {typ})"
            projection.append(f"{expr} AS {quote_ident(name)}")
        parts.append(f"SELECT {', '.join(projection)} FROM {reader}")
    return "\nUNION ALL\n".join(parts)
