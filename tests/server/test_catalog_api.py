"""The catalog over HTTP shows each principal only what it may read; providers upload into
their own landing prefix only."""

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

Headers = dict[str, dict[str, str]]


@pytest.fixture
def api(app: App) -> Iterator[tuple[TestClient, Headers, App]]:
    deliver(app, "landing/acme/orders/dt=1/a.csv", b"id,region,email\n1,EU,a@x\n2,US,b@x\n")
    deliver(app, "landing/globex/orders/a.csv", b"id\n7\n")
    people = Principals(app.catalog)
    headers: Headers = {}
    principals = [("ann", "analyst", None), ("fil", "analyst", None), ("root", "admin", None)]
    for name, role, prefix in [*principals, ("up", "provider", "acme/in")]:
        people.add(name, role=role, landing_prefix=prefix)
        token, _ = people.create_token(name)
        headers[name] = {"Authorization": f"Bearer {token}"}
    grants = Grants(app.catalog)
    grants.grant(principal="ann", database="acme", by="root")
    grants.grant(principal="fil", database="acme", table="orders", columns=["email"], exclude=True,
                 row_filter="region = 'EU'", by="root")  # fmt: skip
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    yield (
        TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine))),
        headers,
        app,
    )
    engine.close()


def test_listings_show_only_granted_tables_and_columns(api: tuple[TestClient, Headers, App]) -> None:
    client, headers, _app = api
    assert client.get("/v1/databases", headers=headers["ann"]).json() == {"databases": ["acme"]}
    assert client.get("/v1/databases", headers=headers["root"]).json() == {"databases": ["acme", "globex"]}
    [table] = client.get("/v1/tables", headers=headers["fil"]).json()["tables"]
    assert [c["name"] for c in table["columns"]] == ["id", "region", "dt"]  # no email
    foreign = client.get("/v1/tables/globex/orders", headers=headers["ann"])
    missing = client.get("/v1/tables/globex/nope", headers=headers["ann"])
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["message"].replace("orders", "X") == missing.json()["error"][
        "message"
    ].replace("nope", "X")


def test_partitions_versions_and_descriptions(api: tuple[TestClient, Headers, App]) -> None:
    client, headers, _app = api
    parts = client.get("/v1/tables/acme/orders/partitions", headers=headers["ann"]).json()["partitions"]
    assert [(p["path"], p["rows"]) for p in parts] == [("dt=1", 2)]
    assert client.get("/v1/tables/acme/orders/partitions", headers=headers["fil"]).status_code == 403
    versions = client.get("/v1/tables/acme/orders/versions", headers=headers["fil"]).json()["versions"]
    assert [c["name"] for c in versions[0]["columns"]] == ["id", "region"]
    said = {"text": "Orders of the shop"}
    assert (
        client.put("/v1/tables/acme/orders/description", json=said, headers=headers["ann"]).status_code == 403
    )
    assert (
        client.put("/v1/tables/acme/orders/description", json=said, headers=headers["root"]).status_code
        == 200
    )
    shown = client.get("/v1/tables/acme/orders", headers=headers["ann"]).json()
    assert shown["description"] == "Orders of the shop" and shown["rows"] == 2


def test_providers_upload_into_their_prefix_only(api: tuple[TestClient, Headers, App]) -> None:
    client, headers, app = api
    done = client.post("/v1/upload/acme/in/new.csv", content=b"id\n5\n", headers=headers["up"])
    assert done.status_code == 200 and done.json() == {"key": "landing/acme/in/new.csv", "size": 5}
    assert app.store.read("landing/acme/in/new.csv") == b"id\n5\n"
    for path in ("globex/x.csv", "acme/inside.csv", "acme/in/../../globex/x.csv"):
        refused = client.post(f"/v1/upload/{path}", content=b"x", headers=headers["up"])
        assert refused.status_code in (403, 404), path
    assert client.post("/v1/upload/acme/in/x.csv", content=b"x", headers=headers["ann"]).status_code == 403
