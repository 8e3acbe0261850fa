"""Workgroups: each query gets its own workgroup's limits; a full queue answers 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.auth.workgroups import Workgroups
from lakegate.errors import ConfigError
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

RUNAWAY = "SELECT sum(hash(range)) FROM range(100000000000)"  # hours, in little memory


@pytest.fixture
def api(app: App) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    deliver(app, "landing/shared/t/a.csv", b"id\n" + b"".join(f"{i}\n".encode() for i in range(100)))
    groups = Workgroups(app.catalog)
    groups.put(
        "tight", timeout_seconds=1.0, max_rows=10, max_bytes_scanned=100, max_concurrent=1, max_queued=0
    )
    groups.put("roomy", timeout_seconds=60.0)
    people = Principals(app.catalog)
    headers = {}
    for name, group in (("tim", "tight"), ("rue", "roomy")):
        people.add(name, workgroup=group)
        token, _ = people.create_token(name)
        headers[name] = {"Authorization": f"Bearer {token}"}
        Grants(app.catalog).grant(principal=name, database="shared", by="test")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    yield (
        TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine))),
        headers,
    )
    engine.close()


def ask(client: TestClient, headers: dict[str, str], sql: str) -> tuple[int, dict[str, object]]:
    answer = client.post("/v1/query", json={"sql": sql}, headers=headers)
    return answer.status_code, answer.json()


def test_each_workgroup_gets_its_own_limits(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    status, body = ask(client, headers["tim"], "SELECT * FROM shared.t")  # its files: more than 100 bytes
    assert status == 400 and body["error"]["code"] == "query.bytes_limit"  # type: ignore[index]
    status, body = ask(client, headers["tim"], "SELECT * FROM range(50)")
    assert status == 400 and body["error"]["code"] == "query.rows"  # type: ignore[index]
    status, body = ask(client, headers["rue"], "SELECT * FROM shared.t")
    assert status == 200 and body["row_count"] == 100 and body["bytes_scanned"] > 100


def test_a_runaway_query_is_stopped_while_others_keep_going(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    results: dict[str, tuple[int, dict[str, object]]] = {}
    runaway = threading.Thread(
        target=lambda: results.__setitem__("tim", ask(client, headers["tim"], RUNAWAY))
    )
    runaway.start()
    started = time.monotonic()
    for _ in range(5):  # the other workgroup's queries are answered meanwhile
        status, _body = ask(client, headers["rue"], "SELECT count(*) FROM shared.t")
        assert status == 200
    runaway.join(timeout=30)
    status, body = results["tim"]
    assert status == 408 and body["error"]["code"] == "query.timeout"  # type: ignore[index]
    assert time.monotonic() - started < 20


def test_a_full_queue_answers_429(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    results: list[tuple[int, dict[str, object]]] = []
    first = threading.Thread(target=lambda: results.append(ask(client, headers["tim"], RUNAWAY)))
    first.start()
    time.sleep(0.3)  # the first holds tight's only turn; tight queues none
    status, body = ask(client, headers["tim"], "SELECT 1")
    first.join(timeout=30)
    assert status == 429 and body["error"]["code"] == "query.too_many"  # type: ignore[index]
    assert "waiting" in body["error"]["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "limits", "said"),
    [
        ("w", {"max_concurrent": 0}, "at least one query"),
        ("w", {"max_queued": 2**63}, "out of range"),
        ("w", {"max_rows": -1}, "out of range"),
        (" spaced ", {}, "not a workgroup name"),
    ],
)
def test_bad_limits_are_explained(app: App, name: str, limits: dict[str, int], said: str) -> None:
    with pytest.raises(ConfigError) as err:
        Workgroups(app.catalog).put(name, **limits)
    assert err.value.code == "workgroups.bad" and said in err.value.message
    assert Workgroups(app.catalog).all() == []


def test_a_query_past_its_memory_limit_fails_clearly_and_the_server_lives_on(app: App) -> None:
    Workgroups(app.catalog).put("small", memory_limit="32MB")
    people = Principals(app.catalog)
    people.add("mia", workgroup="small")
    token, _ = people.create_token("mia")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    client = TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine)))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        hungry = "SELECT list(range) AS l FROM range(20000000)"
        status, body = ask(client, headers, hungry)
        assert status == 400 and body["error"]["code"] == "query.memory"  # type: ignore[index]
        assert "32MB" in body["error"]["message"]  # type: ignore[index]
        status, _body = ask(client, headers, "SELECT 1")
        assert status == 200
    finally:
        engine.close()
