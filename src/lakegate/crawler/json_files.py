"""JSON: records in an array or one per line, their columns and types."""

from __future__ import annotations

from typing import Any

import duckdb

from lakegate.crawler.detect import Detected
from lakegate.crawler.stats import read_all
from lakegate.duck import engine_message
from lakegate.duck.readers import FilePlan, Screen, json_compression
from lakegate.duck.sql import sql_literal
from lakegate.errors import Rejection
from lakegate.names import column_names
from lakegate.schema import Column
from lakegate.types import parse_type

ISO_TZ = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"


def json_plan(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    screen: Screen | None,
    *,
    copy_to: str | None = None,
) -> FilePlan:
    layouts = [detected.json_layout]
    if detected.json_layout == "newline_delimited":
        layouts.append("unstructured")  # objects over several lines: one pretty-printed object, say
    described: list[Any] = []
    for layout in layouts:
        options = {"format": layout, "compression": detected.compression}
        lit = sql_literal(path)
        auto = (
            f"read_json({lit}, format={sql_literal(layout)}, "
            f"compression={sql_literal(json_compression(detected.compression))}, sample_size=-1, "
            "hive_partitioning=false)"
        )
        try:
            described = conn.execute(f"DESCRIBE SELECT * FROM {auto}").fetchall()
            break
        except duckdb.Error as exc:
            message = engine_message(exc)
            if layout != layouts[-1]:
                continue
            code = "reject.unparseable"
            if "array of objects" in message or "records" in message.lower() or "STRUCT" in message:
                code = "reject.json_not_records"
            raise Rejection(
                f"the file cannot be read as JSON records: {message}",
                code=code,
                hint="deliver one JSON object per line (NDJSON), a JSON array of objects, or one object",
                details={"engine_error": message},
            ) from None
    if len(described) == 1 and described[0][0] == "json":
        [(count,)] = conn.execute(f"SELECT count(*) FROM {auto}").fetchall()
        if not count:
            raise Rejection(
                "the JSON holds no records", code="reject.empty", hint="deliver it again with data"
            )
        raise Rejection(
            "the JSON holds values that are not objects, so it has no columns",
            code="reject.json_not_records",
            hint="deliver one JSON object per line (NDJSON), a JSON array of objects, or one object",
        )
    originals = [d[0] for d in described]
    names = column_names(originals)
    types: list[str] = []
    for original, (_, typ, *_rest) in zip(originals, described, strict=True):
        types.append(_refine_json_type(conn, auto, original, typ))
    columns = [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]
    try:
        return read_all(conn, path, FilePlan("json", options, columns, 0), screen, copy_to=copy_to)
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
        zoned = f"regexp_matches({quoted}, {sql_literal(ISO_TZ)})"
        row = conn.execute(
            f"SELECT count({quoted}), count(*) FILTER (WHERE {zoned}) FROM {reader}"
        ).fetchone()
        if row and row[0] > 0 and row[0] == row[1]:
            return "TIMESTAMP WITH TIME ZONE"
    return str(parse_type(typ))
