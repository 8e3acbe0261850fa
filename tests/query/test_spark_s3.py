"""A lake on S3 read by Spark as ``s3a://``, with the settings ``deploy/spark/spark-defaults.conf``
tells operators to use and the read-only identity: the same answers as DuckDB's, in place and
through the Parquet copies, grants included; Spark itself cannot write to the lake."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakegate.app import App, open_app
from lakegate.auth.principals import Principals
from lakegate.ingest.accelerate import Accelerator
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_engine import SparkEngine
from lakegate.query.engines.spark_views import spark_views
from lakegate.query.permissions import Grants
from tests.ingest.test_s3_pipeline import deliver
from tests.query.test_spark_engine import AWKWARD, QUERIES, engines, same_answers
from tests.s3server import SeaweedS3, s3_config

pytestmark = pytest.mark.slow
__all__ = ["engines"]  # the fixture of the Spark engine's tests, here over this module's lake


@pytest.fixture
def lake(seaweed: SeaweedS3, tmp_path: Path) -> Iterator[App]:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    (home / "lakegate.yaml").write_text(s3_config(seaweed, f"{seaweed.new_prefix()}/team"))
    app = open_app(home)
    deliver(app, "landing/shop/orders/dt=2026-01-01/a.csv", b"id,region,amount\n1,EU,2.5\n2,US,3\n3,EU,4\n")
    deliver(
        app,
        "landing/shop/orders/dt=2026-01-02/b.csv",
        b"id,region,amount,channel\n4,EU,1.5,web\n5,US,7,shop\n",
    )
    deliver(app, "landing/shop/customers/c.csv", b"id,name\n1,ann\n2,bob\n4,alice\n")
    yield app
    app.close()


def _paths(spark: SparkEngine) -> list[str]:
    views = spark_views(spark.planner.plan("SELECT * FROM shop.orders"), spark._address)
    return [path for source in views.sources for path in source.paths]


def test_spark_reads_an_s3_lake_as_duckdb_does(lake: App, engines: tuple[QueryEngine, SparkEngine]) -> None:
    duck, spark = engines
    for i, name in enumerate(AWKWARD):
        assert (
            deliver(lake, f"landing/shop/orders/dt=2026-02-0{i}/{name}", f"id\n{7 + i}\n".encode()).kind
            == "accepted"
        )
    assert all(p.startswith("s3a://") for p in _paths(spark))
    for sql in QUERIES:
        same_answers(duck, spark, sql)
    Principals(lake.catalog).add("ann", role="analyst")
    grants = Grants(lake.catalog)
    grants.grant(
        principal="ann", database="shop", columns=["amount"], exclude=True, row_filter="id < 4", by="t"
    )
    ann = grants.access_for(Principals(lake.catalog).require("ann"))
    assert [
        r["id"] for r in same_answers(duck, spark, "SELECT * FROM shop.orders ORDER BY id", access=ann)
    ] == [
        1,
        2,
        3,
    ]
    Accelerator(lake.catalog, lake.store, lambda: lake.settings).run_pending()
    assert {p.rsplit(".", 1)[-1] for p in _paths(spark)} == {"parquet"}
    for sql in QUERIES:
        same_answers(duck, spark, sql)


def test_the_documented_spark_identity_cannot_write_to_the_lake(
    lake: App, engines: tuple[QueryEngine, SparkEngine]
) -> None:
    _duck, spark = engines
    base = spark._address("lake/x").removesuffix("x")
    session = spark._session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            assert (
                session.read.format("csv").option("header", "true").load(f"{base}shop/customers/").count()
                == 3
            )
            with pytest.raises(Exception, match=r"(?i)access ?denied|403|forbidden"):
                session.range(3).write.mode("overwrite").parquet(f"{base}shop/planted/")
        finally:
            session.stop()
    assert not list(lake.store.list("lake/shop/planted/"))
