"""Parquet: columns, row count and statistics from the footer alone (sanity-checked first, so a
footer that lies cannot make the engine allocate what the file does not hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from lakegate.crawler.stats import footer_stats
from lakegate.duck import engine_message
from lakegate.duck.readers import FilePlan
from lakegate.duck.sql import sql_literal
from lakegate.errors import Rejection
from lakegate.names import column_names
from lakegate.schema import Column
from lakegate.types import parse_type


def parquet_plan(conn: duckdb.DuckDBPyConnection, path: str, size: int = 0) -> FilePlan:
    """A Parquet file's plan from its footer alone: columns (as the engine types them), rows and
    column statistics (read with pyarrow for a local file: a quarter of the engine's cost).

    The footer is the sender's word: a row count no file of its size could hold is refused
    (``reject.corrupt_parquet``), so it never reaches the catalog's counts and estimates."""
    lit = sql_literal(path)
    try:
        footer = local_footer(path)
        chunks, schema = footer if footer is not None else (None, "")
        described = _DESCRIBED.get(schema) if schema else None
        if described is None:
            described = conn.execute(
                f"DESCRIBE SELECT * FROM read_parquet({lit}, hive_partitioning=false)"
            ).fetchall()
            if schema:
                if len(_DESCRIBED) >= 256:
                    _DESCRIBED.clear()
                _DESCRIBED[schema] = described
        if chunks is None:
            chunks = conn.execute(
                "SELECT row_group_id, row_group_num_rows, path_in_schema, stats_min_value, stats_max_value, "
                f"stats_null_count FROM parquet_metadata({lit})"
            ).fetchall()
    except duckdb.Error as exc:
        raise Rejection(
            f"the Parquet file cannot be read: {engine_message(exc)}",
            code="reject.truncated_parquet",
            hint="deliver the complete file again",
        ) from None
    originals = [d[0] for d in described]
    names = column_names(originals)
    cols = [Column(n, o, str(parse_type(d[1]))) for n, o, d in zip(names, originals, described, strict=True)]
    groups = {c[0]: c[1] for c in chunks}  # each row group once
    rows = int(sum(groups.values()))
    if "://" not in path:
        size = max(size, Path(path).stat().st_size)
    if rows > most_rows(size) or any(n < 0 for n in groups.values()):
        raise Rejection(
            f"the Parquet footer claims {rows:,} rows, more than a file of {size:,} bytes can hold",
            code="reject.corrupt_parquet",
            hint="the file was damaged or made by hand; deliver it again as its writer made it",
            details={"claimed_rows": rows, "size": size},
        )
    return FilePlan("parquet", {}, cols, rows, stats=footer_stats(chunks, cols))


def most_rows(size: int) -> int:
    """The most rows a Parquet file of ``size`` bytes can hold: each page has a header of at
    least 10 bytes and at most 2^31 - 1 values."""
    return (size // 10 + 1) * (2**31 - 1)


# The engine's columns for a Parquet schema (pyarrow's text of it): files of one schema are
# described once, as a crawl of many files of one table needs.
_DESCRIBED: dict[str, list[Any]] = {}


def local_footer(path: str) -> tuple[list[tuple[Any, ...]], str] | None:
    """A local Parquet file's column chunks as ``parquet_metadata`` gives them (row group, its
    rows, column path, min, max, null count), and its schema as text, read by pyarrow; ``None``
    when it cannot be."""
    if "://" in path:
        return None
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        out: list[tuple[Any, ...]] = []
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                st = chunk.statistics
                known = st is not None and st.has_min_max
                out.append((
                    g, group.num_rows, chunk.path_in_schema,
                    st.min if known else None, st.max if known else None,
                    st.null_count if st is not None and st.has_null_count else None,
                ))  # fmt: skip
        return out, str(meta.schema).split("\n", 1)[-1]  # without its first line: the object's address
    except Exception:  # anything pyarrow cannot read, the engine reads or explains
        return None
