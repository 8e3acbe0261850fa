"""The Spark engine answers as DuckDB does: the same rows and columns over the same delivered
files (read in place or through their Parquet copies), the same grants, refusals and limits;
cancel and timeouts stop Spark's work. Runs on the Spark Connect server of the pyspark wheel."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principal, Principals, home_admin
from lakegate.auth.workgroups import Workgroups
from lakegate.errors import AuthError, GuardError, LakegateError, QueryError
from lakegate.ingest.accelerate import Accelerator
from lakegate.ingest.pipeline import Pipeline
from lakegate.pgwire.server import PgServer
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_engine import SparkEngine
from lakegate.query.engines.spark_sessions import Session
from lakegate.query.engines.spark_views import SparkViews, spark_views
from lakegate.query.gateway import Gateway
from lakegate.query.history import History
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver
from tests.s3server import free_ports

pytestmark = pytest.mark.slow
RUNAWAY = "SELECT count(*) FROM range(100000000) a, range(100000000) b"
QUERIES = [
    "SELECT dt, region, count(*) AS n, sum(amount) AS s FROM shop.orders GROUP BY dt, region ORDER BY 1, 2",
    "SELECT id, channel, dt FROM shop.orders ORDER BY id",
    "SELECT o.id, c.name FROM shop.orders o JOIN shop.customers c ON o.id = c.id ORDER BY o.id",
    "SELECT region, avg(amount) AS mean FROM shop.orders WHERE dt = '2026-01-02' GROUP BY region ORDER BY 1",
    "SELECT upper(name) AS name, length(name) AS len FROM shop.customers WHERE name LIKE 'a%' ORDER BY 1",
    "SELECT id, dt, amount / 2, count(*) OVER () FROM shop.orders WHERE id < 0",  # no rows: DuckDB's columns
]


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


def same_answers(
    duck: QueryEngine, spark: SparkEngine, sql: str, **kwargs: object
) -> list[dict[str, object]]:
    expected = duck.execute(sql, **kwargs).table  # type: ignore[arg-type]
    got = spark.execute(sql, **kwargs).table  # type: ignore[arg-type]
    assert got.column_names == expected.column_names, sql
    assert got.to_pylist() == expected.to_pylist(), sql
    return got.to_pylist()


def test_answers_equal_duckdbs_over_files_read_in_place(engines: tuple[QueryEngine, SparkEngine]) -> None:
    duck, spark = engines
    for sql in QUERIES:
        same_answers(duck, spark, sql)
    rows = same_answers(
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
        same_answers(duck, spark, sql)


def test_a_file_arriving_between_two_queries_is_seen_by_the_second(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    _duck, spark = engines
    before = spark.execute("SELECT count(*) AS n FROM shop.orders").table.to_pylist()
    deliver(lake, "landing/shop/orders/dt=2026-01-03/c.csv", b"id,region,amount\n6,EU,1\n")
    after = spark.execute("SELECT count(*) AS n FROM shop.orders").table.to_pylist()
    assert (before, after) == ([{"n": 5}], [{"n": 6}])


AWKWARD = ["été 50% off+more=yes.csv", "glob [1] {a,b} *?.csv", "a:b#c.csv"]


def test_files_with_awkward_names_are_read_each_as_itself(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    duck, spark = engines
    for i, name in enumerate(AWKWARD):
        outcome = deliver(lake, f"landing/shop/orders/dt=2026-02-0{i}/{name}", f"id\n{100 + i}\n".encode())
        assert outcome.kind == "accepted", outcome
    deliver(
        lake, "landing/shop/orders/dt=2026-02-01/glob 1 a *x.csv", b"id\n999\n"
    )  # what a glob would match
    rows = same_answers(duck, spark, "SELECT id, dt FROM shop.orders WHERE dt >= '2026-02' ORDER BY id")
    assert [r["id"] for r in rows] == [100, 101, 102, 999]
    Accelerator(lake.catalog, lake.store, lambda: lake.settings).run_pending()
    same_answers(duck, spark, "SELECT id, dt FROM shop.orders WHERE dt >= '2026-02' ORDER BY id")


def test_grants_hold_on_spark_as_on_duckdb(lake: App, engines: tuple[QueryEngine, SparkEngine]) -> None:
    duck, spark = engines
    Principals(lake.catalog).add("ann", role="analyst")
    grants = Grants(lake.catalog)
    grants.grant(
        principal="ann", database="shop", columns=["amount"], exclude=True, row_filter="region = 'EU'", by="t"
    )
    ann = grants.access_for(Principals(lake.catalog).require("ann"))
    rows = same_answers(duck, spark, "SELECT * FROM shop.orders ORDER BY id", access=ann)
    assert [r["id"] for r in rows] == [1, 3, 4] and "amount" not in rows[0]
    with pytest.raises(QueryError):
        spark.execute("SELECT amount FROM shop.orders", access=ann)


def test_kept_sessions_reuse_a_callers_views_and_never_show_them_to_another(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    _duck, spark = engines
    sql = "SELECT * FROM shop.orders ORDER BY id"
    assert len(spark.execute(sql).table) == 5
    [kept] = spark.sessions._idle
    held = set(kept.holds)
    assert len(spark.execute(sql).table) == 5  # the same session, nothing made again
    assert spark.sessions._idle == [kept] and kept.holds == held
    Principals(lake.catalog).add("ann", role="analyst")
    Grants(lake.catalog).grant(principal="ann", database="shop", row_filter="region = 'US'", by="t")
    ann = Grants(lake.catalog).access_for(Principals(lake.catalog).require("ann"))
    assert [r["id"] for r in spark.execute(sql, access=ann).table.to_pylist()] == [2, 5]
    assert kept.holds > held  # her view is her own: the admin's whole table is not reused for her
    for name in kept.holds:  # what the session holds cannot be named by anyone's statement
        for who in (ann, None):
            with pytest.raises(LakegateError):
                spark.execute(f"SELECT * FROM {name}", access=who)


def test_a_kept_session_the_server_dropped_is_replaced_unseen(
    engines: tuple[QueryEngine, SparkEngine], spark_url: str
) -> None:
    _duck, spark = engines
    sql = "SELECT count(*) AS n FROM shop.orders"
    assert spark.execute(sql).table.to_pylist() == [{"n": 5}]
    [kept] = spark.sessions._idle
    other = spark._session()  # what a server restart or its idle timeout does to a session
    other.client._session_id = kept.spark.client._session_id
    other.client.release_session()
    with contextlib.suppress(Exception):  # its session is gone: nothing left to release at exit
        other.stop()
    assert spark.execute(sql).table.to_pylist() == [{"n": 5}]
    assert spark.sessions._idle and spark.sessions._idle[0] is not kept


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


@pytest.mark.parametrize("after", [0.0, 0.05, 0.2, 0.5, 1.0, "while its views load"])
def test_a_query_closed_at_any_moment_leaves_spark_free(
    engines: tuple[QueryEngine, SparkEngine], after: float | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed while its session is still being readied, its views loaded, its statement
    analyzed or its work sent: whichever moment, none of its work goes on holding Spark's cores
    (the next query would wait behind it for as long as the timeout)."""
    _duck, spark = engines
    loading = threading.Event()
    if after == "while its views load":  # a slow server: the moment is held open for the test
        load = Session.load

        def slow_load(session: Session, views: SparkViews) -> None:
            loading.set()
            time.sleep(1.5)
            load(session, views)

        monkeypatch.setattr(Session, "load", slow_load)
    stream = spark.stream(RUNAWAY)
    if isinstance(after, str):
        assert loading.wait(30)
    else:
        time.sleep(after)
    stream.close()
    with pytest.raises(QueryError) as err:
        list(stream)
    assert err.value.code == "query.cancelled"
    quick = spark.settings.model_copy(update={"timeout_seconds": 20.0})
    assert spark.execute(
        "SELECT count(*) AS n FROM range(1000) a, range(100) b", limits=quick
    ).table.to_pylist() == [{"n": 100000}]


