"""Schema inference: columns, types, dialect and row count of one file, using DuckDB's readers.

Everything found is stored per file in the catalog, so queries build tables from it and never
re-sniff. Each file is read in full once here, which proves it parses with the stored options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from lakegate.crawler.detect import Detected
from lakegate.crawler.evolve import Column
from lakegate.crawler.names import column_names
from lakegate.crawler.types import parse_type
from lakegate.engine_setup import engine_message
from lakegate.errors import Rejection

_ISO_TZ = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"


@dataclass
class FilePlan:
    format: str
    options: dict[str, Any]
    columns: list[Column]
    rows: int
    screened: list[Any] | None = None  # the screen's aggregates, when the full read ran them


# Extra aggregates (SQL over the columns by lakegate name) to compute in the full read.
Screen = Callable[[list[Column]], list[str]]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_name(fmt: str, column: Column) -> str:
    """The name a file's reader gives ``column``: CSV readers are told lakegate's names, the others
    keep the file's own."""
    return column.name if fmt == "csv" else column.original


def plan_select(path: str, plan: FilePlan) -> str:
    """A SELECT of one file, read as its plan says, with lakegate's column names."""
    reader = reader_sql(
        [path], plan.format, plan.options, [(reader_name(plan.format, c), c.type) for c in plan.columns]
    )
    projection = ", ".join(
        f"{quote_ident(reader_name(plan.format, c))} AS {quote_ident(c.name)}" for c in plan.columns
    )
    return f"SELECT {projection or '*'} FROM {reader}"


def struct_literal(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in items) + "}"


def reader_sql(
    paths: list[str], fmt: str, options: dict[str, Any], types: list[tuple[str, str]], *, hive: bool = False
) -> str:
    """The DuckDB table function call that reads ``paths`` with stored ``options`` and column types.

    ``types`` pairs each column's name *as the reader sees it* with the type to read it as.
    ``hive`` adds the ``key=value`` folders of the paths as text columns. It is always explicit:
    DuckDB would otherwise guess from the paths, and a folder would turn into a column.
    """
    hive_args = "hive_partitioning=true, hive_types_autocast=false" if hive else "hive_partitioning=false"
    files = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
    # A column seen only as nulls has the lattice's bottom type NULL; readers take it as text.
    types = [(name, "VARCHAR" if typ == "NULL" else typ) for name, typ in types]
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
        if options.get("new_line"):
            args.append(f"new_line={sql_literal(options['new_line'])}")
        if options.get("comment"):
            args.append(f"comment={sql_literal(options['comment'])}")
        for key in ("dateformat", "timestampformat"):
            if options.get(key):
                args.append(f"{key}={sql_literal(options[key])}")
        return f"read_csv({', '.join(args)})"
    args += [
        f"format={sql_literal(options['format'])}",
        f"compression={sql_literal(_json_compression(options.get('compression', 'none')))}",
        f"columns={struct_literal(types)}",
        hive_args,
    ]
    return f"read_json({', '.join(args)})"


def _json_compression(compression: str) -> str:
    return "uncompressed" if compression == "none" else compression  # read_json's spelling


def infer(
    conn: duckdb.DuckDBPyConnection, path: str, detected: Detected, size: int, screen: Screen | None = None
) -> FilePlan:
    """Infer one file's plan, reading it in full.

    ``screen`` gives aggregates to compute in that same read (the value checks of the file's
    dataset), so they cost no read of their own; their results are the plan's ``screened``.
    Parquet is not read in full (its footer is enough), so its ``screened`` stays ``None``.

    Raises:
        Rejection: ``reject.unparseable``, ``reject.json_not_records`` or ``reject.truncated_parquet``.
    """
    if detected.format == "parquet":
        return _parquet(conn, path)
    if detected.format == "json":
        return _json(conn, path, detected, screen)
    return _csv(conn, path, detected, screen)


def _read_all(conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, screen: Screen | None) -> FilePlan:
    """Read every value as ``plan`` says (proving the file parses so), counting its rows.

    count(col) for every column forces every value to be parsed and converted: projection
    pushdown would otherwise let a bad value in an unread column pass. When the screen's
    aggregates fail (a pattern the engine refuses, say), the file is read again without them:
    the checks then run on their own and say what is wrong with them.
    """
    counts = ["count(*)", *(f"count({quote_ident(c.name)})" for c in plan.columns)]
    extra = screen(plan.columns) if screen else []
    source = plan_select(path, plan)
    try:
        row = conn.execute(f"SELECT {', '.join(counts + extra)} FROM ({source})").fetchone()
    except duckdb.Error:
        if not extra:
            raise
        extra = []
        row = conn.execute(f"SELECT {', '.join(counts)} FROM ({source})").fetchone()
    assert row is not None
    return replace(plan, rows=int(row[0]), screened=list(row[len(counts) :]) if extra else None)


