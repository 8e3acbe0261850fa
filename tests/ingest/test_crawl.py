"""``lakegate crawl``: data already in a store is cataloged in place, incrementally."""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import duckdb
import pytest

from lakegate.app import App, open_source
from lakegate.errors import ConfigError, LakegateError
from lakegate.ingest.crawl import Crawl, CrawlReport
from lakegate.storage import LocalStore
from tests.ingest.test_pipeline import rows
from tests.s3server import SeaweedS3, s3_config


def put(root: Path, key: str, data: bytes) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def crawl(app: App, root: Path, **options: object) -> CrawlReport:
    return Crawl(app.catalog, LocalStore(root), app.store, database="old", **options).run()  # type: ignore[arg-type]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "existing"
    put(root, "sales/orders/year=2026/month=01/a.csv", b"id,amount\n1,2.5\n2,3\n")
    put(root, "sales/orders/year=2026/month=02/b.csv", b"id,amount,note\n3,4,late\n")
    put(root, "sales/orders/_SUCCESS", b"")
    put(root, "web/events/2026/11/e.json", b'{"user": "ann", "n": 1}\n{"user": "bob", "n": 2}\n')
    (root / "metrics").mkdir()
    duckdb.connect().execute(
        f"COPY (SELECT range AS id, {{'k': range}} AS s FROM range(3)) TO '{root / 'metrics/p.parquet'}'"
    )
    return root


def test_tables_partitions_and_schemas_come_from_the_store_in_place(app: App, source: Path) -> None:
    before = sorted(p.relative_to(source) for p in source.rglob("*"))
    report = crawl(app, source)
    assert sorted(report.tables) == ["metrics", "sales_orders", "web_events"]
    assert report.rejected == [] and [k for k, _ in report.skipped] == ["sales/orders/_SUCCESS"]
    assert rows(app, "SELECT id, amount, note, year, month FROM old.sales_orders ORDER BY id") == [
        (1, 2.5, None, "2026", "01"),
        (2, 3.0, None, "2026", "01"),
        (3, 4.0, "late", "2026", "02"),
    ]
    assert rows(app, "SELECT user, partition_0, partition_1 FROM old.web_events ORDER BY n") == [
        ("ann", "2026", "11"),
        ("bob", "2026", "11"),
    ]
    assert rows(app, "SELECT sum(s.k) FROM old.metrics") == [(3,)]
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == before  # nothing moved or added
    table = app.catalog.table("old", "sales_orders")
    assert table is not None and table.location == f"file://{source}/sales/orders"


def test_a_rerun_reads_only_what_changed_and_unregisters_what_is_gone(app: App, source: Path) -> None:
    crawl(app, source)
    again = crawl(app, source)
    assert again.read == 0 and again.tables["sales_orders"].unchanged == 2
    changed = put(source, "sales/orders/year=2026/month=01/a.csv", b"id,amount\n1,2.5\n2,3\n9,9\n")
    os.utime(changed, ns=(1, 1))  # a new modification time, whatever the clock
    (source / "sales/orders/year=2026/month=02/b.csv").unlink()
    put(source, "sales/orders/year=2026/month=03/c.csv", b"id,amount\n4,1\n")
    third = crawl(app, source)
    orders = third.tables["sales_orders"]
    assert (orders.new, orders.changed, orders.unchanged, orders.removed) == (1, 1, 0, 1)
    assert third.read == 2
    assert rows(app, "SELECT id, month FROM old.sales_orders ORDER BY id") == [
        (1, "01"),
        (2, "01"),
        (4, "03"),
        (9, "01"),
    ]
    partitions = app.catalog.table("old", "sales_orders")
    assert partitions is not None and sorted({f.partition["month"] for f in partitions.files}) == ["01", "03"]


def test_report_only_keeps_deleted_files_registered(app: App, source: Path) -> None:
    crawl(app, source)
    (source / "web/events/2026/11/e.json").unlink()
    report = crawl(app, source, on_deleted="report")
    assert report.tables["web_events"].removed == 1
    assert len(app.catalog.crawled_versions("old", "web_events")) == 1


def test_too_many_new_tables_are_refused_unless_forced(app: App, tmp_path: Path) -> None:
    root = tmp_path / "wide"
    for n in range(5):
        put(root, f"t{n}/a.csv", b"a\n1\n")
    with pytest.raises(LakegateError) as err:
        crawl(app, root, max_tables=3)
    assert err.value.code == "crawl.too_many_tables" and "--level" in (err.value.hint or "")
    assert app.catalog.tables() == []
    assert len(crawl(app, root, max_tables=3, force=True).tables) == 5


