"""The full read of a file that writes its Parquet copy as it goes: the same plan, statistics,
checks and row hash as the plain read, a copy whose rows are those the file gave, and the plain
read whenever the copy cannot be made."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakegate import duck
from lakegate.crawler.detect import detect
from lakegate.crawler.infer import infer
from lakegate.crawler.stats import COPY_HASH, read_all
from lakegate.duck.readers import FilePlan, plan_select
from lakegate.schema import Column


def _infer(path: Path, **options: object) -> FilePlan:
    data = path.read_bytes()
    return infer(duck.connect(), str(path), detect(data[:65536], data[-16:], len(data)), len(data), **options)


def _csv(tmp_path: Path, rows: list[tuple[object, ...]]) -> Path:
    path = tmp_path / "f.csv"
    lines = ["id,day,amount,note"] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


ROWS = [
    (i, f"2026-11-{1 + i % 28:02d}", f"{i * 1.25:.2f}", f"n{i % 7}" if i % 5 else None) for i in range(500)
]


def _screen(columns: list[Column]) -> list[str]:
    return ["count(*) FILTER (WHERE amount > 100)", "max(length(note))"]


def test_the_copy_read_gives_what_the_plain_read_gives(tmp_path: Path) -> None:
    path = _csv(tmp_path, ROWS)
    plain = _infer(path, screen=_screen)
    copied = _infer(path, screen=_screen, copy_to=str(tmp_path / "copy.parquet"))
    assert copied.copy == (str(tmp_path / "copy.parquet"), copied.signature())
    assert plain.copy is None
    assert (copied.rows, copied.stats, copied.screened, copied.row_hash, copied.columns) == (
        plain.rows, plain.stats, plain.screened, plain.row_hash, plain.columns,
    )  # fmt: skip
    conn = duck.connect()
    in_place = conn.execute(f"{plan_select(str(path), plain)}").fetchall()
    names = ", ".join(c.name for c in plain.columns)
    from_copy = conn.execute(f"SELECT {names} FROM read_parquet('{tmp_path}/copy.parquet')").fetchall()
    assert from_copy == in_place  # every row, in the file's order
    # each row carries its hash as the file read it
    check = f"count(*) FILTER (WHERE hash({names}) <> {COPY_HASH})"
    [(bad,)] = conn.execute(f"SELECT {check} FROM read_parquet('{tmp_path}/copy.parquet')").fetchall()
    assert bad == 0


def test_json_records_are_copied_in_the_read_too(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    records = [
        {"n": i, "page": {"path": f"/{i}", "ms": i * 3}, "tags": ["a", "b"][: i % 3]} for i in range(200)
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    plain = _infer(path)
    copied = _infer(path, copy_to=str(tmp_path / "copy.parquet"))
    assert copied.copy is not None and copied.row_hash == plain.row_hash and copied.rows == 200


def test_a_copy_that_cannot_be_written_leaves_the_plain_read(tmp_path: Path) -> None:
    path = _csv(tmp_path, ROWS)
    nowhere = str(tmp_path / "missing-folder" / "copy.parquet")
    done = _infer(path, copy_to=nowhere)
    assert done.copy is None and done.rows == len(ROWS)
    assert done.row_hash == _infer(path).row_hash
    assert not Path(nowhere).exists()


def test_a_value_the_plan_cannot_read_fails_the_read_as_before(tmp_path: Path) -> None:
    """The copy read meets the bad value too: the plain read then says what it is."""
    path = _csv(tmp_path, ROWS)
    plan = _infer(path)
    path.write_text(path.read_text().replace("2026-11-03", "not a day", 1))
    with pytest.raises(duckdb.Error, match="not a day"):
        read_all(duck.connect(), str(path), plan, None, copy_to=str(tmp_path / "copy.parquet"))
    assert not (tmp_path / "copy.parquet").exists()


values = st.one_of(
    st.none(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(values, values), min_size=1, max_size=30))
def test_any_typed_rows_copy_in_the_read_with_the_plain_reads_hash(
    tmp_path: Path, rows: list[tuple[object, object]]
) -> None:
    """Whatever the columns hold, a copy made in the read is a copy of those rows (or none)."""
    conn = duck.connect()
    conn.execute("CREATE OR REPLACE TABLE t (a VARCHAR, b VARCHAR)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?)", [tuple(None if v is None else str(v) for v in r) for r in rows]
    )
    conn.execute(f"COPY t TO '{tmp_path}/any.csv' (HEADER)")
    source = tmp_path / "any.csv"
    copy = tmp_path / "copy.parquet"
    copy.unlink(missing_ok=True)
    plain = _infer(source)
    copied = _infer(source, copy_to=str(copy))
    assert (copied.rows, copied.row_hash, copied.stats) == (plain.rows, plain.row_hash, plain.stats)
    if copied.copy is not None:
        names = ", ".join(c.name for c in plain.columns)
        got = conn.execute(f"SELECT {names} FROM read_parquet('{copy}')").fetchall()
        assert got == conn.execute(plan_select(str(source), plain)).fetchall()
