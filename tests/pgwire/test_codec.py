"""The value codecs on their own: property tests for what a client may send or receive."""

from __future__ import annotations

import decimal

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from lakegate.pgwire.types import (
    _array_items,
    _numeric_binary,
    _numeric_from_binary,
    _strings,
    column,
    data_rows,
    encode,
    scalar_text,
)
from lakegate.query.pg_types import BY_NAME

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d) < 10**30)


@given(decimals)
def test_numeric_binary_round_trips(value: decimal.Decimal) -> None:
    back = _numeric_from_binary(_numeric_binary(value))
    assert back == value and (back.is_zero() or back.as_tuple().exponent == min(0, value.as_tuple().exponent))


@given(
    st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)))
)
def test_array_literals_read_back_what_was_written(items: list[str | None]) -> None:
    literal = scalar_text(BY_NAME["text"], items, BY_NAME["text"])  # an array of text
    assert _array_items(literal) == items


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=30),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30),
)
def test_data_rows_lay_out_each_value_with_its_length(texts: list[str | None], numbers: list[int]) -> None:
    rows = min(len(texts), len(numbers))
    first = pa.array(texts[:rows], pa.string())
    second = pa.array(numbers[:rows], pa.int64())
    wire = data_rows([encode(first, column("VARCHAR", 0)), encode(second, column("BIGINT", 1))], rows)
    at = 0
    for i in range(rows):
        assert wire[at : at + 1] == b"D"
        length = int.from_bytes(wire[at + 1 : at + 5], "big")
        body = wire[at + 5 : at + 1 + length]
        assert int.from_bytes(body[:2], "big") == 2
        size = int.from_bytes(body[2:6], "big", signed=True)
        text = None if size < 0 else body[6 : 6 + size].decode()
        assert text == texts[i]
        rest = body[6 + max(size, 0) :]
        assert (
            int.from_bytes(rest[:4], "big") == 8
            and int.from_bytes(rest[4:12], "big", signed=True) == numbers[i]
        )
        at += 1 + length
    assert at == len(wire)


def test_a_sliced_string_array_keeps_its_offsets() -> None:
    sliced = pa.array(["aa", "b", None, "cccc"]).slice(1, 3)
    data, starts, lengths = _strings(sliced)
    assert [bytes(data[s : s + n]) if n >= 0 else None for s, n in zip(starts, lengths, strict=True)] == [
        b"b", None, b"cccc",
    ]  # fmt: skip
