"""PostgreSQL types for DuckDB results, and the values of both formats.

Each result column gets a PostgreSQL type (OID, size, modifier) from its DuckDB type. Its values
are encoded a whole batch at a time — in text (format 0) or binary (format 1) — into one flat
byte array with each value's start and length (``-1``: NULL); ``data_rows`` then lays out the
DataRow messages of a batch with numpy, without a Python loop over rows. Types without a
vectorized encoder (intervals, numeric in binary, arrays, bytea in text...) are encoded value by
value, which is correct and slower.

Parameters arrive in either format with the OID the client declared (0: unspecified, passed as
text for the engine to type from its context).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import struct
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakegate.query.pg_types import ARRAY_OF, BY_OID, TEXT, PgType, pg_type

_EPOCH_2000_DAYS = 10957
_EPOCH_2000_US = 946_684_800_000_000


@dataclass(frozen=True)
class Column:
    """How one result column travels: its PostgreSQL type, modifier and format."""

    pg: PgType
    modifier: int
    format: int  # 0 text, 1 binary
    element: PgType | None = None  # for arrays


def column(duck: str, fmt: int) -> Column:
    pg, modifier, element = pg_type(duck)
    return Column(pg, modifier, fmt, element)


# -- encoding a batch -----------------------------------------------------------------------

Encoded = tuple[np.ndarray, np.ndarray, np.ndarray]  # bytes (uint8), starts, lengths (-1: NULL)


def encode(array: pa.Array, col: Column) -> Encoded:
    """Every value of ``array`` in ``col``'s format."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    fast = _fast_binary(array, col) if col.format == 1 else _fast_text(array, col)
    if fast is not None:
        return fast
    scalar = scalar_binary if col.format == 1 else _scalar_text_bytes
    return _from_values([None if v is None else scalar(col.pg, v, col.element) for v in _python(array, col)])


def _python(array: pa.Array, col: Column) -> list[Any]:
    if pa.types.is_interval(array.type):
        return [None if v is None else (v.months, v.days, v.nanoseconds) for v in array.to_pylist()]
    if pa.types.is_timestamp(array.type) and array.type.unit == "ns":
        array = pc.cast(array, pa.timestamp("us", array.type.tz), safe=False)
    return list(array.to_pylist())


def _from_values(values: list[bytes | None]) -> Encoded:
    lengths = np.fromiter((-1 if v is None else len(v) for v in values), dtype=np.int64, count=len(values))
    data = np.frombuffer(b"".join(v for v in values if v is not None), dtype=np.uint8)
    sizes = np.maximum(lengths, 0)
    starts = np.cumsum(sizes) - sizes
    return data, starts, lengths


def _strings(array: pa.Array) -> Encoded:
    """A string or binary array's bytes as they are."""
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        array = pc.cast(array, pa.binary() if pa.types.is_large_binary(array.type) else pa.string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array) + 1, offset=array.offset * 4)
    data_buffer = array.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    starts = offsets[:-1].astype(np.int64)
    lengths = np.diff(offsets).astype(np.int64)
    if array.null_count:
        lengths[~np.asarray(array.is_valid())] = -1
    return data, starts, lengths


def _fixed(values: np.ndarray, valid: np.ndarray | None) -> Encoded:
    """Big-endian fixed-size values (already in their wire dtype)."""
    width = values.dtype.itemsize
    data = np.ascontiguousarray(values).view(np.uint8)
    starts = np.arange(len(values), dtype=np.int64) * width
    lengths = np.full(len(values), width, dtype=np.int64)
    if valid is not None:
        lengths[~valid] = -1
    return data, starts, lengths


def _valid(array: pa.Array) -> np.ndarray | None:
    return np.asarray(array.is_valid()) if array.null_count else None


def _numbers(array: pa.Array, dtype: str) -> np.ndarray:
    filler = False if pa.types.is_boolean(array.type) else 0
    return np.asarray(array.fill_null(filler).to_numpy(zero_copy_only=False)).astype(dtype)