def test_level_makes_deeper_folders_partitions(app: App, tmp_path: Path) -> None:
    root = tmp_path / "tenants"
    put(root, "acme/eu/a.csv", b"v\n1\n")
    put(root, "acme/us/b.csv", b"v\n2\n")
    crawl(app, root, level=1)
    assert rows(app, "SELECT v, partition_0 FROM old.acme ORDER BY v") == [(1, "eu"), (2, "us")]


def test_unreadable_in_place_files_get_a_derived_copy_and_bad_ones_are_reported(
    app: App, tmp_path: Path
) -> None:
    root = tmp_path / "mixed"
    put(root, "t/a.csv.bz2", bz2.compress(b"id,name\n1,x\n"))
    put(root, "t/b.csv", b"id,name\n2,y\n")
    put(root, "t/c.csv", b"\x00\x01\x02" * 100)
    report = crawl(app, root)
    assert [(k, code) for k, code, _ in report.rejected] == [("t/c.csv", "reject.binary")]
    assert rows(app, "SELECT id, name FROM old.t ORDER BY id") == [(1, "x"), (2, "y")]
    assert [i.key.split("/")[:3] for i in app.store.list("derived/")] == [["derived", "_crawled", "old"]]
    (root / "t/a.csv.bz2").unlink()
    crawl(app, root)
    assert list(app.store.list("derived/")) == []  # its copy went with it


def test_dropping_a_crawled_table_leaves_the_owners_files(app: App, source: Path) -> None:
    crawl(app, source)
    app.catalog.drop_table("old", "metrics", "test")
    assert (source / "metrics/p.parquet").exists()
    assert app.catalog.archived(("archiving", "archived")) == []


def test_a_source_that_is_not_there_is_explained(app: App, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        open_source(str(tmp_path / "nope"), app.settings.storage)
    assert err.value.code == "crawl.bad_source"


def test_crawl_of_an_s3_prefix_is_queried_with_the_read_only_identity(
    seaweed: SeaweedS3, tmp_path: Path
) -> None:
    from lakegate.app import open_app

    prefix = seaweed.new_prefix()
    home = tmp_path / "home"
    home.mkdir()
    (home / "lakegate.yaml").write_text(s3_config(seaweed, prefix))
    client = seaweed.client()
    client.put_object(Bucket=seaweed.bucket, Key=f"{prefix}/old/orders/dt=1/a.csv", Body=b"id\n1\n2\n")
    client.put_object(
        Bucket=seaweed.bucket, Key=f"{prefix}/old/orders/dt=2/b.csv.bz2", Body=bz2.compress(b"id\n3\n")
    )
    app = open_app(str(home), create=True)
    try:
        source = open_source(f"s3://{seaweed.bucket}/{prefix}/old/", app.settings.storage)
        report = Crawl(app.catalog, source, app.store, database="old").run()
        assert report.rejected == [] and report.tables["orders"].new == 2
        assert rows(app, "SELECT id, dt FROM old.orders ORDER BY id") == [(1, "1"), (2, "1"), (3, "2")]
    finally:
        app.close()


def test_by_schema_makes_sibling_folders_with_the_same_columns_one_table(app: App, tmp_path: Path) -> None:
    root = tmp_path / "regions"
    put(root, "sales/eu/dt=1/a.csv", b"id,amount\n1,2.5\n")
    put(root, "sales/us/dt=1/b.csv", b"id,amount\n2,3\n")
    put(root, "sales/us/dt=2/c.csv", b"id,amount\n3,4\n")
    put(root, "other/x/a.csv", b"id,amount\n1,1\n")
    put(root, "other/y/b.csv", b"name\nann\n")  # other columns: tables of their own
    report = crawl(app, root, by_schema=True)
    assert sorted(report.tables) == ["other_x", "other_y", "sales"]
    assert rows(app, "SELECT id, partition_0, dt FROM old.sales ORDER BY id") == [
        (1, "eu", "1"),
        (2, "us", "1"),
        (3, "us", "2"),
    ]
    again = crawl(app, root, by_schema=True)  # the same decision, nothing read again
    assert again.read == 0 and again.tables["sales"].unchanged == 3
