"""Result rows as JSON, built a column at a time, are exactly what the value-by-value path gives."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from lakegate.query.results import json_objects, json_rows, jsonable

UTC = dt.UTC
_stamps = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
_COLUMNS: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "int": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float": (pa.float64(), st.floats(allow_nan=False)),
    "text": (pa.string(), st.text()),
    "bool": (pa.bool_(), st.booleans()),
    "date": (pa.date32(), st.dates()),
    "time": (pa.time64("us"), st.times()),
    "stamp": (pa.timestamp("us"), _stamps),
    "stamp_utc": (pa.timestamp("us", tz="Etc/UTC"), _stamps.map(lambda d: d.replace(tzinfo=UTC))),
    "stamp_ms": (
        pa.timestamp("ms"),
        _stamps.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    ),
    "stamp_zone": (
        pa.timestamp("us", tz="America/New_York"),
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
    ),
    "decimal": (pa.decimal128(12, 3), st.decimals(min_value=-(10**8), max_value=10**8, places=3)),
    "bytes": (pa.binary(), st.binary(max_size=8)),
    "list": (pa.list_(pa.int32()), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=3)),
}


def _slow(table: pa.Table) -> list[list[Any]]:
    return [[jsonable(v) for v in row.values()] for row in table.to_pylist()]


@given(
    names=st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=4, unique=True),
    data=st.data(),
    rows=st.integers(0, 6),
)
def test_column_at_a_time_equals_value_by_value(names: list[str], data: st.DataObject, rows: int) -> None:
    arrays = {}
    for name in names:
        kind, values = _COLUMNS[name]
        arrays[name] = pa.array(data.draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), kind)
    table = pa.table(arrays)
    assert json_rows(table) == _slow(table)
    for batch in table.to_batches():  # downloads encode batch by batch
        assert json_objects(batch) == [{k: jsonable(v) for k, v in row.items()} for row in batch.to_pylist()]


def test_the_iso_forms_match_python_at_the_edges() -> None:
    table = pa.table({
        "stamp": pa.array(
            [dt.datetime(2026, 3, 8, 3), dt.datetime(1969, 12, 31, 23, 59, 59, 1)], pa.timestamp("us")
        ),
        "utc": pa.array([dt.datetime(2026, 1, 1, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
        "time": pa.array([dt.time(1, 2, 3), dt.time(0, 0, 0, 5)], pa.time64("us")),
        "amount": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)),
        "nan": pa.array([math.inf, -math.inf]),
    })  # fmt: skip
    assert json_rows(table) == [
        ["2026-03-08T03:00:00", "2026-01-01T00:00:00+00:00", "01:02:03", 1.5, math.inf],
        ["1969-12-31T23:59:59.000001", None, "00:00:00.000005", None, -math.inf],
    ]
    assert json_rows(pa.table({"a": pa.array([], pa.int64())})) == []