def test_closing_the_engine_stops_the_queries_it_still_runs(lake: App, spark_url: str) -> None:
    spark = SparkEngine(lake.catalog, lake.store, lake.settings.query, spark_url)
    stream = spark.stream(RUNAWAY)
    time.sleep(1.0)
    spark.close()
    with pytest.raises(QueryError) as err:
        list(stream)
    assert err.value.code == "query.cancelled", err.value
    assert spark.sessions._idle == []  # its session was not kept by the closed engine
    quick = lake.settings.query.model_copy(update={"timeout_seconds": 20.0})
    after = SparkEngine(lake.catalog, lake.store, quick, spark_url)
    try:
        assert after.execute("SELECT count(*) AS n FROM range(1000) a, range(100) b").table.num_rows == 1
    finally:
        after.close()


def test_spark_views_read_each_file_group_with_an_explicit_schema(lake: App, tmp_path: Path) -> None:
    engine = SparkEngine(lake.catalog, lake.store, lake.settings.query, "sc://unused:1")
    views = spark_views(engine.planner.plan("SELECT * FROM shop.orders"), engine._address)
    schemas = sorted(s.schema for s in views.sources)
    assert schemas == [
        "`id` BIGINT, `region` STRING, `amount` DOUBLE",
        "`id` BIGINT, `region` STRING, `amount` DOUBLE, `channel` STRING",
    ]
    [select] = views.views.values()
    assert "'2026-01-01' AS `dt`" in select and "CAST(NULL AS STRING) AS `channel`" in select


