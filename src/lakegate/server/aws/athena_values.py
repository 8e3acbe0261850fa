"""A result as Athena gives it: column types by their lowercase Trino names, and every value as
the text Athena prints (``VarCharValue``, and the cells of the CSV result file).

    bigint 42   double 1.5   decimal(10,2) 12.50   boolean true   date 2026-12-01
    timestamp 2026-12-01 10:00:00.000   varbinary 00 ff   array [1, 2]   map {a=1}   row {x=1}

NULL is no text at all: a ``Datum`` without ``VarCharValue``, an empty unquoted CSV field.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

_SIMPLE = [
    (pa.types.is_boolean, "boolean"), (pa.types.is_int8, "tinyint"), (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"), (pa.types.is_int64, "bigint"), (pa.types.is_uint8, "smallint"),
    (pa.types.is_uint16, "integer"), (pa.types.is_uint32, "bigint"), (pa.types.is_uint64, "decimal"),
    (pa.types.is_float16, "real"), (pa.types.is_float32, "real"), (pa.types.is_float64, "double"),
    (pa.types.is_date, "date"), (pa.types.is_time, "time"), (pa.types.is_string, "varchar"),
    (pa.types.is_large_string, "varchar"), (pa.types.is_binary, "varbinary"),
    (pa.types.is_large_binary, "varbinary"), (pa.types.is_fixed_size_binary, "varbinary"),
    (pa.types.is_list, "array"), (pa.types.is_large_list, "array"), (pa.types.is_struct, "row"),
    (pa.types.is_map, "map"), (pa.types.is_duration, "interval day to second"),
]  # fmt: skip


def type_name(kind: pa.DataType) -> str:
    """The lowercase Trino name Athena's ``ColumnInfo.Type`` gives an Arrow type."""
    if pa.types.is_decimal(kind):
        return "decimal"
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp"
    for test, name in _SIMPLE:
        if test(kind):
            return name
    return "varchar"


def column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    """``ResultSetMetadata.ColumnInfo``: names, types, decimals' precision and scale."""
    columns = []
    for field in schema:
        kind = field.type
        precision, scale = (kind.precision, kind.scale) if pa.types.is_decimal(kind) else (0, 0)
        if pa.types.is_uint64(kind):
            precision = 20
        columns.append({
            "CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": field.name, "Label": field.name,
            "Type": type_name(kind), "Precision": precision, "Scale": scale,
            "Nullable": "NULLABLE" if field.nullable else "NOT_NULL",
            "CaseSensitive": pa.types.is_string(kind),
        })  # fmt: skip
    return columns


def _timestamp(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    micro = value.microsecond
    text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    if value.tzinfo is not None:
        text += " UTC" if value.utcoffset() == dt.timedelta(0) else value.strftime(" %z")
    return text


def text(value: Any) -> str | None:
    """One value as Athena prints it (``None`` for NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date | dt.time | decimal.Decimal | int | str):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _special(value)
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, dt.timedelta):
        return _interval(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_inner(v)}" for k, v in value.items()) + "}"
    return str(value)


def _inner(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], tuple):
        return f"{_inner(value[0])}={_inner(value[1])}"  # a map's entry, as pyarrow gives them
    shown = text(value)
    return "null" if shown is None else shown


def _special(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _interval(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    whole = abs(value)
    hours, rest = divmod(whole.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{whole.days} {hours:02d}:{minutes:02d}:{secs:02d}.{whole.microseconds // 1000:03d}"


def text_rows(table: pa.Table) -> Iterator[list[str | None]]:
    """Every row of ``table`` as Athena's text, column by column converted."""
    for batch in table.to_batches(max_chunksize=4096):
        columns = [[text(v) for v in column.to_pylist()] for column in batch.columns]
        if not columns:
            yield from ([] for _ in range(batch.num_rows))
        yield from (list(row) for row in zip(*columns, strict=True))


def csv_lines(table: pa.Table) -> Iterator[bytes]:
    """The result as Athena writes ``<id>.csv``: a header, every value double-quoted, NULL as an
    empty unquoted field, lines ended by ``\\n``."""
    yield _csv_line(table.schema.names)
    for row in text_rows(table):
        yield _csv_line(row)


def _csv_line(values: list[str | None]) -> bytes:
    cells = ("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)
    return (",".join(cells) + "\n").encode("utf-8")


def text_lines(table: pa.Table) -> Iterator[bytes]:
    """A utility statement's result as Athena writes ``<id>.txt``: its values, tab-separated."""
    for row in text_rows(table):
        yield ("\t".join("" if v is None else v for v in row) + "\n").encode("utf-8")
