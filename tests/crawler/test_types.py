"""The type lattice: parsing round-trips, and join is commutative, associative, idempotent and lossless."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.types import DType, join, join_text, parse_type

SCALARS = [
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL(18,3)", "DECIMAL(10,2)", "DATE", "TIME", "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_MS", "VARCHAR", "BLOB", "UUID", "INTERVAL", "NULL",
]  # fmt: skip

names = st.text(alphabet='abcdefgh_ X"', min_size=1, max_size=6)


def types(depth: int = 2) -> st.SearchStrategy[DType]:
    scalar = st.sampled_from(SCALARS).map(parse_type)
    if depth == 0:
        return scalar
    inner = types(depth - 1)
    struct = st.lists(st.tuples(names, inner), min_size=1, max_size=3, unique_by=lambda f: f[0]).map(
        lambda fields: DType("STRUCT", fields=tuple(fields))
    )
    return st.one_of(scalar, inner.map(lambda t: DType("LIST", element=t)), struct)


@given(types())
def test_parse_roundtrip(t: DType) -> None:
    assert parse_type(str(t)) == t


@given(types(), types())
def test_join_is_commutative(a: DType, b: DType) -> None:
    assert join(a, b) == join(b, a)


@given(types(), types(), types())
@settings(max_examples=300)
def test_join_is_associative(a: DType, b: DType, c: DType) -> None:
    assert join(join(a, b), c) == join(a, join(b, c))


@given(types())
def test_join_is_idempotent(a: DType) -> None:
    assert join(a, a) == a


@given(
    st.sampled_from([s for s in SCALARS if s != "NULL"]), st.sampled_from([s for s in SCALARS if s != "NULL"])
)
def test_join_casts_both_sides_without_error(a: str, b: str) -> None:
    """DuckDB accepts a cast from either side to the join (the view casts file types to table types)."""
    target = join_text(a, b)
    con = duckdb.connect()
    for source in (a, b):
        con.execute(f"SELECT CAST(CAST(NULL AS {source}) AS {target})").fetchall()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("BIGINT", "DOUBLE", "DOUBLE"),
        ("INTEGER", "BIGINT", "BIGINT"),
        ("BIGINT", "VARCHAR", "VARCHAR"),
        ("BOOLEAN", "BIGINT", "VARCHAR"),
        ("DATE", "TIMESTAMP", "TIMESTAMP"),
        ("DATE", "VARCHAR", "VARCHAR"),
        ("NULL", "DATE", "DATE"),
        ("UBIGINT", "BIGINT", "HUGEINT"),
        ("DECIMAL(10,2)", "DECIMAL(10,2)", "DECIMAL(10,2)"),
        ("DECIMAL(10,2)", "BIGINT", "DOUBLE"),
        ('STRUCT("a" BIGINT)', 'STRUCT("a" DOUBLE, "b" VARCHAR)', 'STRUCT("a" DOUBLE, "b" VARCHAR)'),
        ("BIGINT[]", "DOUBLE[]", "DOUBLE[]"),
        ("BIGINT[]", "BIGINT", "VARCHAR"),
    ],
)
def test_documented_joins(a: str, b: str, expected: str) -> None:
    assert join_text(a, b) == expected


def test_unparseable_type_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="cannot parse type"):
        parse_type("STRUCT(")


def test_only_typed_values_turning_into_text_count_as_a_change_to_text() -> None:
    from lakegate.schema import to_text

    assert to_text("BIGINT", "VARCHAR") and to_text("DATE", "VARCHAR") and to_text("BOOLEAN", "VARCHAR")
    assert to_text('STRUCT("a" BIGINT)', 'STRUCT("a" VARCHAR)') and to_text("BIGINT[]", "VARCHAR[]")
    assert not to_text("JSON[]", "VARCHAR[]")  # an empty list's elements: text already
    assert not to_text("NULL", "VARCHAR") and not to_text("VARCHAR", "VARCHAR")
    assert not to_text("BIGINT", "DOUBLE") and not to_text("DATE", "TIMESTAMP")