# -- behind the gateway: workgroups choose, admins may ask, every front end streams from it ------


@pytest.fixture
def gateway(lake: App, spark_url: str) -> Iterator[Gateway]:
    duck = QueryEngine(lake.catalog, lake.store, lake.settings.query)
    spark = SparkEngine(lake.catalog, lake.store, lake.settings.query, spark_url)
    made = Gateway(lake.catalog, duck, spark=spark, spark_above_bytes=10**12)
    yield made
    made.close()


def _member(lake: App, name: str, engine: str, role: str = "analyst") -> Principal:
    Workgroups(lake.catalog).put(f"wg-{name}", engine=engine)
    people = Principals(lake.catalog)
    people.add(name, role=role, workgroup=f"wg-{name}")
    Grants(lake.catalog).grant(principal=name, database="shop", by="t")
    return people.require(name)


def test_a_workgroup_chooses_the_engine_and_an_admin_may_ask_for_one(lake: App, gateway: Gateway) -> None:
    sql = "SELECT region, sum(amount) AS s FROM shop.orders GROUP BY 1 ORDER BY 1"
    _, on_spark, _ = gateway.run(_member(lake, "sam", "spark"), sql)
    _, on_duck, _ = gateway.run(_member(lake, "dan", "duckdb"), sql)
    assert (on_spark.engine, on_duck.engine) == ("spark", "duckdb")
    assert on_spark.table.to_pylist() == on_duck.table.to_pylist()
    _, asked, _ = gateway.run(home_admin(), sql, engine="spark")
    assert asked.engine == "spark"
    with pytest.raises(AuthError):
        gateway.run(_member(lake, "eve", "duckdb"), sql, engine="spark")  # an analyst may not choose
    run = gateway.stream(_member(lake, "stu", "spark"), sql)
    assert run.stream.engine == "spark" and sum(b.num_rows for b in run) == 2


