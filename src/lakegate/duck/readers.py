"""How DuckDB reads one cataloged file: the reader call (``read_csv``, ``read_json``,
``read_parquet``, ``read_xlsx``) with the options and column types stored for it, and a SELECT of
the file with lakegate's column names. Used alike by ingest (rules, derived copies),
acceleration and queries (views).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakegate.duck.sql import quote_ident, sql_literal, struct_literal
from lakegate.schema import Column


@dataclass
class FilePlan:
    format: str
    options: dict[str, Any]
    columns: list[Column]
    rows: int
    screened: list[Any] | None = None  # the screen's aggregates, when the full read ran them
    # Per column (lakegate name): {"min", "max", "nulls"}, what is known of them
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what reading it had to put up with
    skipped_lines: list[int] = field(default_factory=list)  # lines of rows left out (ragged rows)
    # The sum of every row's hash as read by ``plan_select`` (exact, as text), when the full read
    # computed it: a Parquet copy is later checked against it without reading the file again.
    row_hash: str | None = None
    # A verified Parquet copy the full read wrote (``read_all``'s ``copy_to``), and the plan it
    # was written for (``signature``): valid only while the plan is still that one.
    copy: tuple[str, str] | None = None

    def signature(self) -> str:
        """What a copy of the file depends on: its format, reader options and columns."""
        return json.dumps(
            [self.format, self.options, [c.as_dict() for c in self.columns]], sort_keys=True, default=str
        )


# How Parquet copies of delivered files are written: the engine's own Parquet (Snappy), row
# groups of ``COPY_ROW_GROUP`` rows, rows in the order the file has them. Measured on TPC-H
# (bench/tpch.py): Snappy reads faster than zstd, and the producer's order keeps its clustering
# (by time, by key) for row-group pruning, where sorting by one date column cost every copy a
# sort and slowed queries that relied on the delivered order (Q18 by half).
COPY_ROW_GROUP = 122_880
COPY_OPTIONS = f"(FORMAT parquet, ROW_GROUP_SIZE {COPY_ROW_GROUP})"


# Extra aggregates (SQL over the columns by lakegate name) to compute in the full read.
Screen = Callable[[list[Column]], list[str]]


def reader_name(fmt: str, column: Column) -> str:
    """The name a file's reader gives ``column``: CSV readers are told lakegate's names, the others
    keep the file's own."""
    return column.name if fmt == "csv" else column.original


def plan_select(path: str, plan: FilePlan) -> str:
    """A SELECT of one file, read as its plan says, with lakegate's column names."""
    if plan.format == "xlsx":
        return excel_select(path, plan.options, plan.columns)
    reader = reader_sql(
        [path], plan.format, plan.options, [(reader_name(plan.format, c), c.type) for c in plan.columns]
    )
    projection = ", ".join(
        f"{value_sql(plan.format, plan.options, c)} AS {quote_ident(c.name)}" for c in plan.columns
    )
    return f"SELECT {projection or '*'} FROM {reader}"


def value_sql(fmt: str, options: dict[str, Any], column: Column) -> str:
    """A column's values from its file's reader: the reader's column, or for a column with null
    tokens of its own (``-`` in a number column of a file whose other columns hold ``-`` as a
    value), its text with those tokens as NULL, cast to the column's type."""
    source = quote_ident(reader_name(fmt, column))
    tokens = (options.get("column_nulls") or {}).get(column.name)
    if not tokens:
        return source
    listed = ", ".join(sql_literal(t) for t in tokens)
    return f"CAST(CASE WHEN trim({source}) IN ({listed}) THEN NULL ELSE {source} END AS {column.type})"


