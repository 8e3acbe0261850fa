"""Asynchronous queries: submit, poll, page through the result, download it, or cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.server.app import make_app

Headers = dict[str, dict[str, str]]


@pytest.fixture
def api(app: App) -> Iterator[tuple[TestClient, Headers]]:
    people = Principals(app.catalog)
    headers: Headers = {}
    for name, role in (("ann", "analyst"), ("gus", "analyst"), ("root", "admin")):
        people.add(name, role=role)
        token, _ = people.create_token(name)
        headers[name] = {"Authorization": f"Bearer {token}"}
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    yield (
        TestClient(
            make_app(
                app.catalog,
                app.store,
                lambda: pipeline,
                Gateway(app.catalog, engine),
                results=app.home.root / "results",
            )
        ),
        headers,
    )
    engine.close()


def until_done(client: TestClient, headers: dict[str, str], query_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = client.get(f"/v1/queries/{query_id}", headers=headers).json()
        if state["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the query never finished")


def test_submit_poll_and_page_through_the_result(api: tuple[TestClient, Headers]) -> None:
    client, headers = api
    sql = {"sql": "SELECT range AS n FROM range(2500) WHERE n % ? = 0", "params": [1]}
    submitted = client.post("/v1/queries", json=sql, headers=headers["ann"])
    assert submitted.status_code == 202 and submitted.json()["state"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    query_id = submitted.json()["id"]
    done = until_done(client, headers["ann"], query_id)
    assert done["state"] == "SUCCEEDED" and done["rows"] == 2500
    rows, offset = [], 0
    while offset is not None:
        page = client.get(
            f"/v1/queries/{query_id}/results?offset={offset}&limit=1000", headers=headers["ann"]
        ).json()
        rows += [r[0] for r in page["rows"]]
        offset = page["next_offset"]
    assert rows == list(range(2500))
    csv = client.get(f"/v1/queries/{query_id}/results?format=csv", headers=headers["ann"]).text
    assert csv.splitlines()[:2] == ['"n"', "0"] or csv.splitlines()[:2] == ["n", "0"]
    # another analyst cannot see it; an admin can
    assert client.get(f"/v1/queries/{query_id}/results", headers=headers["gus"]).status_code == 404
    assert client.get(f"/v1/queries/{query_id}/results", headers=headers["root"]).status_code == 200


def test_a_long_query_can_be_cancelled(api: tuple[TestClient, Headers], app: App) -> None:
    client, headers = api
    slow = {"sql": "SELECT sum(hash(range)) FROM range(100000000000)"}  # hours, in little memory
    query_id = client.post("/v1/queries", json=slow, headers=headers["ann"]).json()["id"]
    time.sleep(0.3)
    cancelled = client.post(f"/v1/queries/{query_id}/cancel", headers=headers["ann"]).json()
    done = until_done(client, headers["ann"], query_id)
    assert done["state"] == "CANCELLED" and cancelled["id"] == query_id
    no_result = client.get(f"/v1/queries/{query_id}/results", headers=headers["ann"])
    assert no_result.status_code == 409 and no_result.json()["error"]["code"] == "query.no_result"
    assert not list((app.home.root / "results").glob(f"{query_id}*"))  # nothing half-written is left


def test_wait_answers_a_quick_query_finished_and_failures_keep_their_error(
    api: tuple[TestClient, Headers],
) -> None:
    client, headers = api
    done = client.post(
        "/v1/queries", json={"sql": "SELECT 1 AS x", "wait": 10}, headers=headers["ann"]
    ).json()
    assert done["state"] == "SUCCEEDED"
    failed = client.post(
        "/v1/queries", json={"sql": "SELECT * FROM no.table", "wait": 10}, headers=headers["ann"]
    ).json()
    assert failed["state"] == "FAILED" and failed["error_code"] == "guard.table_unknown"


def test_a_query_that_asks_may_be_answered_by_an_earlier_result(
    app: App, api: tuple[TestClient, Headers]
) -> None:
    from tests.ingest.test_pipeline import deliver

    client, headers = api
    deliver(app, "landing/r/t/a.csv", b"id,v\n1,10\n2,20\n")
    body = {"sql": "SELECT sum(v) AS s FROM r.t", "reuse_max_age_minutes": 60}
    first = client.post("/v1/query", json=body, headers=headers["root"]).json()
    again = client.post("/v1/query", json=body, headers=headers["root"]).json()
    assert first["reused"] is False and first["bytes_scanned"] > 0
    assert again["reused"] is True and again["bytes_scanned"] == 0 and again["rows"] == first["rows"]
    ran = client.post("/v1/query", json={"sql": body["sql"]}, headers=headers["root"]).json()
    assert ran["reused"] is False
    submitted = client.post("/v1/queries", json=body, headers=headers["root"]).json()
    done = until_done(client, headers["root"], submitted["id"])
    assert done["reused"] is True and done["rows"] == 1 and done["bytes_scanned"] == 0
    history = client.get("/v1/queries", headers=headers["root"]).json()
    assert [q["reused"] for q in history["queries"]][:4] == [True, False, True, False]
    refused = client.post("/v1/query", json={**body, "reuse_max_age_minutes": 0}, headers=headers["root"])
    assert refused.status_code == 422
