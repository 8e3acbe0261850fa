"""What the web console stands on: cookie sessions with CSRF protection, saved queries, the
arrivals feed and a table's lineage — each scoped to what the principal may see."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.auth.sessions import COOKIE
from tests.ingest.test_pipeline import deliver
from tests.server.test_catalog_api import Headers, api

__all__ = ["api"]  # the fixture, shared
Api = tuple[TestClient, Headers, App]


def _token(headers: Headers, name: str) -> str:
    return headers[name]["Authorization"].removeprefix("Bearer ")


def sign_in(client: TestClient, headers: Headers, name: str) -> str:
    answer = client.post("/v1/session", json={"token": _token(headers, name)})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf"])


def test_signing_in_sets_an_http_only_strict_cookie_and_changes_need_the_csrf_token(api: Api) -> None:
    client, headers, _app = api
    answer = client.post("/v1/session", json={"token": _token(headers, "ann")})
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert answer.headers["cache-control"] == "no-store"
    csrf = answer.json()["csrf"]
    assert answer.json()["principal"]["name"] == "ann"
    # reads need only the cookie
    assert client.get("/v1/whoami").json()["name"] == "ann"
    assert client.get("/v1/session").json()["csrf"] == csrf
    # a change without the CSRF token is refused, with it done
    saved = {"name": "n", "sql": "SELECT 1"}
    refused = client.post("/v1/saved-queries", json=saved)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.csrf"
    wrong = client.post("/v1/saved-queries", json=saved, headers={"X-CSRF-Token": csrf + "x"})
    assert wrong.status_code == 403
    assert client.post("/v1/saved-queries", json=saved, headers={"X-CSRF-Token": csrf}).status_code == 201
    # signing out ends the session for good, even with the old cookie
    old = client.cookies.get(COOKIE)
    assert client.delete("/v1/session").status_code == 403  # sign-out too needs the token
    assert client.delete("/v1/session", headers={"X-CSRF-Token": csrf}).json() == {"signed_out": True}
    client.cookies.set(COOKIE, old)
    after = client.get("/v1/whoami")
    assert after.status_code == 401 and after.json()["error"]["code"] == "auth.invalid"
    assert client.get("/v1/session").json() == {"principal": None, "csrf": None, "expires_at": None}


def test_a_bad_token_opens_no_session_and_a_revoked_token_ends_its_sessions(api: Api) -> None:
    client, headers, app = api
    assert client.post("/v1/session", json={"token": "lg_nope_nope"}).status_code == 401
    assert COOKIE not in client.cookies
    people = Principals(app.catalog)
    token, info = people.create_token("ann")
    client.post("/v1/session", json={"token": token})
    assert client.get("/v1/whoami").status_code == 200
    people.revoke(info.id)
    assert client.get("/v1/whoami").status_code == 401
    client.cookies.clear()
    sign_in(client, headers, "ann")
    people.disable("ann")
    assert client.get("/v1/whoami").status_code == 401


def test_a_bearer_token_needs_no_csrf_token_and_wins_over_a_cookie(api: Api) -> None:
    client, headers, _app = api
    sign_in(client, headers, "ann")
    done = client.post("/v1/saved-queries", json={"name": "b", "sql": "SELECT 2"}, headers=headers["fil"])
    assert done.status_code == 201
    assert [q["name"] for q in client.get("/v1/saved-queries", headers=headers["fil"]).json()["saved"]] == [
        "b"
    ]


def test_saved_queries_are_each_principals_own(api: Api) -> None:
    client, headers, _app = api
    first = client.post(
        "/v1/saved-queries",
        json={"name": "orders", "sql": "SELECT 1", "dialect": "athena"},
        headers=headers["ann"],
    ).json()
    again = client.post(
        "/v1/saved-queries", json={"name": "orders", "sql": "SELECT 2"}, headers=headers["ann"]
    ).json()
    assert again["id"] == first["id"] and again["sql"] == "SELECT 2" and again["dialect"] == "duckdb"
    assert client.get("/v1/saved-queries", headers=headers["fil"]).json() == {"saved": []}
    # another principal's id answers like an unknown one
    foreign = client.delete(f"/v1/saved-queries/{first['id']}", headers=headers["fil"])
    unknown = client.delete("/v1/saved-queries/999999", headers=headers["fil"])
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"]["code"] == "saved.unknown"
    assert client.delete(f"/v1/saved-queries/{first['id']}", headers=headers["ann"]).status_code == 200
    assert client.get("/v1/saved-queries", headers=headers["ann"]).json() == {"saved": []}
    blank = client.post("/v1/saved-queries", json={"name": " ", "sql": "SELECT 1"}, headers=headers["ann"])
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "saved.invalid"


def test_arrivals_are_scoped_admins_all_providers_their_prefix_analysts_their_tables(api: Api) -> None:
    client, headers, app = api
    deliver(app, "landing/acme/in/empty.csv", b"")  # quarantined, under the provider's prefix
    deliver(app, "landing/acme/in/b.csv", b"id,region,email\n3,EU,c@x\n")
    everything = client.get("/v1/arrivals", headers=headers["root"]).json()["arrivals"]
    assert [a["key"] for a in everything] == [
        "landing/acme/in/b.csv",
        "landing/acme/in/empty.csv",
        "landing/globex/orders/a.csv",
        "landing/acme/orders/dt=1/a.csv",
    ]
    quarantined = everything[1]
    assert quarantined["outcome"] == "quarantined" and quarantined["reason_code"].startswith("reject.")
    assert quarantined["reason"] and quarantined["latency_ms"] is None
    accepted = everything[3]
    assert accepted["outcome"] == "accepted" and (accepted["database"], accepted["table"]) == (
        "acme",
        "orders",
    )
    assert accepted["partition"] == "dt=1" and accepted["rows"] == 2 and accepted["latency_ms"] >= 0
    provider = client.get("/v1/arrivals", headers=headers["up"]).json()["arrivals"]
    assert [a["key"] for a in provider] == ["landing/acme/in/b.csv", "landing/acme/in/empty.csv"]
    analyst = client.get("/v1/arrivals", headers=headers["ann"]).json()["arrivals"]
    # ann reads the acme database: its accepted deliveries, nothing of globex, nothing quarantined
    assert [a["key"] for a in analyst] == ["landing/acme/in/b.csv", "landing/acme/orders/dt=1/a.csv"]
    # fil reads acme.orders through a row filter and a masked column: a delivery's rows and
    # partition would tell what those hide, so it sees none
    assert client.get("/v1/arrivals", headers=headers["fil"]).json() == {"arrivals": []}
    newer = client.get(f"/v1/arrivals?after={everything[1]['id']}", headers=headers["root"]).json()
    assert [a["key"] for a in newer["arrivals"]] == ["landing/acme/in/b.csv"]
    since = client.get(f"/v1/arrivals?since={time.time() + 5}", headers=headers["root"]).json()
    assert since == {"arrivals": []}
    timeline = client.get("/v1/arrivals/timeline?window=600&bucket=60", headers=headers["root"]).json()
    assert len(timeline["buckets"]) == 10
    assert sum(b["accepted"] for b in timeline["buckets"]) == 3
    assert sum(b["quarantined"] for b in timeline["buckets"]) == 1
    assert (
        client.get("/v1/arrivals/timeline", headers=headers["ann"]).json()["buckets"][-1]["quarantined"] == 0
    )


def test_a_tables_files_say_where_they_came_from(api: Api) -> None:
    client, headers, _app = api
    [file] = client.get("/v1/tables/acme/orders/files", headers=headers["ann"]).json()["files"]
    assert file["key"] == "lake/acme/orders/dt=1/a.csv" and file["partition"] == "dt=1"
    assert file["rows"] == 2 and file["format"] == "csv" and file["origin"] == "delivered"
    assert file["delivered"] == "landing/acme/orders/dt=1/a.csv" and file["landed_at"] > 0
    assert client.get("/v1/tables/acme/orders/files", headers=headers["fil"]).status_code == 403  # filtered
    assert client.get("/v1/tables/globex/orders/files", headers=headers["ann"]).status_code == 404
    versions = client.get("/v1/tables/acme/orders/versions", headers=headers["ann"]).json()["versions"]
    assert versions[0]["changes"] and versions[0]["cause"]


def test_the_console_is_served_with_a_strict_content_security_policy(api: Api) -> None:
    client, _headers, _app = api
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    bundle = client.get("/console/vendor/codemirror.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert "frame-ancestors 'none'" in bundle.headers["content-security-policy"]


def test_an_arrival_that_changed_its_tables_schema_says_so(api: Api) -> None:
    client, headers, app = api
    deliver(app, "landing/evolving/t/a.csv", b"id,amount\n1,10\n")
    deliver(app, "landing/evolving/t/b.csv", b"id,amount,coupon\n2,2.5,W\n")
    found = client.get("/v1/arrivals", headers=headers["root"]).json()["arrivals"]
    by_key = {a["key"]: a for a in found}
    assert by_key["landing/evolving/t/a.csv"]["schema_change"] is None  # it made the table
    change = by_key["landing/evolving/t/b.csv"]["schema_change"]
    assert change == {
        "version": 2,
        "changes": ["+ coupon VARCHAR", "~ amount BIGINT → DOUBLE"],
        "text": "schema v2: + coupon VARCHAR, ~ amount BIGINT → DOUBLE",
    }