def reader_sql(
    paths: list[str],
    fmt: str,
    options: dict[str, Any],
    types: list[tuple[str, str]],
    *,
    hive: bool = False,
    extra: str = "",
) -> str:
    """The DuckDB table function call that reads ``paths`` with stored ``options`` and column types.

    ``types`` pairs each column's name *as the reader sees it* with the type to read it as.
    ``hive`` adds the ``key=value`` folders of the paths as text columns. It is always explicit:
    DuckDB would otherwise guess from the paths, and a folder would turn into a column.
    """
    hive_args = "hive_partitioning=true, hive_types_autocast=false" if hive else "hive_partitioning=false"
    files = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
    # A column seen only as nulls has the lattice's bottom type NULL; readers take it as text, as
    # they do columns with null tokens of their own (``value_sql`` turns those into values).
    own_nulls = options.get("column_nulls") or {}
    types = [(name, "VARCHAR" if typ == "NULL" or name in own_nulls else typ) for name, typ in types]
    if fmt == "parquet":
        return f"read_parquet({files}, {hive_args})"
    args = [files]
    if fmt == "csv":
        args += [
            "auto_detect=false",
            f"delim={sql_literal(options['delim'])}",
            f"quote={sql_literal(options['quote'])}",
            f"escape={sql_literal(options['escape'])}",
            f"header={'true' if options['header'] else 'false'}",
            f"skip={int(options.get('skip', 0))}",
            f"compression={sql_literal(options.get('compression', 'none'))}",
            "null_padding=false",
            f"columns={struct_literal(types)}",
            hive_args,
        ]
        if options.get("encoding"):
            args.append(f"encoding={sql_literal(options['encoding'])}")
        if options.get("nullstr"):
            args.append("nullstr=[" + ", ".join(sql_literal(t) for t in options["nullstr"]) + "]")
        if options.get("ignore_errors"):
            args.append("ignore_errors=true")  # the rows the crawler reported as skipped
        if options.get("strict_mode") is False:
            args.append("strict_mode=false")  # quotes that never close, read as the crawler did
        if options.get("new_line"):
            args.append(f"new_line={sql_literal(options['new_line'])}")
        if options.get("comment"):
            args.append(f"comment={sql_literal(options['comment'])}")
        if options.get("decimal_separator"):
            args.append(f"decimal_separator={sql_literal(options['decimal_separator'])}")
        for key in ("dateformat", "timestampformat"):
            if options.get(key):
                args.append(f"{key}={sql_literal(options[key])}")
        if extra:
            args.append(extra)
        return f"read_csv({', '.join(args)})"
    args += [
        f"format={sql_literal(options['format'])}",
        f"compression={sql_literal(json_compression(options.get('compression', 'none')))}",
        f"columns={struct_literal(types)}",
        hive_args,
    ]
    return f"read_json({', '.join(args)})"


def json_compression(compression: str) -> str:
    return "uncompressed" if compression == "none" else compression  # read_json's spelling


def xlsx_reader(path: str, options: dict[str, Any], *, text: bool) -> str:
    args = [
        sql_literal(path),
        f"sheet={sql_literal(options['sheet'])}",
        f"header={'true' if options['header'] else 'false'}",
        "stop_at_empty=false",
        "all_varchar=true" if text else "ignore_errors=true, empty_as_varchar=true",
    ]
    return f"read_xlsx({', '.join(args)})"


def excel_select(path: str, options: dict[str, Any], columns: list[Column]) -> str:
    """A SELECT of one sheet with lakegate's names. Cells are read with the types Excel gave them;
    a column with cells of several kinds is read as the text Excel shows. Empty rows are left out."""
    typed, text = xlsx_reader(path, options, text=False), xlsx_reader(path, options, text=True)
    as_text = set(options.get("text_columns", []))
    projection = []
    for i, c in enumerate(columns):
        source = f"{'s' if c.name in as_text else 't'}.column{i}"
        projection.append(
            f"CAST({source} AS {'VARCHAR' if c.type == 'NULL' else c.type}) AS {quote_ident(c.name)}"
        )
    n = len(columns)
    aliases = ", ".join(f"column{i}" for i in range(n))
    return (
        f"SELECT {', '.join(projection)} FROM (SELECT * FROM {typed}) AS t({aliases}) "
        f"POSITIONAL JOIN (SELECT * FROM {text}) AS s({aliases}) "
        f"WHERE NOT ({' AND '.join(f's.column{i} IS NULL' for i in range(n))})"
    )
