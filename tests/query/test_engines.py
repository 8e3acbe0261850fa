"""One behaviour suite for every query engine (``query/engines/``): what the gateway asks of an
engine — run, stream, cancel, describe — holds the same whichever runs it, grants and limits
included. A new engine is added to ``ENGINES`` and must pass all of it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import GuardError, QueryError
from lakegate.query.engines import Engine
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.isolated import IsolatedEngine
from lakegate.query.engines.spark_engine import SparkEngine
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver

ENGINES = ["in-process", "engine-processes", pytest.param("spark", marks=pytest.mark.slow)]
RUNAWAY = "SELECT count(*) FROM range(100000000) a, range(100000000) b"


@pytest.fixture(params=ENGINES)
def engine(app: App, request: pytest.FixtureRequest) -> Iterator[Engine]:
    deliver(app, "landing/shop/orders/a.csv", b"id,region,amount\n1,EU,2.5\n2,US,3\n3,EU,4\n")
    deliver(app, "landing/hr/pay/a.csv", b"name,salary\nann,1\n")
    made: Engine
    if request.param == "in-process":
        made = QueryEngine(app.catalog, app.store, app.settings.query)
    elif request.param == "spark":
        url = request.getfixturevalue("spark_url")
        made = SparkEngine(app.catalog, app.store, app.settings.query, url)
    else:
        made = IsolatedEngine(str(app.home.root), app.settings.model_dump(), app.settings.query, processes=2)
    yield made
    made.close()


@pytest.fixture
def ann(app: App) -> object:
    """An analyst granted shop's EU rows without the amount column."""
    Principals(app.catalog).add("ann", role="analyst")
    grants = Grants(app.catalog)
    grants.grant(
        principal="ann", database="shop", columns=["amount"], exclude=True, row_filter="region = 'EU'", by="t"
    )
    return grants.access_for(Principals(app.catalog).require("ann"))


def test_execute_answers_with_the_whole_result_and_what_it_read(engine: Engine) -> None:
    result = engine.execute("SELECT id, amount FROM shop.orders WHERE id > ? ORDER BY id", [1])
    assert result.table.to_pylist() == [{"id": 2, "amount": 3.0}, {"id": 3, "amount": 4.0}]
    assert result.tables == ["shop.orders"] and result.bytes_estimated > 0 and not result.reused


def test_stream_delivers_batches_and_tells_what_it_read(engine: Engine) -> None:
    stream = engine.stream("SELECT range AS n FROM range(200000)")
    assert stream.schema.names == ["n"] and stream.types == ["BIGINT"]
    assert sum(batch.num_rows for batch in stream) == 200000 == stream.rows


def test_closing_a_stream_cancels_its_query(engine: Engine) -> None:
    stream = engine.stream(RUNAWAY)
    time.sleep(0.5)
    began = time.monotonic()
    stream.close()
    with pytest.raises(QueryError) as err:
        list(stream)
    assert err.value.code == "query.cancelled" and time.monotonic() - began < 15


def test_describe_names_the_columns_without_running(engine: Engine) -> None:
    schema, types = engine.describe("SELECT id, region, amount * ? AS twice FROM shop.orders", 1)
    assert schema.names == ["id", "region", "twice"] and types[:2] == ["BIGINT", "VARCHAR"]
    schema, _ = engine.describe(RUNAWAY)  # it would run for hours: described at once
    assert schema.names == ["count_star()"]


def test_grants_decide_the_rows_columns_and_tables_seen(engine: Engine, ann: object) -> None:
    seen = engine.execute("SELECT * FROM shop.orders ORDER BY id", access=ann)  # type: ignore[arg-type]
    assert seen.table.column_names == ["id", "region"]
    assert seen.table.to_pylist() == [{"id": 1, "region": "EU"}, {"id": 3, "region": "EU"}]
    with pytest.raises(GuardError) as err:
        engine.execute("SELECT * FROM hr.pay", access=ann)  # type: ignore[arg-type]
    assert err.value.code == "guard.table_unknown"
    assert [f.name for f in engine.describe("SELECT * FROM shop.orders", access=ann)[0]] == ["id", "region"]  # type: ignore[arg-type]


def test_a_workgroups_limits_replace_the_engines(engine: Engine) -> None:
    tight = engine.settings.model_copy(update={"max_rows": 5, "timeout_seconds": 1.0})
    with pytest.raises(QueryError) as err:
        engine.execute("SELECT * FROM range(10)", limits=tight)
    assert err.value.code == "query.rows"
    with pytest.raises(QueryError) as err:
        engine.execute(RUNAWAY, limits=tight)
    assert err.value.code == "query.timeout"
    with pytest.raises(QueryError) as err:
        engine.execute("SELECT * FROM shop.orders", max_bytes=10)
    assert err.value.code == "query.bytes_limit"
    assert engine.execute("SELECT * FROM range(10)").table.num_rows == 10  # the engine's own again


def test_writes_and_other_dialects(engine: Engine) -> None:
    for refused in ("DELETE FROM shop.orders", "CREATE TABLE x AS SELECT 1", "COPY shop.orders TO '/tmp/x'"):
        with pytest.raises(GuardError):
            engine.execute(refused)
    athena = engine.execute("SELECT date_format(DATE '2026-01-02', '%Y/%m/%d') AS d", dialect="athena")
    assert athena.table.to_pylist() == [{"d": "2026/01/02"}]
