"""Every common type travels both ways, in text and in binary, with psycopg 3."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Json

from tests.pgwire.conftest import Lake

UID = uuid.UUID("12345678-1234-5678-1234-567812345678")
# a DuckDB expression, the value psycopg must read back, and the PostgreSQL type name
RESULTS: list[tuple[str, Any, str]] = [
    ("true", True, "bool"),
    ("CAST(-7 AS SMALLINT)", -7, "int2"),
    ("CAST(2147483647 AS INTEGER)", 2147483647, "int4"),
    ("CAST(-9223372036854775807 AS BIGINT)", -9223372036854775807, "int8"),
    ("CAST(1.5 AS FLOAT)", 1.5, "float4"),
    ("CAST(-2.25e300 AS DOUBLE)", -2.25e300, "float8"),
    ("CAST('NaN' AS DOUBLE)", "nan", "float8"),
    ("CAST('-Infinity' AS DOUBLE)", float("-inf"), "float8"),
    ("CAST(-12345.678 AS DECIMAL(12,3))", decimal.Decimal("-12345.678"), "numeric"),
    ("CAST(0.0001 AS DECIMAL(10,4))", decimal.Decimal("0.0001"), "numeric"),
    (
        "CAST(123456789012345678901234567 AS HUGEINT)",
        decimal.Decimal("123456789012345678901234567"),
        "numeric",
    ),
    ("'héllo ''world'''", "héllo 'world'", "text"),
    ("DATE '2026-02-28'", dt.date(2026, 2, 28), "date"),
    ("DATE '1999-12-31'", dt.date(1999, 12, 31), "date"),
    ("TIME '23:59:58.123456'", dt.time(23, 59, 58, 123456), "time"),
    ("TIMESTAMP '2026-01-02 03:04:05.678901'", dt.datetime(2026, 1, 2, 3, 4, 5, 678901), "timestamp"),
    ("TIMESTAMP '1970-01-01 00:00:00'", dt.datetime(1970, 1, 1), "timestamp"),
    ("TIMESTAMPTZ '2026-01-02 03:04:05+02'", dt.datetime(2026, 1, 2, 1, 4, 5, tzinfo=dt.UTC), "timestamptz"),
    ("INTERVAL '3 days 04:05:06.5'", dt.timedelta(days=3, hours=4, minutes=5, seconds=6.5), "interval"),
    ("'\\x00\\xff\\x10'::BLOB", b"\x00\xff\x10", "bytea"),
    (f"UUID '{UID}'", UID, "uuid"),
    ("'{\"a\": [1, 2]}'::JSON", {"a": [1, 2]}, "json"),
    ("[1, 2, NULL]::INTEGER[]", [1, 2, None], "_int4"),
    ("['a', 'b c', NULL, '\"q\"']", ["a", "b c", None, '"q"'], "_text"),
    ("[1.5, 2.5]::DOUBLE[]", [1.5, 2.5], "_float8"),
    ("[DATE '2026-01-01']", [dt.date(2026, 1, 1)], "_date"),
    ("[true, false]", [True, False], "_bool"),
    ("CAST(NULL AS INTEGER)", None, "int4"),
]


def same(got: Any, want: Any) -> bool:
    if want == "nan":
        return isinstance(got, float) and got != got
    return bool(got == want)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_results_of_every_common_type(lake: Lake, binary: bool) -> None:
    with psycopg.connect(lake.dsn("root"), autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        for expression, want, type_name in RESULTS:
            cur.execute(f"SELECT {expression} AS v")
            got = cur.fetchone()[0]  # type: ignore[index]
            assert same(got, want), (expression, got, want)
            oid = cur.description[0].type_code  # type: ignore[index]
            known = conn.adapters.types[type_name.removeprefix("_")]
            assert oid == (known.array_oid if type_name.startswith("_") else known.oid), (expression, oid)


PARAMETERS: list[tuple[Any, str]] = [
    (True, "BOOLEAN"), (-7, "SMALLINT"), (123456, "INTEGER"), (2**62, "BIGINT"), (1.25, "DOUBLE"),
    (decimal.Decimal("-98765.4321"), "DECIMAL(12,4)"), ("it's", "VARCHAR"), (dt.date(2026, 3, 1), "DATE"),
    (dt.time(1, 2, 3, 4), "TIME"), (dt.datetime(2026, 3, 1, 4, 5, 6, 7), "TIMESTAMP"),
    (dt.datetime(2026, 3, 1, 4, 5, 6, tzinfo=dt.UTC), "TIMESTAMPTZ"),
    (dt.timedelta(days=2, seconds=5), "INTERVAL"), (b"\x00\x01\xfe", "BLOB"), (UID, "UUID"),
    ([1, 2, 3], "INTEGER[]"), (["x", "y"], "VARCHAR[]"), (Json({"k": "v"}), "JSON"),
]  # fmt: skip


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_of_every_common_type_round_trip(lake: Lake, binary: bool) -> None:
    with psycopg.connect(lake.dsn("root"), autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        for value, duck_type in PARAMETERS:
            cur.execute(f"SELECT CAST(%s AS {duck_type}) AS v", [value])
            got = cur.fetchone()[0]  # type: ignore[index]
            want = value.obj if isinstance(value, Json) else value
            assert got == want, (duck_type, got, want)
        # untyped (unknown) parameters are typed by the query around them
        cur.execute("SELECT id FROM acme.orders WHERE day = %s ORDER BY id", ["2026-01-02"])
        assert cur.fetchall() == [(2,)]
