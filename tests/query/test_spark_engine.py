"""The Spark engine answers as DuckDB does: the same rows and columns over the same delivered
files (read in place or through their Parquet copies), the same grants, refusals and limits;
cancel and timeouts stop Spark's work. Runs on the Spark Connect server of the pyspark wheel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import GuardError, QueryError
from lakegate.ingest.accelerate import Accelerator
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_engine import SparkEngine
from lakegate.query.engines.spark_views import spark_views
from lakegate.query.permissions import Grants
from tests import sparkserver
from tests.ingest.test_pipeline import deliver

pytestmark = pytest.mark.slow
RUNAWAY = "SELECT count(*) FROM range(100000000) a, range(100000000) b"
QUERIES = [
    "SELECT dt, region, count(*) AS n, sum(amount) AS s FROM shop.orders GROUP BY dt, region ORDER BY 1, 2",
    "SELECT id, channel, dt FROM shop.orders ORDER BY id",
    "SELECT o.id, c.name FROM shop.orders o JOIN shop.customers c ON o.id = c.id ORDER BY o.id",
    "SELECT region, avg(amount) AS mean FROM shop.orders WHERE dt = '2026-01-02' GROUP BY region ORDER BY 1",
    "SELECT upper(name) AS name, length(name) AS len FROM shop.customers WHERE name LIKE 'a%' ORDER BY 1",
]


@pytest.fixture(scope="module")
def spark_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = sparkserver.start(tmp_path_factory.mktemp("spark"))
    yield server.url
    server.stop()


@pytest.fixture
def lake(app: App) -> App:
    deliver(app, "landing/shop/orders/dt=2026-01-01/a.csv", b"id,region,amount\n1,EU,2.5\n2,US,3\n3,EU,4\n")
    deliver(
        app,
        "landing/shop/orders/dt=2026-01-02/b.csv",
        b"id,region,amount,channel\n4,EU,1.5,web\n5,US,7,shop\n",
    )
    deliver(app, "landing/shop/customers/c.csv", b"id,name\n1,ann\n2,bob\n4,alice\n")
    return app


@pytest.fixture
def engines(lake: App, spark_url: str) -> Iterator[tuple[QueryEngine, SparkEngine]]:
    duck = QueryEngine(lake.catalog, lake.store, lake.settings.query)
    spark = SparkEngine(lake.catalog, lake.store, lake.settings.query, spark_url)
    yield duck, spark
    duck.close()
    spark.close()


def _same(duck: QueryEngine, spark: SparkEngine, sql: str, **kwargs: object) -> list[dict[str, object]]:
    expected = duck.execute(sql, **kwargs).table  # type: ignore[arg-type]
    got = spark.execute(sql, **kwargs).table  # type: ignore[arg-type]
    assert got.column_names == expected.column_names, sql
    assert got.to_pylist() == expected.to_pylist(), sql
    return got.to_pylist()


def test_answers_equal_duckdbs_over_files_read_in_place(engines: tuple[QueryEngine, SparkEngine]) -> None:
    duck, spark = engines
    for sql in QUERIES:
        _same(duck, spark, sql)
    rows = _same(
        duck, spark, "SELECT id, channel FROM shop.orders WHERE amount > ? ORDER BY id", params=[2.9]
    )
    assert rows == [{"id": 2, "channel": None}, {"id": 3, "channel": None}, {"id": 5, "channel": "shop"}]


def test_answers_equal_duckdbs_through_the_parquet_copies(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    duck, spark = engines
    Accelerator(lake.catalog, lake.store, lambda: lake.settings).run_pending()
    plan = spark.planner.plan("SELECT * FROM shop.orders")
    assert {s.format for s in spark_views(plan, lake.store.url).sources} == {"parquet"}
    for sql in QUERIES:
        _same(duck, spark, sql)


def test_a_file_arriving_between_two_queries_is_seen_by_the_second(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    _duck, spark = engines
    before = spark.execute("SELECT count(*) AS n FROM shop.orders").table.to_pylist()
    deliver(lake, "landing/shop/orders/dt=2026-01-03/c.csv", b"id,region,amount\n6,EU,1\n")
    after = spark.execute("SELECT count(*) AS n FROM shop.orders").table.to_pylist()
    assert (before, after) == ([{"n": 5}], [{"n": 6}])


def test_grants_hold_on_spark_as_on_duckdb(lake: App, engines: tuple[QueryEngine, SparkEngine]) -> None:
    duck, spark = engines
    Principals(lake.catalog).add("ann", role="analyst")
    grants = Grants(lake.catalog)
    grants.grant(
        principal="ann", database="shop", columns=["amount"], exclude=True, row_filter="region = 'EU'", by="t"
    )
    ann = grants.access_for(Principals(lake.catalog).require("ann"))
    rows = _same(duck, spark, "SELECT * FROM shop.orders ORDER BY id", access=ann)
    assert [r["id"] for r in rows] == [1, 3, 4] and "amount" not in rows[0]
    with pytest.raises(QueryError):
        spark.execute("SELECT amount FROM shop.orders", access=ann)


def test_refusals_happen_before_spark_is_asked(engines: tuple[QueryEngine, SparkEngine]) -> None:
    _duck, spark = engines
    with pytest.raises(GuardError):
        spark.execute("DELETE FROM shop.orders")
    with pytest.raises(GuardError):
        spark.execute("SELECT * FROM read_csv('/etc/passwd')")
    tight = spark.settings.model_copy(update={"max_rows": 2})
    with pytest.raises(QueryError) as err:
        spark.execute("SELECT * FROM shop.orders", limits=tight)
    assert err.value.code == "query.rows"


def test_closing_a_stream_and_a_timeout_stop_sparks_work(engines: tuple[QueryEngine, SparkEngine]) -> None:
    _duck, spark = engines
    stream = spark.stream(RUNAWAY)
    time.sleep(3)
    began = time.monotonic()
    stream.close()
    with pytest.raises(QueryError) as err:
        list(stream)
    assert err.value.code == "query.cancelled" and time.monotonic() - began < 20
    short = spark.settings.model_copy(update={"timeout_seconds": 3.0})
    began = time.monotonic()
    with pytest.raises(QueryError) as err:
        spark.execute(RUNAWAY, limits=short)
    assert err.value.code == "query.timeout" and time.monotonic() - began < 30


def test_spark_views_read_each_file_group_with_an_explicit_schema(lake: App, tmp_path: Path) -> None:
    engine = SparkEngine(lake.catalog, lake.store, lake.settings.query, "sc://unused:1")
    views = spark_views(engine.planner.plan("SELECT * FROM shop.orders"), lake.store.url)
    schemas = sorted(s.schema for s in views.sources)
    assert schemas == [
        "`id` BIGINT, `region` STRING, `amount` DOUBLE",
        "`id` BIGINT, `region` STRING, `amount` DOUBLE, `channel` STRING",
    ]
    [select] = views.views.values()
    assert "'2026-01-01' AS `dt`" in select and "CAST(NULL AS STRING) AS `channel`" in select
