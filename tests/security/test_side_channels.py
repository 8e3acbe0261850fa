"""Nothing a principal may not see shapes what it is told (SECURITY.md, "Side channels").

An analyst granted ``acme.orders`` for EU rows only tries to learn the hidden US rows from the
figures every answer carries — bytes estimated and scanned — by bisecting on predicates that
only hidden rows could satisfy, in place and through the Parquet copies queries read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.accelerate import Accelerator
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

HIDDEN_MAX = 91357.13


@pytest.fixture(params=["in place", "parquet copies"])
def analyst(
    request: pytest.FixtureRequest, app: App, tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    deliver(app, "landing/acme/orders/dt=2031-05-01/a.csv",
            b"id,region,customer,amount\n1,EU,Anna,10.5\n2,US,Zed,500\n3,EU,Bo,20\n")  # fmt: skip
    deliver(app, "landing/acme/orders/dt=2031-05-02/b.csv",
            b"id,region,customer,amount\n4,EU,Cy,30\n5,EU,Di,40\n")  # fmt: skip
    deliver(
        app,
        "landing/acme/orders/dt=2031-05-03/us_only_orders.csv",
        f"id,region,customer,amount\n6,US,Hidden Corp,{HIDDEN_MAX}\n7,US,Secret Inc,7\n".encode(),
    )
    if request.param == "parquet copies":
        Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
        assert all(f.derived_key for f in app.catalog.table("acme", "orders").files)  # type: ignore[union-attr]
    people = Principals(app.catalog)
    people.add("ann", role="analyst")
    token, _ = people.create_token("ann")
    Grants(app.catalog).grant(principal="ann", database="acme", table="orders",
                              row_filter="region = 'EU'", by="test")  # fmt: skip
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    served = make_app(
        app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine), results=tmp_path / "results"
    )
    yield TestClient(served), {"Authorization": f"Bearer {token}"}
    if served.state.jobs is not None:
        served.state.jobs.shutdown()
    engine.close()


def figures(client: TestClient, headers: dict[str, str], where: str) -> tuple[int, int, int]:
    answer = client.post(
        "/v1/query", json={"sql": f"SELECT * FROM acme.orders WHERE {where}"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return len(body["rows"]), body["bytes_estimated"], body["bytes_scanned"]


PROBES = [
    "amount > 91357.12",  # true only for the hidden maximum
    "amount > 91357.14",  # true for nothing
    "amount > 1000000",
    "dt = '2031-05-03'",  # a partition of hidden rows only
    "dt = '1999-01-01'",  # a partition that does not exist
    "customer = 'Hidden Corp'",
    "customer = 'Nobody'",
    "customer >= 'S'",
]


def test_bytes_reported_never_depend_on_hidden_rows(analyst: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = analyst
    seen = {probe: figures(client, headers, probe) for probe in PROBES}
    assert {rows for rows, _e, _s in seen.values()} == {0}
    assert len({(e, s) for _r, e, s in seen.values()}) == 1, seen  # the same whatever the probe
    rows, estimated, scanned = figures(client, headers, "true")
    assert rows == 4 and (estimated, scanned) == next(iter(seen.values()))[1:]


def test_the_history_tells_the_same_figures(analyst: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = analyst
    for probe in PROBES[:2]:
        figures(client, headers, probe)
    history = client.get("/v1/queries", headers=headers).json()["queries"]
    assert len({q["bytes_scanned"] for q in history}) == 1, history


def test_catalog_routes_tell_no_counts_or_files_of_a_filtered_table(
    analyst: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = analyst
    [listed] = client.get("/v1/tables", headers=headers).json()["tables"]
    shown = client.get("/v1/tables/acme/orders", headers=headers).json()
    for table in (listed, shown):
        assert (table["rows"], table["files"], table["bytes"]) == (None, None, None)
    versions = client.get("/v1/tables/acme/orders/versions", headers=headers).json()["versions"]
    assert versions and all(v["cause"] is None for v in versions)
    assert "us_only_orders" not in str(versions)
    for route in ("files", "partitions"):
        assert client.get(f"/v1/tables/acme/orders/{route}", headers=headers).status_code == 403


ERROR_PROBES = [
    f"CAST(CASE WHEN amount > {HIDDEN_MAX - 0.01} THEN 'x' ELSE '1' END AS INTEGER) = 1",
    "regexp_matches('a', CASE WHEN customer = 'Hidden Corp' THEN '(' ELSE 'a' END)",
    "CAST(customer AS INTEGER) IS NULL OR true",
]


def test_errors_aimed_at_hidden_rows_never_fire(analyst: tuple[TestClient, dict[str, str]]) -> None:
    """On every read path (in place and through copies), a probe that fails on a hidden value
    answers as if the hidden rows did not exist."""
    client, headers = analyst
    for probe in ERROR_PROBES:
        sql = f"SELECT id FROM acme.orders WHERE {probe} ORDER BY id"
        answer = client.post("/v1/query", json={"sql": sql}, headers=headers)
        assert answer.status_code == 200, (probe, answer.text)
        assert [r[0] for r in answer.json()["rows"]] in ([1, 3, 4, 5], []), probe


def test_a_grant_on_partitions_still_reads_only_its_partitions(app: App) -> None:
    for day in ("01", "02", "03"):
        deliver(app, f"landing/acme/orders/dt=2031-05-{day}/a.csv", f"id,amount\n{day},1\n".encode())
    people = Principals(app.catalog)
    people.add("pat", role="analyst")
    grants = Grants(app.catalog)
    grants.grant(principal="pat", database="acme", table="orders", row_filter="dt >= '2031-05-02'", by="t")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        access = grants.access_for(people.require("pat"))
        whole = engine.plan("SELECT * FROM acme.orders")
        for sql in ("SELECT * FROM acme.orders", "SELECT * FROM acme.orders WHERE dt = '2031-05-03'"):
            plan = engine.plan(sql, access)
            assert plan.files == 2 and plan.bytes_estimated < whole.bytes_estimated
            assert plan.charged_by_grant
    finally:
        engine.close()