def _fast_binary(array: pa.Array, col: Column) -> Encoded | None:
    name, kind = col.pg.name, array.type
    valid = _valid(array)
    if name in ("int2", "int4", "int8") and pa.types.is_integer(kind):
        return _fixed(_numbers(array, {"int2": ">i2", "int4": ">i4", "int8": ">i8"}[name]), valid)
    if name in ("float4", "float8") and pa.types.is_floating(kind):
        return _fixed(_numbers(array, ">f4" if name == "float4" else ">f8"), valid)
    if name == "bool" and pa.types.is_boolean(kind):
        return _fixed(_numbers(array, "u1"), valid)
    if name == "date" and pa.types.is_date32(kind):
        days = _numbers(pc.cast(array, pa.int32()), "i8") - _EPOCH_2000_DAYS
        return _fixed(days.astype(">i4"), valid)
    if name in ("timestamp", "timestamptz") and pa.types.is_timestamp(kind):
        micros = pc.cast(pc.cast(array, pa.timestamp("us", kind.tz), safe=False), pa.int64())
        return _fixed((_numbers(micros, "i8") - _EPOCH_2000_US).astype(">i8"), valid)
    if name == "time" and pa.types.is_time(kind):
        micros = pc.cast(pc.cast(array, pa.time64("us"), safe=False), pa.int64())
        return _fixed(_numbers(micros, ">i8"), valid)
    if name in ("text", "varchar", "json") and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return _strings(array)
    if name == "bytea" and (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
        return _strings(array)
    return None


_FLOAT_WORDS = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def _fast_text(array: pa.Array, col: Column) -> Encoded | None:
    name, kind = col.pg.name, array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _strings(array)
    if name == "bool" and pa.types.is_boolean(kind):
        return _strings(pc.if_else(array, "t", "f"))
    if name in ("int2", "int4", "int8") and pa.types.is_integer(kind):
        return _strings(pc.cast(array, pa.string()))
    if name == "numeric" and (pa.types.is_decimal(kind) or pa.types.is_integer(kind)):
        return _strings(pc.cast(array, pa.string()))
    if name in ("float4", "float8") and pa.types.is_floating(kind):
        text = pc.cast(array, pa.string())
        for arrow_word, pg_word in _FLOAT_WORDS.items():
            text = pc.if_else(pc.equal(text, arrow_word), pg_word, text)
        return _strings(text)
    if name == "date" and pa.types.is_date32(kind):
        return _strings(pc.cast(array, pa.string()))
    if name == "timestamp" and pa.types.is_timestamp(kind) and kind.tz is None:
        micros = pc.cast(array, pa.timestamp("us"), safe=False)
        return _strings(pc.strftime(micros, "%Y-%m-%d %H:%M:%S"))
    if name == "timestamptz" and pa.types.is_timestamp(kind):
        micros = pc.cast(array, pa.timestamp("us", "UTC"), safe=False)
        return _strings(pc.binary_join_element_wise(pc.strftime(micros, "%Y-%m-%d %H:%M:%S"), "+00", ""))
    if name == "time" and pa.types.is_time(kind):
        return _strings(pc.cast(pc.cast(array, pa.time64("us"), safe=False), pa.string()))
    return None


# -- one value at a time --------------------------------------------------------------------


def scalar_text(pg: PgType, value: Any, element: PgType | None = None) -> str:
    """A value's text form, as PostgreSQL prints it."""
    if element is not None:
        return "{" + ",".join(_array_item(element, v) for v in value) + "}"
    name = pg.name
    if name == "bool":
        return "t" if value else "f"
    if name in ("float4", "float8"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if number in (float("inf"), float("-inf")):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)
    if name == "bytea":
        return "\\x" + bytes(value).hex()
    if name == "interval":
        return _interval_text(*value)
    if name == "timestamptz" and isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return utc.isoformat(sep=" ") + "+00"
    if name == "timetz" and isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat() + "+00"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if name == "json" or isinstance(value, (dict, list)):
        if isinstance(value, str):
            return value
        return json.dumps(_jsonable(value), default=str)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(i, tuple) and len(i) == 2 for i in value):
        return {str(k): _jsonable(v) for k, v in value}  # a MAP arrives as key/value pairs
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    return value


