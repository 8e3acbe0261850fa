"""A query that crashes the engine or exhausts memory fails alone: queries run in engine
processes, and the server (and every other query) goes on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import QueryError
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.isolated import IsolatedEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

DEEP_JSON = "SELECT json_structure(repeat('[', 100000) || repeat(']', 100000)) AS s"


@pytest.fixture
def isolated(app: App) -> Iterator[IsolatedEngine]:
    deliver(app, "landing/acme/orders/a.csv", b"id,region,amount\n1,EU,10\n2,US,20\n")
    settings = app.settings.query.model_copy(update={"memory_limit": "512MB"})
    dump = app.settings.model_copy(update={"query": settings}).model_dump()
    engine = IsolatedEngine(str(app.home.root), dump, settings, processes=2, margin_mb=768)
    yield engine
    engine.close()


def test_a_query_that_crashes_the_engine_fails_alone(isolated: IsolatedEngine) -> None:
    assert isolated.execute("SELECT sum(amount) AS s FROM acme.orders").table.to_pylist() == [{"s": 30}]
    with pytest.raises(QueryError) as crashed:
        isolated.execute(DEEP_JSON)
    assert crashed.value.code == "query.engine_crashed"
    assert "SIGSEGV" in crashed.value.message and "unaffected" in crashed.value.message
    assert isolated.execute("SELECT count(*) AS n FROM acme.orders").table.to_pylist() == [{"n": 2}]
    stream = isolated.stream(DEEP_JSON)
    with pytest.raises(QueryError) as streamed:
        list(stream)
    assert streamed.value.code == "query.engine_crashed"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT length(repeat('x', 2000000000)) AS n",
        "SELECT count(*) AS n FROM (SELECT unnest(range(300000000)) AS v)",
    ],
    ids=["a-2-GB-string", "a-300-million-element-list"],
)
def test_memory_outside_the_engine_s_limit_is_bounded_too(isolated: IsolatedEngine, sql: str) -> None:
    with pytest.raises(QueryError) as failed:
        isolated.execute(sql)
    assert failed.value.code in ("query.memory", "query.engine_crashed", "query.failed")
    assert isolated.execute("SELECT 1 AS one").table.to_pylist() == [{"one": 1}]


def test_grants_hold_in_engine_processes(app: App, isolated: IsolatedEngine) -> None:
    people = Principals(app.catalog)
    people.add("ann", role="analyst")
    Grants(app.catalog).grant(principal="ann", database="acme", row_filter="region = 'EU'", by="test")
    gateway = Gateway(app.catalog, isolated)
    _id, result, _ = gateway.run(people.require("ann"), "SELECT id FROM acme.orders")
    assert result.table.to_pylist() == [{"id": 1}]
    run = gateway.stream(people.require("ann"), "SELECT id, amount FROM acme.orders")
    assert [b.to_pylist() for b in run.stream] == [[{"id": 1, "amount": 10}]]


def test_over_http_the_server_answers_after_a_crash(app: App, isolated: IsolatedEngine) -> None:
    people = Principals(app.catalog)
    people.add("root", role="admin")
    token, _ = people.create_token("root")
    pipeline = Pipeline(app.catalog, app.store)
    client = TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, isolated)))
    auth = {"Authorization": f"Bearer {token}"}
    crashed = client.post("/v1/query", json={"sql": DEEP_JSON}, headers=auth)
    assert crashed.status_code >= 400 and crashed.json()["error"]["code"] == "query.engine_crashed"
    assert client.get("/v1/health").status_code == 200
    fine = client.post("/v1/query", json={"sql": "SELECT count(*) AS n FROM acme.orders"}, headers=auth)
    assert fine.json()["rows"] == [[2]]


def test_closing_a_finished_stream_never_stops_the_next_query_on_its_process(app: App) -> None:
    """A stream read to its end gives its engine process back at once; closing it afterwards
    (every front end does, when it is done) must not reach the query that process runs next."""
    engine = IsolatedEngine(str(app.home.root), app.settings.model_dump(), app.settings.query, processes=1)
    try:
        for _ in range(5):
            first = engine.stream("SELECT 1 AS n")
            assert [b.num_rows for b in first] == [1]
            following = engine.stream("SELECT sum(range % 7) AS n FROM range(300000000)")  # about a second
            time.sleep(0.2)  # it runs on the one engine process
            first.close()  # late: the process is running the next query
            assert [r["n"] for b in following for r in b.to_pylist()] == [899999997]
    finally:
        engine.close()