def test_auto_runs_large_reads_on_spark_and_small_ones_on_duckdb(lake: App, spark_url: str) -> None:
    duck = QueryEngine(lake.catalog, lake.store, lake.settings.query)
    spark = SparkEngine(lake.catalog, lake.store, lake.settings.query, spark_url)
    sql = "SELECT count(*) AS n FROM shop.orders"
    big = Gateway(lake.catalog, duck, spark=spark, spark_above_bytes=0)  # every read is "large"
    small = Gateway(lake.catalog, duck, spark=spark, spark_above_bytes=10**12)
    ada = _member(lake, "ada", "auto")
    assert big.run(ada, sql)[1].engine == "spark"
    assert small.run(ada, sql)[1].engine == "duckdb"
    # decimal commas: Spark's CSV reader has no such option, and the file has no Parquet copy yet
    deliver(lake, "landing/shop/orders/dt=2026-01-04/d.csv", b"id;region;amount\n9;EU;1,5\n10;US;2,25\n")
    with pytest.raises(QueryError) as err:
        spark.execute(sql)
    assert err.value.code == "query.engine_unsupported" and "d.csv" in err.value.message
    answered = big.run(ada, "SELECT sum(amount) AS s FROM shop.orders WHERE dt = '2026-01-04'")[1]
    assert answered.engine == "duckdb" and answered.table.to_pylist() == [{"s": 3.75}]  # auto: DuckDB
    with pytest.raises(QueryError):
        big.run(_member(lake, "sid", "spark"), sql)  # a spark workgroup is told, not moved
    duck.close()
    spark.close()


def test_a_spark_workgroup_without_a_spark_engine_is_told_so(lake: App) -> None:
    duck = QueryEngine(lake.catalog, lake.store, lake.settings.query)
    with pytest.raises(QueryError) as err:
        Gateway(lake.catalog, duck).run(_member(lake, "sol", "spark"), "SELECT 1")
    assert err.value.code == "query.engine_not_configured" and "engines.spark.url" in (err.value.hint or "")
    duck.close()


def test_an_unreachable_spark_server_is_a_clear_transient_failure(lake: App) -> None:
    spark = SparkEngine(lake.catalog, lake.store, lake.settings.query, f"sc://127.0.0.1:{free_ports(1)[0]}")
    with pytest.raises(QueryError) as err:
        spark.execute("SELECT count(*) AS n FROM shop.orders")
    assert err.value.code == "query.engine_unavailable" and err.value.transient


def test_http_and_postgresql_clients_are_answered_by_spark(lake: App, gateway: Gateway) -> None:
    _member(lake, "sam", "spark")
    token, _ = Principals(lake.catalog).create_token("sam")
    client = TestClient(
        make_app(lake.catalog, lake.store, lambda: Pipeline(lake.catalog, lake.store), gateway)
    )
    got = client.post(
        "/v1/query", json={"sql": "SELECT id FROM shop.orders ORDER BY id"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()  # fmt: skip
    assert got["engine"] == "spark" and got["rows"] == [[1], [2], [3], [4], [5]], got
    server = PgServer(gateway)
    server.start()
    try:
        dsn = (
            f"host=127.0.0.1 port={server.bound_port()} user=sam password={token} dbname=lake sslmode=disable"
        )
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT region, count(*) AS n FROM shop.orders GROUP BY 1 ORDER BY 1"
            ).fetchall()
        assert rows == [("EU", 3), ("US", 2)]
        people = Principals(lake.catalog)
        people.add("ops", role="admin")  # an admin in no workgroup: DuckDB, unless it asks
        admin_token, _ = people.create_token("ops")
        with psycopg.connect(dsn.replace("user=sam", "user=ops").replace(token, admin_token)) as conn:
            conn.execute("SELECT count(*) FROM shop.orders").fetchall()
            conn.execute("SET lakegate.engine = 'spark'")
            conn.execute("SELECT count(*) AS n FROM shop.orders").fetchall()
            with pytest.raises(psycopg.errors.DatabaseError):
                conn.execute("SET lakegate.engine = 'presto'")
    finally:
        server.stop()
    history = History(lake.catalog).of(home_admin(), limit=50)
    ran = [(q.principal, q.via, q.engine) for q in history if q.state == "SUCCEEDED"]
    assert ran[:4] == [("ops", "pgwire", "spark"), ("ops", "pgwire", "duckdb"), ("sam", "pgwire", "spark"),
                       ("sam", "http", "spark")]  # fmt: skip
