"""Two tenants with the same table names, a column filter, a row filter and an admin: every way
in — queries, downloads, background queries, catalog listings, information_schema, errors,
history, tokens, the Python API — is swept for anything the analyst was not granted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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

# what ann may never see, in any answer: the other tenant, its rows, the hidden column and rows
SECRETS = ("globex", "GLOBEX-ROW", "hidden_email", "HIDDEN-MAIL", "US-ONLY-ROW", "other_tenant_only")


@pytest.fixture
def sweep(app: App, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    deliver(
        app,
        "landing/acme/orders/dt=1/a.csv",
        b"id,region,note,hidden_email\n1,EU,EU-ROW,HIDDEN-MAIL-1\n2,US,US-ONLY-ROW,HIDDEN-MAIL-2\n",
    )
    deliver(app, "landing/globex/orders/a.csv", b"id,region,note\n7,EU,GLOBEX-ROW\n")
    deliver(app, "landing/globex/other_tenant_only/a.csv", b"id\n8\n")  # fmt: skip
    people = Principals(app.catalog)
    tokens = {}
    for name, role in (("ann", "analyst"), ("gus", "analyst"), ("root", "admin")):
        people.add(name, role=role)
        tokens[name], _ = people.create_token(name)
    grants = Grants(app.catalog)
    grants.grant(principal="ann", database="acme", table="orders", columns=["hidden_email"], exclude=True,
                 row_filter="region = 'EU'", by="root")  # fmt: skip
    grants.grant(principal="gus", database="globex", by="root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    served = make_app(
        app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine), results=tmp_path / "results"
    )
    client = TestClient(served)
    # gus queries its own tenant's tables: its history must not reach ann either
    gus = {"Authorization": f"Bearer {tokens['gus']}"}
    assert client.post(
        "/v1/query", json={"sql": "SELECT * FROM globex.other_tenant_only"}, headers=gus
    ).is_success
    saved = {"name": "globex orders", "sql": "SELECT * FROM globex.orders"}
    assert client.post("/v1/saved-queries", json=saved, headers=gus).is_success
    yield client, {"Authorization": f"Bearer {tokens['ann']}"}, tokens
    if served.state.jobs is not None:
        served.state.jobs.shutdown()
    engine.close()


PROBES = [
    "SELECT * FROM acme.orders",
    "SELECT * FROM globex.orders",
    "SELECT * FROM globex.other_tenant_only",
    "SELECT hidden_email FROM acme.orders",
    "SELECT * FROM acme.orders WHERE region = 'US' OR true",
    "SELECT count(*) AS n, min(note) AS lo, max(note) AS hi FROM acme.orders",
    "SELECT * FROM information_schema.tables",
    "SELECT table_schema, table_name, column_name FROM information_schema.columns",
    "SELECT * FROM information_schema.schemata",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_columns()",
    "SELECT * FROM duckdb_views()",
    "SHOW TABLES",
    "SHOW ALL TABLES",
    "DESCRIBE acme.orders",
    "DESCRIBE globex.orders",
    "SELECT * FROM acme.orders, globex.orders",
    "WITH orders AS (SELECT * FROM globex.orders) SELECT * FROM orders",
    "SELECT * FROM read_csv('lake/globex/orders/a.csv')",
    "SELECT * FROM 'lake/globex/orders/a.csv'",
    "SELECT hidden_email FROM (SELECT * FROM acme.orders)",
    "SELECT * FROM acme.orders AS o WHERE o.hidden_email LIKE 'HIDDEN%'",
    "SELECT (SELECT note FROM globex.orders LIMIT 1) AS x",
    "SELECT * FROM acme.orders UNION ALL SELECT * FROM globex.orders",
]


def _text(answer: object) -> str:
    content = getattr(answer, "content", b"")
    return content.decode("utf-8", "replace") if isinstance(content, bytes) else str(answer)


def _clean(said: str, where: str, asked: str = "") -> None:
    """No secret in ``said`` but those the caller wrote itself in ``asked`` (an error may repeat
    the name it was given: "unknown table 'globex.orders'", as for one that does not exist)."""
    leaked = [s for s in SECRETS if s.lower() in said.lower() and s.lower() not in asked.lower()]
    assert not leaked, f"{where} showed {leaked}: {said[:400]}"


@pytest.mark.parametrize("sql", PROBES)
def test_no_query_path_shows_what_was_not_granted(
    sweep: tuple[TestClient, dict[str, str], dict[str, str]], sql: str
) -> None:
    client, ann, _tokens = sweep
    said = []
    said.append(_text(client.post("/v1/query", json={"sql": sql}, headers=ann)))
    for fmt in ("csv", "json", "arrow"):
        download = client.post("/v1/query/download", json={"sql": sql, "format": fmt}, headers=ann)
        said.append(
            _text(download) if fmt != "arrow" or not download.is_success else _arrow_text(download.content)
        )
    submitted = client.post("/v1/queries", json={"sql": sql, "wait": 30}, headers=ann).json()
    said.append(json.dumps(submitted))
    if submitted.get("state") == "SUCCEEDED":
        said.append(_text(client.get(f"/v1/queries/{submitted['id']}/results", headers=ann)))
        said.append(_text(client.get(f"/v1/queries/{submitted['id']}/results?format=csv", headers=ann)))
    for athena in (client.post("/v1/query", json={"sql": sql, "dialect": "athena"}, headers=ann),):
        said.append(_text(athena))
    if sql == PROBES[0]:  # the sweep is not empty: what ann may read, it reads
        assert all("EU-ROW" in text for text in said[:4]), said
    for i, text in enumerate(said):
        _clean(text, f"answer {i} to {sql!r}", asked=sql)


def _arrow_text(data: bytes) -> str:
    import pyarrow as pa

    table = pa.ipc.open_stream(data).read_all()
    return json.dumps(table.to_pylist(), default=str) + " " + " ".join(table.column_names)


def test_no_catalog_or_account_path_shows_what_was_not_granted(
    sweep: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, ann, tokens = sweep
    gets = [
        "/v1/databases", "/v1/tables", "/v1/tables?database=globex", "/v1/tables/acme/orders",
        "/v1/tables/acme/orders/versions", "/v1/tables/acme/orders/partitions", "/v1/tables/globex/orders",
        "/v1/tables/globex/other_tenant_only", "/v1/tables/globex/orders/versions", "/v1/queries",
        "/v1/queries?principal=gus", "/v1/tokens", "/v1/tokens?principal=gus", "/v1/whoami",
        "/v1/principals", "/v1/principals/gus", "/v1/grants", "/v1/workgroups", "/v1/quarantine",
        "/openapi.json", "/v1/tables/acme/orders/files", "/v1/tables/globex/orders/files", "/v1/arrivals",
        "/v1/arrivals?since=0", "/v1/arrivals/timeline", "/v1/saved-queries", "/",
    ]  # fmt: skip
    for path in gets:
        _clean(_text(client.get(path, headers=ann)), f"GET {path}", asked=path)
    # the same through the console's session cookie
    signed_in = client.post("/v1/session", json={"token": ann["Authorization"].removeprefix("Bearer ")})
    _clean(_text(signed_in), "sign-in")
    for path in gets:
        _clean(_text(client.get(path)), f"GET {path} (console session)", asked=path)
    client.cookies.clear()
    assert [t["name"] for t in client.get("/v1/tables", headers=ann).json()["tables"]] == ["orders"]
    shown = client.get("/v1/tables/acme/orders", headers=ann).json()
    assert (shown["rows"], shown["files"], shown["bytes"]) == (None, None, None)  # counted over hidden rows
    gus_history = client.get("/v1/queries", headers={"Authorization": f"Bearer {tokens['gus']}"}).json()
    foreign_id = gus_history["queries"][0]["id"]
    for path in (f"/v1/queries/{foreign_id}", f"/v1/queries/{foreign_id}/results"):
        answer = client.get(path, headers=ann)
        assert answer.status_code == 404
        _clean(_text(answer), f"GET {path}")
    _clean(_text(client.post(f"/v1/queries/{foreign_id}/cancel", headers=ann)), "cancel of gus's query")


def test_the_python_api_and_the_cli_as_a_principal_show_only_grants(app: App, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lakegate.cli.main import app as cli

    deliver(
        app, "landing/acme/orders/a.csv", b"id,region,hidden_email\n1,EU,HIDDEN-MAIL-1\n2,US,HIDDEN-MAIL-2\n"
    )
    deliver(app, "landing/globex/orders/a.csv", b"id,note\n7,GLOBEX-ROW\n")
    Principals(app.catalog).add("ann")
    Grants(app.catalog).grant(principal="ann", database="acme", columns=["hidden_email"], exclude=True,
                              row_filter="region = 'EU'", by="root")  # fmt: skip
    runner = CliRunner()
    home = str(app.home.root)
    for sql in (
        "SELECT * FROM acme.orders",
        "SELECT * FROM globex.orders",
        "SELECT * FROM information_schema.columns",
    ):
        said = runner.invoke(cli, ["sql", sql, "--as", "ann", "--home", home, "-f", "csv"])
        _clean(said.output, f"lakegate sql --as ann {sql!r}", asked=sql)
    assert "1,EU" in runner.invoke(cli, ["sql", "SELECT * FROM acme.orders", "--as", "ann", "--home", home,
                                         "-f", "csv"]).output  # fmt: skip
