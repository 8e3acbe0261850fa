"""The whole flow on a real S3 server: organize, catalog, quarantine and query, all in one bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import lakegate
from lakegate.app import App, open_app
from lakegate.errors import LakegateError
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from tests.ingest.test_pipeline import replaced_after_validation
from tests.s3server import SeaweedS3, s3_config


@pytest.fixture
def s3_app(seaweed: SeaweedS3, tmp_path: Path) -> Iterator[App]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "landing").mkdir()
    (home / "lakegate.yaml").write_text(s3_config(seaweed, f"{seaweed.new_prefix()}/team"))
    app = open_app(home)
    yield app
    app.close()


def deliver(app: App, key: str, data: bytes) -> Outcome:
    outcomes: list[Outcome] = []
    app.store.write(key, data)
    Pipeline(app.catalog, app.store, on_outcome=outcomes.append).process(key)
    return outcomes[0]


def test_files_with_awkward_names_are_organized_and_queryable(s3_app: App) -> None:
    key = "landing/sales/orders/dt=2026-11-26/été 50% off+more=yes.csv"
    outcome = deliver(s3_app, key, b'id,note\n1,"a, b"\n2,c\n')
    assert outcome.kind == "accepted", outcome
    assert outcome.target_key == "lake/sales/orders/dt=2026-11-26/été 50% off+more=yes.csv"
    assert s3_app.store.stat(key) is None
    assert s3_app.store.read(outcome.target_key) == b'id,note\n1,"a, b"\n2,c\n'
    deliver(
        s3_app, "landing/sales/orders/dt=2026-11-27/b.csv.gz", __import__("gzip").compress(b"id,note\n3,gz\n")
    )
    with lakegate.connect(s3_app.home.root) as con:
        rows = con.execute("SELECT id, note, dt FROM sales.orders ORDER BY id").fetchall()
    assert rows == [(1, "a, b", "2026-11-26"), (2, "c", "2026-11-26"), (3, "gz", "2026-11-27")]


def test_rejects_go_to_quarantine_in_the_bucket(s3_app: App) -> None:
    outcome = deliver(s3_app, "landing/sales/orders/empty.csv", b"")
    assert outcome.kind == "quarantined" and outcome.reason_code == "reject.empty"
    assert outcome.target_key.startswith("quarantine/") and s3_app.store.read(outcome.target_key) == b""
    assert list(s3_app.store.list("landing/")) == []


def test_queries_read_with_the_read_only_identity(s3_app: App) -> None:
    deliver(s3_app, "landing/s/t/a.csv", b"a\n1\n")
    deliver(s3_app, "landing/s/other/b.csv", b"secret\n42\n")
    engine = QueryEngine(s3_app.catalog, s3_app.query_store(), s3_app.settings.query, guard_enabled=False)
    lake_file = s3_app.store.url("lake/s/t/a.csv")
    try:
        answer = engine.execute("SELECT a FROM s.t")
        assert answer.table.to_pylist() == [{"a": 1}]
        assert answer.bytes_scanned == answer.bytes_estimated == 4  # read over HTTP, counted
        for sql in [
            f"COPY (SELECT 2 AS a) TO '{lake_file}' (FORMAT csv)",
            f"SELECT * FROM s.t, read_text('{s3_app.store.url('lake/s/other/b.csv')}')",
        ]:
            with pytest.raises(LakegateError):
                engine.execute(sql)
    finally:
        engine.close()
    assert s3_app.store.read("lake/s/t/a.csv") == b"a\n1\n"


def test_an_object_replaced_after_validation_is_never_copied(
    s3_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced_after_validation(s3_app, monkeypatch)  # on S3 the copy is conditional on the validated ETag


def test_an_accepted_small_object_costs_four_requests(s3_app: App) -> None:
    """One GET (hash, sniff, a local copy to infer from, size and time for the ledger), CopyObject
    conditional on its ETag, then HEAD and DELETE: requests are what S3 bills and what bounds
    small-object throughput."""
    calls: list[str] = []
    for area in ("landing", "lake", "quarantine"):
        client = s3_app.store.area(area).client  # type: ignore[attr-defined]
        client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    outcome = deliver(s3_app, "landing/s/t/dt=1/small.csv", b"id,name\n1,a\n2,b\n")
    assert outcome.kind == "accepted"
    calls = calls[2:]  # the PutObject (and its HeadObject) that delivered it
    assert calls == ["GetObject", "CopyObject", "HeadObject", "DeleteObject"]


def test_an_object_too_big_to_spool_is_inferred_in_place(
    s3_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakegate.ingest import landing_files

    monkeypatch.setattr(landing_files, "SPOOL_LIMIT", 64)  # the engine then reads the object over S3
    data = b"id,name\n" + b"".join(b"%d,name %d\n" % (n, n) for n in range(50))
    outcome = deliver(s3_app, "landing/s/big/b.csv", data)
    assert (outcome.kind, outcome.rows) == ("accepted", 50)


def test_partition_values_that_need_escaping_read_back_exactly_over_s3(s3_app: App) -> None:
    for n, folder in enumerate(["k=a%3Db c", "k=NULL", "k=50%", "k=x%2Fy"]):
        outcome = deliver(s3_app, f"landing/s/p/{folder}/f*{n}.csv", b"id\n%d\n" % n)
        assert outcome.kind == "accepted", outcome
    assert sorted(i.key for i in s3_app.store.list("lake/")) == [
        "lake/s/p/k=%4EULL/f_1.csv",
        "lake/s/p/k=50%25/f_2.csv",
        "lake/s/p/k=a%3Db c/f_0.csv",
        "lake/s/p/k=x%2Fy/f_3.csv",
    ]
    with lakegate.connect(s3_app.home.root) as con:
        rows = con.execute("SELECT id, k FROM s.p ORDER BY id").fetchall()
    assert rows == [(0, "a=b c"), (1, "NULL"), (2, "50%"), (3, "x/y")]
