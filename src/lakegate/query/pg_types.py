"""The PostgreSQL type of each engine type: what ``pg_catalog`` answers describe and what the
PostgreSQL wire sends (OID, size, modifier; arrays by their element's array type)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PgType:
    oid: int
    name: str
    size: int  # bytes, -1 variable
    array_oid: int = 0


_T = [
    PgType(16, "bool", 1, 1000),
    PgType(17, "bytea", -1, 1001),
    PgType(18, "char", 1, 1002),
    PgType(19, "name", 64, 1003),
    PgType(20, "int8", 8, 1016),
    PgType(21, "int2", 2, 1005),
    PgType(23, "int4", 4, 1007),
    PgType(25, "text", -1, 1009),
    PgType(26, "oid", 4, 1028),
    PgType(114, "json", -1, 199),
    PgType(700, "float4", 4, 1021),
    PgType(701, "float8", 8, 1022),
    PgType(705, "unknown", -2, 0),
    PgType(1043, "varchar", -1, 1015),
    PgType(1082, "date", 4, 1182),
    PgType(1083, "time", 8, 1183),
    PgType(1114, "timestamp", 8, 1115),
    PgType(1184, "timestamptz", 8, 1185),
    PgType(1186, "interval", 16, 1187),
    PgType(1266, "timetz", 12, 1270),
    PgType(1700, "numeric", -1, 1231),
    PgType(2950, "uuid", 16, 2951),
    PgType(3802, "jsonb", -1, 3807),
]
BY_NAME = {t.name: t for t in _T}
BY_OID = {t.oid: t for t in _T}
ARRAY_OF = {t.array_oid: t for t in _T if t.array_oid}
TEXT = BY_NAME["text"]

_DUCK = {
    "BOOLEAN": "bool", "TINYINT": "int2", "SMALLINT": "int2", "UTINYINT": "int2", "INTEGER": "int4",
    "USMALLINT": "int4", "BIGINT": "int8", "UINTEGER": "int8", "UBIGINT": "numeric", "HUGEINT": "numeric",
    "UHUGEINT": "numeric", "FLOAT": "float4", "DOUBLE": "float8", "VARCHAR": "text", "BLOB": "bytea",
    "DATE": "date", "TIME": "time", "TIME WITH TIME ZONE": "timetz", "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "INTERVAL": "interval", "UUID": "uuid", "JSON": "json",
    "VARINT": "numeric", "BIGNUM": "numeric",
}  # fmt: skip
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_ARRAY = re.compile(r"^(.*?)(\[\d*\])$")


def pg_type(duck: str) -> tuple[PgType, int, PgType | None]:
    """The PostgreSQL type (with modifier, and element type for arrays) of a DuckDB type."""
    duck = duck.strip().upper()
    found = _DECIMAL.fullmatch(duck)
    if found:
        precision, scale = int(found[1]), int(found[2])
        return BY_NAME["numeric"], ((precision << 16) | scale) + 4, None
    array = _ARRAY.match(duck)
    if array:
        inner, _m, element = pg_type(array[1])
        if element is None and inner.array_oid:
            return PgType(inner.array_oid, "_" + inner.name, -1), -1, inner
        return TEXT, -1, None  # arrays of arrays, of structs...: their text
    if duck.startswith(("STRUCT", "MAP", "UNION")):
        return BY_NAME["json"], -1, None
    name = _DUCK.get(duck)
    return (BY_NAME[name] if name else TEXT), -1, None