def _array_item(element: PgType, value: Any) -> str:
    if value is None:
        return "NULL"
    text = scalar_text(element, value)
    if text == "" or text.upper() == "NULL" or any(c in '{}",\\' or c.isspace() for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _scalar_text_bytes(pg: PgType, value: Any, element: PgType | None = None) -> bytes:
    return scalar_text(pg, value, element).encode("utf-8")


def _interval_text(months: int, days: int, nanos: int) -> str:
    parts = []
    years, months = divmod(months, 12) if months >= 0 else (-((-months) // 12), -((-months) % 12))
    if years:
        parts.append(f"{years} year{'s' if abs(years) != 1 else ''}")
    if months:
        parts.append(f"{months} mon{'s' if abs(months) != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if abs(days) != 1 else ''}")
    micros = nanos // 1000
    if micros or not parts:
        sign = "-" if micros < 0 else ""
        seconds, fraction = divmod(abs(micros), 1_000_000)
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        clock = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
        parts.append(clock + (f".{fraction:06d}".rstrip("0") if fraction else ""))
    return " ".join(parts)


def scalar_binary(pg: PgType, value: Any, element: PgType | None = None) -> bytes:
    """A value's binary form."""
    if element is not None:
        return _array_binary(element, list(value))
    name = pg.name
    if name == "bool":
        return b"\x01" if value else b"\x00"
    if name in ("int2", "int4", "int8", "oid"):
        return int(value).to_bytes(pg.size, "big", signed=name != "oid")
    if name == "float4":
        return struct.pack("!f", value)
    if name == "float8":
        return struct.pack("!d", value)
    if name == "numeric":
        return _numeric_binary(decimal.Decimal(value))
    if name == "date":
        return struct.pack("!i", (value - dt.date(2000, 1, 1)).days)
    if name in ("timestamp", "timestamptz"):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        delta = value - dt.datetime(2000, 1, 1)
        return struct.pack("!q", (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if name in ("time", "timetz"):
        micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
        return struct.pack("!q", micros) + (b"\0\0\0\0" if name == "timetz" else b"")
    if name == "interval":
        months, days, nanos = value
        return struct.pack("!qii", nanos // 1000, days, months)
    if name == "uuid":
        return uuid.UUID(str(value)).bytes
    if name == "bytea":
        return bytes(value)
    if name == "jsonb":
        return b"\x01" + scalar_text(pg, value).encode("utf-8")
    return scalar_text(pg, value).encode("utf-8")


def _array_binary(element: PgType, values: list[Any]) -> bytes:
    has_null = any(v is None for v in values)
    out = [struct.pack("!iiiii", 1, int(has_null), element.oid, len(values), 1)]
    for v in values:
        if v is None:
            out.append(struct.pack("!i", -1))
        else:
            item = scalar_binary(element, v)
            out.append(struct.pack("!i", len(item)) + item)
    return b"".join(out)


def _numeric_binary(value: decimal.Decimal) -> bytes:
    if value.is_nan():
        return struct.pack("!hhHH", 0, 0, 0xC000, 0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    text = "".join(map(str, digits)).zfill(scale + 1)  # 0.0001: "00001", so the point falls inside
    if exponent > 0:
        text += "0" * exponent
        exponent = 0
    integer, fraction = (text[:exponent], text[exponent:]) if exponent else (text, "")
    integer = integer.lstrip("0")
    integer = "0" * (-len(integer) % 4) + integer
    fraction = fraction + "0" * (-len(fraction) % 4)
    groups = [int(integer[i : i + 4]) for i in range(0, len(integer), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i : i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[0] == 0:  # leading zero groups lower the weight
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    header = struct.pack("!hhHH", len(groups), weight, 0x4000 if sign else 0, scale)
    return header + b"".join(struct.pack("!H", g) for g in groups)


# -- DataRow messages -------------------------------------------------------------------------


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray, dtype: str) -> None:
    raw = values.astype(dtype).view(np.uint8).reshape(len(values), -1)
    out[at[:, None] + np.arange(raw.shape[1])] = raw


def data_rows(columns: list[Encoded], rows: int) -> bytes:
    """The DataRow messages of ``rows`` rows whose columns are encoded as ``columns``."""
    if rows == 0:
        return b""
    sizes = [np.maximum(lengths, 0) for _d, _s, lengths in columns]
    row_length = 4 + 2 + sum((4 + s for s in sizes), np.zeros(rows, dtype=np.int64))
    totals = row_length + 1
    row_start = np.cumsum(totals) - totals
    out = np.empty(int(totals.sum()), dtype=np.uint8)
    out[row_start] = ord("D")
    _put(out, row_start + 1, row_length, ">i4")
    _put(out, row_start + 5, np.full(rows, len(columns)), ">i2")
    at = row_start + 7
    for (data, starts, lengths), size in zip(columns, sizes, strict=True):
        _put(out, at, lengths, ">i4")
        total = int(size.sum())
        if total:
            first = np.cumsum(size) - size
            within = np.arange(total, dtype=np.int64) - np.repeat(first, size)
            out[np.repeat(at + 4, size) + within] = data[np.repeat(starts, size) + within]
        at = at + 4 + size
    return out.tobytes()


# -- parameters -----------------------------------------------------------------------------

_TRUE = {"t", "true", "y", "yes", "on", "1"}


def decode_param(oid: int, fmt: int, raw: bytes | None) -> Any:
    """A Bind parameter as a Python value for the engine (text for unspecified types)."""
    if raw is None:
        return None
    pg = BY_OID.get(oid)
    element = ARRAY_OF.get(oid)
    if fmt == 1:
        if element is not None:
            return _array_from_binary(raw)
        return _from_binary(pg, raw) if pg is not None else raw.decode("utf-8")
    text = raw.decode("utf-8")
    if element is not None:
        return [None if item is None else _from_text(element, item) for item in _array_items(text)]
    if pg is None:  # unspecified: the engine types it from its context
        if text.startswith("{") and text.endswith("}") and not _is_json(text):
            return _array_items(text)  # an array literal of unknown items ({x,y}): a list of text
        return text
    return _from_text(pg, text)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _array_items(text: str) -> list[str | None]:
    """The items of a one-dimensional PostgreSQL array literal, ``{1,"a b",NULL}``."""
    body = text.strip()
    if body.startswith("[") and "=" in body:  # explicit bounds: [1:3]={...}
        body = body.split("=", 1)[1]
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"{text!r} is not an array literal")
    body = body[1:-1]
    items: list[str | None] = []
    i, n = 0, len(body)
    while i < n:
        if body[i] == '"':
            i += 1
            out = []
            while i < n and body[i] != '"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(body[i])
                i += 1
            items.append("".join(out))
            i += 1  # the closing quote
        else:
            end = body.find(",", i)
            end = n if end < 0 else end
            word = body[i:end].strip()
            items.append(None if word.upper() == "NULL" else word)
            i = end
        if i < n and body[i] == ",":
            i += 1
    return items


def _from_text(pg: PgType, text: str) -> Any:
    name = pg.name
    if name in ("int2", "int4", "int8", "oid"):
        return int(text)
    if name in ("float4", "float8"):
        return float(text)
    if name == "numeric":
        return decimal.Decimal(text)
    if name == "bool":
        return text.strip().lower() in _TRUE
    if name == "bytea":
        return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode("latin-1")
    if name == "date":
        return dt.date.fromisoformat(text)
    if name == "timestamp":
        return dt.datetime.fromisoformat(text)
    return text  # timestamptz, time, interval, uuid, json, text: cast by the engine


def _from_binary(pg: PgType, raw: bytes) -> Any:
    name = pg.name
    if name in ("int2", "int4", "int8"):
        return int.from_bytes(raw, "big", signed=True)
    if name == "oid":
        return int.from_bytes(raw, "big", signed=False)
    if name == "float4":
        return struct.unpack("!f", raw)[0]
    if name == "float8":
        return struct.unpack("!d", raw)[0]
    if name == "bool":
        return raw != b"\x00"
    if name == "numeric":
        return _numeric_from_binary(raw)
    if name == "date":
        return dt.date(2000, 1, 1) + dt.timedelta(days=struct.unpack("!i", raw)[0])
    if name in ("timestamp", "timestamptz"):
        moment = dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=struct.unpack("!q", raw)[0])
        return moment if name == "timestamp" else moment.isoformat(sep=" ") + "+00"
    if name in ("time", "timetz"):
        micros = struct.unpack("!q", raw[:8])[0]
        return (dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=micros)).time()
    if name == "interval":
        micros, days, months = struct.unpack("!qii", raw)
        if months:
            return f"{months} months {days} days {micros} microseconds"
        return dt.timedelta(days=days, microseconds=micros)
    if name == "uuid":
        return str(uuid.UUID(bytes=raw))
    if name == "bytea":
        return raw
    if name == "jsonb":
        return raw[1:].decode("utf-8")
    return raw.decode("utf-8")


def _numeric_from_binary(raw: bytes) -> decimal.Decimal:
    count, weight, sign, scale = struct.unpack("!hhHH", raw[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    groups = struct.unpack(f"!{count}H", raw[8 : 8 + 2 * count])
    digits = "".join(f"{g:04d}" for g in groups)  # base-10000 groups, the first at 10000**weight
    point = 4 * (weight + 1)  # where the decimal point falls in ``digits``
    if point <= 0:
        digits, point = "0" * (-point) + digits, 0
    digits = digits.ljust(point, "0")
    fraction = digits[point:].ljust(scale, "0")[:scale]
    text = (digits[:point].lstrip("0") or "0") + ("." + fraction if scale else "")
    value = decimal.Decimal(text)
    return value.copy_negate() if sign == 0x4000 else value  # no rounding to the context


def _array_from_binary(raw: bytes) -> list[Any]:
    ndim, _has_null, element_oid = struct.unpack("!iii", raw[:12])
    if ndim == 0:
        return []
    if ndim != 1:
        raise ValueError("only one-dimensional arrays are supported as parameters")
    count, _lower = struct.unpack("!ii", raw[12:20])
    element = BY_OID.get(element_oid, TEXT)
    out: list[Any] = []
    at = 20
    for _ in range(count):
        (length,) = struct.unpack("!i", raw[at : at + 4])
        at += 4
        if length < 0:
            out.append(None)
            continue
        out.append(_from_binary(element, raw[at : at + length]))
        at += length
    return out
