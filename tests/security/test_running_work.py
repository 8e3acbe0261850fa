"""Work that outlives its request — a background query, a download in progress — stops within a
second or two of its principal's access ending (SECURITY.md, "Sessions")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

LONG = "SELECT count(*) FROM s.t a, s.t b, s.t c, s.t d WHERE a.id + b.id + c.id + d.id > 0"
WIDE = "SELECT a.id, b.id AS b, c.id AS c FROM s.t a, s.t b, s.t c"


@pytest.fixture
def served(app: App, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Principals]]:
    deliver(app, "landing/s/t/a.csv", b"id\n" + b"".join(b"%d\n" % i for i in range(400)))
    people = Principals(app.catalog)
    tokens = {}
    for name, role in (("ann", "analyst"), ("root", "admin")):
        people.add(name, role=role)
        tokens[name], _ = people.create_token(name)
    Grants(app.catalog).grant(principal="ann", database="s", by="root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    server = make_app(
        app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine), results=tmp_path / "results"
    )
    yield TestClient(server), tokens, people
    if server.state.jobs is not None:
        server.state.jobs.shutdown()
    engine.close()


def _state(client: TestClient, root: str, query_id: str) -> str:
    answer = client.get(f"/v1/queries/{query_id}", headers={"Authorization": f"Bearer {root}"})
    return str(answer.json()["state"])


@pytest.mark.parametrize("how", ["revoke", "disable", "grant revoked", "role changed"])
def test_a_background_query_is_cancelled_when_access_ends(
    served: tuple[TestClient, dict[str, str], Principals], how: str
) -> None:
    client, tokens, people = served
    ann = {"Authorization": f"Bearer {tokens['ann']}"}
    submitted = client.post("/v1/queries", json={"sql": LONG}, headers=ann)
    assert submitted.status_code == 202, submitted.text
    query_id = submitted.json()["id"]
    deadline = time.monotonic() + 10
    while _state(client, tokens["root"], query_id) != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    if how == "revoke":
        token_id = token_format.token_id(tokens["ann"])
        assert token_id is not None
        people.revoke(token_id)
    elif how == "disable":
        people.disable("ann")
    elif how == "grant revoked":
        grants = Grants(people.catalog)
        [grant] = grants.of(people.require("ann"))
        grants.revoke(grant.id)
    else:
        people.update("ann", role="admin")  # more access, but not the access it began with
    ended = time.monotonic()
    while _state(client, tokens["root"], query_id) == "RUNNING":
        assert time.monotonic() - ended < 5, "the query went on"
        time.sleep(0.05)
    assert _state(client, tokens["root"], query_id) == "CANCELLED"


def test_a_download_in_progress_stops_when_access_ends(
    served: tuple[TestClient, dict[str, str], Principals],
) -> None:
    client, tokens, people = served
    ann = {"Authorization": f"Bearer {tokens['ann']}"}
    received = 0
    with client.stream("POST", "/v1/query/download", json={"sql": WIDE, "format": "csv"}, headers=ann) as r:
        assert r.status_code == 200
        chunks = r.iter_bytes()
        received += len(next(chunks))
        people.disable("ann")
        started = time.monotonic()
        try:
            for chunk in chunks:
                received += len(chunk)
                assert time.monotonic() - started < 10, "the download went on"
        except RuntimeError:  # the transfer is cut (a real server closes the connection)
            pass
    whole = 400**3 * len("399,399,399\n")
    assert received < whole / 2
    history = client.get("/v1/queries", headers={"Authorization": f"Bearer {tokens['root']}"}).json()
    assert [q["state"] for q in history["queries"] if q["principal"] == "ann"] == ["CANCELLED"]


def test_console_sessions_follow_disabling_role_and_grant_changes(
    served: tuple[TestClient, dict[str, str], Principals],
) -> None:
    client, tokens, people = served
    assert client.post("/v1/session", json={"token": tokens["ann"]}).status_code == 200
    assert [t["name"] for t in client.get("/v1/tables").json()["tables"]] == ["t"]
    grants = Grants(people.catalog)
    [grant] = grants.of(people.require("ann"))
    grants.revoke(grant.id)
    assert client.get("/v1/tables").json()["tables"] == []  # the next request
    people.update("ann", role="admin")
    assert client.get("/v1/whoami").json()["role"] == "admin"
    people.disable("ann")
    answer = client.get("/v1/whoami")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "auth.invalid"
