"""Result reuse: an identical query over the same files may be answered by a kept result, when
it asks — never after a file it could read arrived, never across different grants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakegate.app import App
from lakegate.query import result_cache
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Access
from tests.ingest.test_pipeline import deliver

HOUR = 3600.0
SQL = "SELECT dt, count(*) AS n, sum(v) AS total FROM r.t WHERE dt = '2026-01-01' GROUP BY dt"


@pytest.fixture
def engine(app: App) -> Iterator[QueryEngine]:
    deliver(app, "landing/r/t/dt=2026-01-01/a.csv", b"id,v\n1,10\n2,20\n")
    deliver(app, "landing/r/t/dt=2026-01-02/a.csv", b"id,v\n3,30\n")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    yield engine
    engine.close()


def test_an_identical_query_over_unchanged_files_is_answered_from_the_kept_result(
    engine: QueryEngine,
) -> None:
    first = engine.execute(SQL, reuse_seconds=HOUR)
    again = engine.execute(SQL, reuse_seconds=HOUR)
    assert not first.reused and first.bytes_scanned > 0
    assert again.reused and again.bytes_scanned == 0 and again.bytes_estimated == first.bytes_estimated
    assert again.table.equals(first.table) and again.tables == ["r.t"]
    assert not engine.execute(SQL).reused  # not asked: run
    assert not engine.execute(SQL.replace("count(*)", "count(id)"), reuse_seconds=HOUR).reused
    assert not engine.execute(f"{SQL} HAVING count(*) > ?", [0], reuse_seconds=HOUR).reused
    assert engine.execute(f"{SQL} HAVING count(*) > ?", [0], reuse_seconds=HOUR).reused
    assert not engine.execute(f"{SQL} HAVING count(*) > ?", [5], reuse_seconds=HOUR).reused


def test_a_file_the_query_can_read_makes_it_run_again_one_it_cannot_does_not(
    app: App, engine: QueryEngine
) -> None:
    engine.execute(SQL, reuse_seconds=HOUR)
    deliver(app, "landing/r/t/dt=2026-01-02/b.csv", b"id,v\n4,40\n")  # another day: pruned away
    same = engine.execute(SQL, reuse_seconds=HOUR)
    assert same.reused and same.table.to_pylist() == [{"dt": "2026-01-01", "n": 2, "total": 30}]
    deliver(app, "landing/r/t/dt=2026-01-01/b.csv", b"id,v\n5,50\n")  # the day it reads
    fresh = engine.execute(SQL, reuse_seconds=HOUR)
    assert not fresh.reused and fresh.table.to_pylist() == [{"dt": "2026-01-01", "n": 3, "total": 80}]
    assert engine.execute(SQL, reuse_seconds=HOUR).reused


def test_results_are_not_shared_across_different_grants(engine: QueryEngine) -> None:
    names = ["id", "v", "dt"]

    def filtered(_database: str, _table: str, _names: list[str]) -> Access:
        return Access(dict.fromkeys(names), "v > 10")

    def whole(_database: str, _table: str, _names: list[str]) -> Access:
        return Access(dict.fromkeys(names), None)

    everything = engine.execute(SQL, access=whole, reuse_seconds=HOUR)
    only = engine.execute(SQL, access=filtered, reuse_seconds=HOUR)
    assert not only.reused and only.table.to_pylist() == [{"dt": "2026-01-01", "n": 1, "total": 20}]
    assert everything.table.to_pylist() == [{"dt": "2026-01-01", "n": 2, "total": 30}]
    # the same grants as the admin's reading: the same views, so the same result may serve
    assert engine.execute(SQL, access=whole, reuse_seconds=HOUR).reused


def test_a_result_older_than_asked_is_not_reused(
    engine: QueryEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(result_cache.time, "monotonic", lambda: now[0])
    engine.execute(SQL, reuse_seconds=60)
    now[0] += 59
    assert engine.execute(SQL, reuse_seconds=60).reused
    now[0] += 2
    assert not engine.execute(SQL, reuse_seconds=60).reused  # 61 s old: run again, kept anew
    assert engine.execute(SQL, reuse_seconds=60).reused


def test_the_memory_bound_holds(app: App) -> None:
    deliver(app, "landing/r/t/dt=2026-01-01/a.csv", b"id,v\n1,10\n")
    engine = QueryEngine(app.catalog, app.store, app.settings.query.model_copy(update={"result_cache_mb": 1}))
    try:
        big = "SELECT range AS n, repeat('x', 100) AS s FROM range(20000)"  # ~2.5 MB: more than a quarter
        engine.execute(big, reuse_seconds=HOUR)
        assert not engine.execute(big, reuse_seconds=HOUR).reused
        for i in range(40):  # many small results: the oldest go
            engine.execute(
                f"SELECT range + {i} AS n, repeat('x', 100) AS s FROM range(1000)", reuse_seconds=HOUR
            )
        assert engine.results._bytes <= 2**20
        assert engine.execute("SELECT range + 39 AS n, repeat('x', 100) AS s FROM range(1000)",
                              reuse_seconds=HOUR).reused  # fmt: skip
        assert not engine.execute("SELECT range + 0 AS n, repeat('x', 100) AS s FROM range(1000)",
                                  reuse_seconds=HOUR).reused  # fmt: skip
    finally:
        engine.close()


def test_a_streamed_query_is_kept_and_replayed_with_its_types(engine: QueryEngine) -> None:
    sql = "SELECT id, v, CAST(v AS DECIMAL(10,2)) AS d FROM r.t ORDER BY id"
    first = engine.stream(sql, reuse_seconds=HOUR)
    rows = [r for b in first for r in b.to_pylist()]
    again = engine.stream(sql, reuse_seconds=HOUR)
    assert again.reused and again.schema == first.schema
    assert again.types == first.types and "DECIMAL(10,2)" in again.types
    assert [r for b in again for r in b.to_pylist()] == rows and again.bytes_scanned == 0
    long = "SELECT range AS n FROM range(2000000)"
    cut = engine.stream(long, reuse_seconds=HOUR)
    next(iter(cut))
    cut.close()  # stopped early: nothing kept
    again_long = engine.stream(long, reuse_seconds=HOUR)
    again_long.close()
    assert not again_long.reused


def test_a_kept_result_larger_than_the_row_cap_does_not_pass_it(engine: QueryEngine) -> None:
    from lakegate.errors import QueryError

    sql = "SELECT range AS n FROM range(20)"
    assert sum(b.num_rows for b in engine.stream(sql, reuse_seconds=HOUR)) == 20  # kept, uncapped
    capped = engine.settings.model_copy(update={"max_rows": 10})
    with pytest.raises(QueryError) as refused:
        engine.execute(sql, limits=capped, reuse_seconds=HOUR)
    assert refused.value.code == "query.rows"
    assert engine.execute(sql, reuse_seconds=HOUR).reused  # under the default cap it fits