def _parquet(conn: duckdb.DuckDBPyConnection, path: str) -> FilePlan:
    lit = sql_literal(path)
    try:
        described = conn.execute(
            f"DESCRIBE SELECT * FROM read_parquet({lit}, hive_partitioning=false)"
        ).fetchall()
        row = conn.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({lit})").fetchone()
    except duckdb.Error as exc:
        raise Rejection(
            f"the Parquet file cannot be read: {engine_message(exc)}",
            code="reject.truncated_parquet",
            hint="deliver the complete file again",
        ) from None
    originals = [d[0] for d in described]
    names = column_names(originals)
    cols = [Column(n, o, str(parse_type(d[1]))) for n, o, d in zip(names, originals, described, strict=True)]
    return FilePlan("parquet", {}, cols, int(row[0] or 0) if row else 0)


def _csv(conn: duckdb.DuckDBPyConnection, path: str, detected: Detected, screen: Screen | None) -> FilePlan:
    last_error = ""
    for sample in (20480, -1):  # when the sample misled the sniffer, look at the whole file
        try:
            sniffed = conn.execute(
                "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, Columns, "
                f"DateFormat, TimestampFormat FROM sniff_csv({sql_literal(path)}, sample_size={sample}, "
                f"compression={sql_literal(detected.compression)})"
            ).fetchone()
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            continue
        assert sniffed is not None
        delim, quote, escape, newline, comment, skip, header, cols, datefmt, tsfmt = sniffed
        quote = '"' if quote in ("(empty)", "") else quote
        escape = quote if escape in ("(empty)", "") else escape
        options: dict[str, Any] = {
            "delim": delim,
            "quote": quote,
            "escape": escape,
            "header": bool(header),
            "skip": int(skip or 0),
            "compression": detected.compression,
            "new_line": "" if newline in ("(empty)", None) else newline,  # DuckDB spelling, e.g. \\r\\n
            "comment": "" if comment in ("(empty)", None) else comment,
            "dateformat": datefmt or "",
            "timestampformat": tsfmt or "",
        }
        originals = [c["name"] for c in cols] if header else [""] * len(cols)
        names = column_names(originals)
        if not header:
            originals = names
        types = [str(parse_type(c["type"])) for c in cols]
        columns = [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]
        try:
            return _read_all(conn, path, FilePlan("csv", options, columns, 0), screen)
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            continue
    raise Rejection(
        f"the file cannot be parsed as CSV: {last_error}",
        code="reject.unparseable",
        hint="fix the rows named above and deliver the file again",
        details={"engine_error": last_error},
    )


def _json(conn: duckdb.DuckDBPyConnection, path: str, detected: Detected, screen: Screen | None) -> FilePlan:
    options = {"format": detected.json_layout, "compression": detected.compression}
    lit = sql_literal(path)
    auto = (
        f"read_json({lit}, format={sql_literal(detected.json_layout)}, "
        f"compression={sql_literal(_json_compression(detected.compression))}, sample_size=-1, "
        "hive_partitioning=false)"
    )
    try:
        described = conn.execute(f"DESCRIBE SELECT * FROM {auto}").fetchall()
    except duckdb.Error as exc:
        message = engine_message(exc)
        code = "reject.unparseable"
        if "array of objects" in message or "records" in message.lower() or "STRUCT" in message:
            code = "reject.json_not_records"
        raise Rejection(
            f"the file cannot be read as JSON records: {message}",
            code=code,
            hint="deliver one JSON object per line (NDJSON) or a JSON array of objects",
            details={"engine_error": message},
        ) from None
    if len(described) == 1 and described[0][0] == "json":
        raise Rejection(
            "the JSON holds values that are not objects, so it has no columns",
            code="reject.json_not_records",
            hint="deliver one JSON object per line (NDJSON) or a JSON array of objects",
        )
    originals = [d[0] for d in described]
    names = column_names(originals)
    types: list[str] = []
    for original, (_, typ, *_rest) in zip(originals, described, strict=True):
        types.append(_refine_json_type(conn, auto, original, typ))
    columns = [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]
    try:
        return _read_all(conn, path, FilePlan("json", options, columns, 0), screen)
    except duckdb.Error as exc:
        message = engine_message(exc)
        raise Rejection(
            f"the file cannot be read as JSON records: {message}",
            code="reject.unparseable",
            details={"engine_error": message},
        ) from None


def _refine_json_type(conn: duckdb.DuckDBPyConnection, reader: str, original: str, typ: str) -> str:
    """DuckDB leaves mixed or all-null fields as JSON and zoned ISO timestamps as VARCHAR; fix both."""
    quoted = '"' + original.replace('"', '""') + '"'
    if typ == "JSON":
        row = conn.execute(f"SELECT count({quoted}) FROM {reader}").fetchone()
        return "NULL" if row and row[0] == 0 else "VARCHAR"
    if typ == "VARCHAR":
        zoned = f"regexp_matches({quoted}, {sql_literal(_ISO_TZ)})"
        row = conn.execute(
            f"SELECT count({quoted}), count(*) FILTER (WHERE {zoned}) FROM {reader}"
        ).fetchone()
        if row and row[0] > 0 and row[0] == row[1]:
            return "TIMESTAMP WITH TIME ZONE"
    return str(parse_type(typ))


__all__ = ["FilePlan", "infer", "plan_select", "quote_ident", "reader_name", "reader_sql", "sql_literal"]
