"""Queries over HTTP: each token's principal reads exactly what it was granted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver


@pytest.fixture
def api(app: App) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    deliver(app, "landing/acme/orders/a.csv", b"id,region,amount\n1,EU,10\n2,US,20\n")
    deliver(app, "landing/globex/orders/a.csv", b"id,amount\n7,70\n")
    people = Principals(app.catalog)
    headers = {}
    for name, role in (("ann", "analyst"), ("gus", "analyst"), ("root", "admin")):
        people.add(name, role=role)
        token, _ = people.create_token(name)
        headers[name] = {"Authorization": f"Bearer {token}"}
    grants = Grants(app.catalog)
    grants.grant(principal="ann", database="acme", row_filter="region = 'EU'", by="root")
    grants.grant(principal="gus", database="globex", by="root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    yield (
        TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine))),
        headers,
    )
    engine.close()


def test_each_principal_reads_its_own(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    ann = client.post("/v1/query", json={"sql": "SELECT id, amount FROM acme.orders"}, headers=headers["ann"])
    assert ann.status_code == 200, ann.text
    body = ann.json()
    assert body["rows"] == [[1, 10]] and [c["name"] for c in body["columns"]] == ["id", "amount"]
    assert body["row_count"] == 1 and not body["truncated"]
    foreign = client.post("/v1/query", json={"sql": "SELECT * FROM globex.orders"}, headers=headers["ann"])
    missing = client.post("/v1/query", json={"sql": "SELECT * FROM globex.nope"}, headers=headers["ann"])
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "guard.table_unknown"
    admin = client.post(
        "/v1/query", json={"sql": "SELECT count(*) AS n FROM acme.orders"}, headers=headers["root"]
    )
    assert admin.json()["rows"] == [[2]]


def test_queries_need_a_token_and_writes_are_refused(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    assert client.post("/v1/query", json={"sql": "SELECT 1"}).status_code == 401
    write = client.post("/v1/query", json={"sql": "DROP TABLE acme.orders"}, headers=headers["root"])
    assert write.status_code == 400 and write.json()["error"]["code"].startswith("guard.")


def test_large_answers_are_cut_at_the_limit(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    body = client.post(
        "/v1/query", json={"sql": "SELECT * FROM range(50)", "limit": 10}, headers=headers["root"]
    ).json()
    assert len(body["rows"]) == 10 and body["row_count"] == 50 and body["truncated"]


def test_every_query_is_in_its_principals_history(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    ok = client.post("/v1/query", json={"sql": "SELECT id FROM acme.orders"}, headers=headers["ann"]).json()
    client.post("/v1/query", json={"sql": "SELECT * FROM globex.orders"}, headers=headers["ann"])
    client.post("/v1/query", json={"sql": "SELECT id FROM globex.orders"}, headers=headers["gus"])
    mine = client.get("/v1/queries", headers=headers["ann"]).json()["queries"]
    assert [(q["state"], q["error_code"]) for q in mine] == [
        ("FAILED", "guard.table_unknown"),
        ("SUCCEEDED", None),
    ]
    assert mine[1]["tables"] == ["acme.orders"] and mine[1]["rows"] == 1 and mine[1]["elapsed_ms"] >= 0
    assert {q["principal"] for q in mine} == {"ann"}  # nobody else's
    everyone = client.get("/v1/queries", headers=headers["root"]).json()["queries"]
    assert {q["principal"] for q in everyone} == {"ann", "gus"}
    gus_only = client.get("/v1/queries?principal=gus", headers=headers["root"]).json()["queries"]
    assert [q["principal"] for q in gus_only] == ["gus"]
    assert (
        client.get(f"/v1/queries/{ok['query_id']}", headers=headers["ann"])
        .json()["sql"]
        .startswith("SELECT id")
    )
    other = client.get(f"/v1/queries/{gus_only[0]['id']}", headers=headers["ann"])
    assert other.status_code == 404 and other.json()["error"]["code"] == "query.unknown"


def test_metrics_count_queries_by_state_and_health_needs_no_token(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    client.post("/v1/query", json={"sql": "SELECT 1"}, headers=headers["root"])
    client.post("/v1/query", json={"sql": "SELECT * FROM nope.nope"}, headers=headers["root"])
    text = client.get("/metrics").text
    assert 'lakegate_queries_total{state="SUCCEEDED"} 1' in text
    assert 'lakegate_queries_total{state="FAILED"} 1' in text
    assert "lakegate_query_duration_seconds_count 2" in text and "lakegate_queries_running 0" in text
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert {"/v1/query", "/v1/queries", "/v1/tables", "/v1/upload/{path}"} <= set(spec["paths"])


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "arrow"])
def test_downloads_stream_the_whole_result(
    api: tuple[TestClient, dict[str, dict[str, str]]], fmt: str
) -> None:
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    client, headers = api
    sql = "SELECT range AS n, 'x' || range AS s FROM range(200000)"
    answer = client.post("/v1/query/download", json={"sql": sql, "format": fmt}, headers=headers["root"])
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    data = answer.content
    if fmt == "csv":
        table = pacsv.read_csv(io.BytesIO(data))
    elif fmt == "json":
        lines = data.decode().splitlines()
        table = pa.Table.from_pylist([__import__("json").loads(line) for line in lines])
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(data))
    else:
        table = pa.ipc.open_stream(data).read_all()
    assert table.num_rows == 200000 and table.column("n").to_pylist()[-1] == 199999
    history = client.get("/v1/queries", headers=headers["root"]).json()["queries"]
    assert history[0]["state"] == "SUCCEEDED" and history[0]["rows"] == 200000


def test_a_download_that_fails_at_once_answers_with_its_error(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    answer = client.post(
        "/v1/query/download", json={"sql": "SELECT * FROM globex.orders"}, headers=headers["ann"]
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "guard.table_unknown"
    answer = client.post(
        "/v1/query/download", json={"sql": "SELECT 1/0::INT AS x FROM nope"}, headers=headers["ann"]
    )
    assert answer.status_code == 400


def test_a_download_that_fails_midway_breaks_the_transfer_and_the_history_says_why(app: App) -> None:
    """Rows already sent cannot be taken back: the transfer is cut (never a clean but short file)
    and the query's record says why."""
    import time

    import httpx

    from lakegate.auth.workgroups import Workgroups
    from lakegate.server.background import BackgroundServer

    Workgroups(app.catalog).put("brief", timeout_seconds=1)
    people = Principals(app.catalog)
    people.add("root", role="admin", workgroup="brief")
    token, _ = people.create_token("root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    server = BackgroundServer(
        make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine)), "127.0.0.1", 0, "t"
    )
    server.start()
    base = f"http://127.0.0.1:{server.bound_port()}"
    headers = {"Authorization": f"Bearer {token}"}
    endless = {"sql": "SELECT range AS n FROM range(50000000)"}
    try:
        received = 0
        download = httpx.stream(
            "POST", f"{base}/v1/query/download", json=endless, headers=headers, timeout=60
        )
        with pytest.raises(httpx.RemoteProtocolError), download as answer:  # cut while being read
            assert answer.status_code == 200
            query_id = answer.headers["x-lakegate-query"]
            for chunk in answer.iter_bytes():
                if not received:
                    time.sleep(2)  # a slow reader: the query outlives its workgroup's timeout
                received += len(chunk)
        assert 0 < received < 400_000_000
        record = httpx.get(f"{base}/v1/queries/{query_id}", headers=headers).json()
        assert record["state"] == "FAILED" and record["error_code"] == "query.timeout", record
    finally:
        server.stop()
        engine.close()


def test_metrics_may_require_a_token(app: App) -> None:
    from lakegate.config import HttpSettings

    people = Principals(app.catalog)
    people.add("prom", role="analyst")
    token, _ = people.create_token("prom")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        for setting, anonymous in (("open", 200), ("token", 401)):
            client = TestClient(
                make_app(
                    app.catalog, app.store, lambda: Pipeline(app.catalog, app.store),
                    Gateway(app.catalog, engine), http=HttpSettings(metrics=setting),
                )
            )  # fmt: skip
            assert client.get("/metrics").status_code == anonymous
            scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert scraped.status_code == 200 and "lakegate_queries_running" in scraped.text
            assert client.get("/v1/health").status_code == 200  # health stays open either way
    finally:
        engine.close()
