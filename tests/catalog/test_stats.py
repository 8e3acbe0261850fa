"""Statistics per file (from the crawler's read or a Parquet footer), per partition and table."""

from __future__ import annotations

from pathlib import Path

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.catalog.records import FileRecord
from lakegate.catalog.stats import by_partition, summarize
from lakegate.schema import Column
from tests.crawler.test_detect_infer import plan_of, write
from tests.ingest.test_pipeline import deliver


def test_csv_statistics_come_from_the_crawlers_one_read(tmp_path: Path) -> None:
    long = "z" * 100
    plan = plan_of(
        write(tmp_path, "a.csv", f"id,name,day\n3,bob,2026-01-02\n1,,2026-01-01\n2,{long},\n".encode())
    )
    assert plan.stats == {
        "id": {"min": 1, "max": 3, "nulls": 0},
        "name": {"min": "bob", "nulls": 1},  # a long maximum is not kept: its prefix is no upper bound
        "day": {"min": "2026-01-01", "max": "2026-01-02", "nulls": 1},
    }


def test_parquet_statistics_come_from_its_footer(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    duckdb.connect().execute(
        "COPY (SELECT range AS id, CASE WHEN range % 2 = 0 THEN NULL ELSE range * 1.5 END AS x, "
        f"{{'k': range}} AS s FROM range(10)) TO '{path}' (ROW_GROUP_SIZE 3)"
    )
    stats = plan_of(path).stats
    assert stats["id"] == {"min": 0, "max": 9, "nulls": 0}
    assert stats["x"] == {"min": "1.5", "max": "13.5", "nulls": 5}  # decimals: exact, as text
    assert "min" not in stats.get("s", {})  # nested: no bounds


def record(name: str, values: list[int | None], *, typ: str = "BIGINT", part: str = "") -> FileRecord:
    present = [v for v in values if v is not None]
    stats = {"nulls": len(values) - len(present)}
    if present:
        stats |= {"min": min(present), "max": max(present)}
    return FileRecord(
        key=f"lake/t/{name}",
        size=10,
        sha256="0" * 64,
        row_count=len(values),
        format="csv",
        options={},
        columns=[Column("v", "v", typ)],
        partition={"dt": part} if part else {},
        stats={"v": stats},
    )


@given(st.lists(st.lists(st.none() | st.integers(-1000, 1000), max_size=8), min_size=1, max_size=6))
def test_table_statistics_are_those_of_all_rows(files: list[list[int | None]]) -> None:
    summary = summarize([record(str(n), values) for n, values in enumerate(files)], ["v"])
    every = [v for values in files for v in values]
    present = [v for v in every if v is not None]
    expected = {"nulls": len(every) - len(present)} | (
        {"min": min(present), "max": max(present)} if present else {}
    )
    assert summary.columns["v"] == expected
    assert summary.rows == len(every) and summary.files == len(files)


def test_a_file_without_the_column_counts_as_nulls_and_mixed_types_have_no_bounds() -> None:
    old = FileRecord("lake/t/old", 5, "0" * 64, 4, "csv", {}, [Column("w", "w", "BIGINT")], {}, stats={})
    summary = summarize([old, record("new", [5, None])], ["v"])
    assert summary.columns["v"] == {"nulls": 5, "min": 5, "max": 5}
    widened = FileRecord(
        "lake/t/text",
        5,
        "0" * 64,
        1,
        "csv",
        {},
        [Column("v", "v", "VARCHAR")],
        {},
        stats={"v": {"min": "a", "max": "b", "nulls": 0}},
    )
    assert summarize([record("n", [1]), widened], ["v"]).columns["v"] == {"nulls": 0}


def test_decimals_compare_as_numbers_not_text() -> None:
    def dec(name: str, low: str, high: str) -> FileRecord:
        stats = {"v": {"min": low, "max": high, "nulls": 0}}
        return FileRecord(
            f"lake/t/{name}", 1, "0" * 64, 2, "csv", {}, [Column("v", "v", "DECIMAL(9,2)")], {}, stats=stats
        )

    assert summarize([dec("a", "9.50", "10.25"), dec("b", "10.00", "100.00")], ["v"]).columns["v"] == {
        "nulls": 0,
        "min": "9.50",
        "max": "100.00",
    }


def test_partitions_group_their_files() -> None:
    files = [record("a", [1], part="1"), record("b", [2], part="2"), record("c", [3], part="1")]
    assert {k: [f.key for f in v] for k, v in by_partition(files).items()} == {
        "dt=1": ["lake/t/a", "lake/t/c"],
        "dt=2": ["lake/t/b"],
    }


def test_statistics_are_kept_in_the_catalog(app: App) -> None:
    deliver(app, "landing/s/t/a.csv", b"id,amount\n1,2.5\n7,\n")
    table = app.catalog.table("s", "t")
    assert table is not None
    assert table.files[0].stats == {
        "id": {"min": 1, "max": 7, "nulls": 0},
        "amount": {"min": 2.5, "max": 2.5, "nulls": 1},
    }
