"""Admins manage principals, tokens, grants and workgroups over HTTP; everyone else manages
only its own tokens, and learns nothing about other principals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

Headers = dict[str, str]


@pytest.fixture
def client(app: App) -> Iterator[tuple[TestClient, Headers]]:
    deliver(app, "landing/acme/orders/a.csv", b"id,region,email\n1,EU,a@x\n2,US,b@x\n")
    people = Principals(app.catalog)
    people.add("root", role="admin")
    token, _ = people.create_token("root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    yield (
        TestClient(make_app(app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine))),
        {"Authorization": f"Bearer {token}"},
    )
    engine.close()


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_adds_a_principal_gives_it_a_token_and_a_grant(client: tuple[TestClient, Headers]) -> None:
    http, root = client
    added = http.post("/v1/principals", json={"name": "ann", "workgroup": "team"}, headers=root)
    assert added.status_code == 201 and added.json()["role"] == "analyst"
    again = http.post("/v1/principals", json={"name": "ann"}, headers=root)
    assert again.status_code == 409 and again.json()["error"]["code"] == "auth.exists"
    made = http.post("/v1/principals/ann/tokens", json={"expires": "90d", "note": "notebook"}, headers=root)
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    ann = bearer(made.json()["token"])
    assert made.json()["expires_at"] > made.json()["created_at"] + 89 * 86400
    sql = {"sql": "SELECT * FROM acme.orders ORDER BY id"}

    def refused() -> bool:
        answer = http.post("/v1/query", json=sql, headers=ann)
        return answer.status_code == 400 and answer.json()["error"]["code"] == "guard.table_unknown"

    assert refused()  # nothing granted yet
    grant = {"database": "acme", "table": "orders", "principal": "ann", "columns": ["email"],
             "exclude": True, "row_filter": "region = 'EU'"}  # fmt: skip
    given = http.post("/v1/grants", json=grant, headers=root)
    assert given.status_code == 201, given.text
    assert given.json()["reads"] == "acme.orders except email where region = 'EU'"
    assert http.post("/v1/query", json=sql, headers=ann).json()["rows"] == [[1, "EU"]]
    gone = http.delete(f"/v1/grants/{given.json()['id']}", headers=root)
    assert gone.status_code == 200
    assert refused()
    assert http.delete(f"/v1/grants/{given.json()['id']}", headers=root).status_code == 404


def test_bad_requests_are_refused_with_their_reason(client: tuple[TestClient, Headers]) -> None:
    http, root = client
    bad_name = http.post("/v1/principals", json={"name": "no spaces"}, headers=root)
    assert bad_name.status_code == 400 and bad_name.json()["error"]["code"] == "auth.bad_principal"
    provider = http.post("/v1/principals", json={"name": "up", "role": "provider"}, headers=root)
    assert provider.status_code == 400 and "landing" in provider.json()["error"]["message"]
    unknown_column = {"database": "acme", "table": "orders", "principal": "root", "columns": ["nope"]}
    refused = http.post("/v1/grants", json=unknown_column, headers=root)
    assert refused.status_code == 400 and "nope" in refused.json()["error"]["message"]
    bad_filter = {"database": "acme", "principal": "root", "row_filter": "1=1; DROP TABLE x"}
    assert http.post("/v1/grants", json=bad_filter, headers=root).status_code == 400
    bad_expiry = http.post("/v1/principals/root/tokens", json={"expires": "soon"}, headers=root)
    assert bad_expiry.status_code == 400 and bad_expiry.json()["error"]["code"] == "auth.bad_token"
    assert http.post("/v1/principals/ghost/tokens", json={}, headers=root).status_code == 404
    assert http.put("/v1/workgroups/w", json={"max_concurrent": 0}, headers=root).status_code == 422


def test_analysts_manage_only_their_own_tokens(client: tuple[TestClient, Headers]) -> None:
    http, root = client
    for name in ("ann", "bob"):
        http.post("/v1/principals", json={"name": name}, headers=root)
    ann = bearer(http.post("/v1/principals/ann/tokens", json={}, headers=root).json()["token"])
    bob_token = http.post("/v1/principals/bob/tokens", json={}, headers=root).json()
    second = http.post("/v1/principals/ann/tokens", json={"note": "BI tool"}, headers=ann)
    assert second.status_code == 201
    assert http.post("/v1/principals/bob/tokens", json={}, headers=ann).status_code == 403
    listed = http.get("/v1/tokens", headers=ann).json()["tokens"]
    assert {t["principal"] for t in listed} == {"ann"} and len(listed) == 2
    assert "token" not in listed[0] and "stored_key" not in listed[0]
    assert http.get("/v1/tokens?principal=bob", headers=ann).status_code == 403
    # another principal's token id is answered like an unknown one
    foreign = http.post(f"/v1/tokens/{bob_token['id']}/revoke", headers=ann)
    unknown = http.post("/v1/tokens/zzzzzzzz/revoke", headers=ann)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"]["message"].replace(bob_token["id"], "X") == unknown.json()["error"][
        "message"
    ].replace("zzzzzzzz", "X")
    revoked = http.post(f"/v1/tokens/{second.json()['id']}/revoke", headers=ann)
    assert revoked.json()["state"] == "revoked"
    assert http.get("/v1/whoami", headers=bearer(second.json()["token"])).status_code == 401
    for path in ("/v1/principals", "/v1/grants", "/v1/workgroups", "/v1/principals/bob"):
        assert http.get(path, headers=ann).status_code == 403, path
    assert http.get("/v1/principals/ann", headers=ann).json()["name"] == "ann"
    assert http.put("/v1/workgroups/w", json={}, headers=ann).status_code == 403
    assert (
        http.post("/v1/grants", json={"database": "acme", "principal": "ann"}, headers=ann).status_code == 403
    )


def test_disabling_a_principal_stops_its_tokens(client: tuple[TestClient, Headers]) -> None:
    http, root = client
    http.post("/v1/principals", json={"name": "ann"}, headers=root)
    ann = bearer(http.post("/v1/principals/ann/tokens", json={}, headers=root).json()["token"])
    changed = http.patch("/v1/principals/ann", json={"disabled": True, "role": "provider",
                                                     "landing_prefix": "ann/"}, headers=root)  # fmt: skip
    assert changed.json()["state"] == "disabled" and changed.json()["role"] == "provider"
    assert http.get("/v1/whoami", headers=ann).status_code == 401
    assert (
        http.patch("/v1/principals/ann", json={"disabled": False}, headers=root).json()["state"] == "active"
    )
    assert http.get("/v1/whoami", headers=ann).json()["role"] == "provider"
    myself = http.patch("/v1/principals/root", json={"disabled": True}, headers=root)
    assert myself.status_code == 400 and http.get("/v1/whoami", headers=root).status_code == 200


def test_workgroups_set_over_http_limit_their_queries(client: tuple[TestClient, Headers]) -> None:
    http, root = client
    made = http.put("/v1/workgroups/small", json={"max_rows": 1, "timeout_seconds": 60}, headers=root)
    assert made.status_code == 200 and made.json()["max_rows"] == 1 and made.json()["max_concurrent"] == 4
    changed = http.put("/v1/workgroups/small", json={"max_concurrent": 2}, headers=root).json()
    assert changed["max_rows"] == 1 and changed["max_concurrent"] == 2  # limits not given are kept
    assert [w["name"] for w in http.get("/v1/workgroups", headers=root).json()["workgroups"]] == ["small"]
    http.post("/v1/principals", json={"name": "ann", "workgroup": "small"}, headers=root)
    http.post("/v1/grants", json={"database": "acme", "principal": "ann"}, headers=root)
    ann = bearer(http.post("/v1/principals/ann/tokens", json={}, headers=root).json()["token"])
    refused = http.post("/v1/query", json={"sql": "SELECT * FROM acme.orders"}, headers=ann)
    assert refused.status_code == 400 and "1" in refused.json()["error"]["message"], refused.text
