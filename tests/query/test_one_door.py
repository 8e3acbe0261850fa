"""Every front end reaches the engine through the gateway, so every query is counted in
``/metrics``, recorded in the history with the front end that ran it, and held to its
principal's workgroup limits — HTTP (sync, background, download), the PostgreSQL wire, Athena's
API (the AWS endpoint), the DB-API ``connect()`` and ``lakegate sql``."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

import lakegate
from lakegate.app import App
from lakegate.auth.principals import HOME_ADMIN_NAME, Principals, home_admin
from lakegate.auth.workgroups import Workgroups
from lakegate.ingest.pipeline import Pipeline
from lakegate.pgwire.server import PgServer
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.history import History, QueryRecord
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from lakegate.server.aws.app import aws_keys, make_aws_app
from lakegate.server.background import BackgroundServer
from tests.ingest.test_pipeline import deliver

TOO_MANY = "SELECT * FROM range(50)"  # more rows than the tight workgroup's 10


@dataclass
class Doors:
    app: App
    http: TestClient
    pg_port: int
    tokens: dict[str, str]
    aws_url: str
    aws_keys: dict[str, tuple[str, str]]

    def athena(self, name: str, sql: str) -> dict[str, Any]:
        """``sql`` run through Athena's API as ``name``, to its end: its QueryExecution."""
        import boto3

        key, secret = self.aws_keys[name]
        client = boto3.session.Session().client(
            "athena", endpoint_url=self.aws_url, region_name="eu-west-1", aws_access_key_id=key,
            aws_secret_access_key=secret,
        )  # fmt: skip
        started = client.start_query_execution(QueryString=sql)["QueryExecutionId"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            execution: dict[str, Any] = client.get_query_execution(QueryExecutionId=started)["QueryExecution"]
            if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
                return execution
            time.sleep(0.05)
        raise AssertionError(f"{sql} did not finish")

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def pg(self, name: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.pg_port, user=name, password=self.tokens[name], dbname="lake",
            sslmode="disable", connect_timeout=10, autocommit=True,
        )  # fmt: skip

    def metric(self, name: str) -> int:
        found = re.search(rf"^{re.escape(name)} (\d+)$", self.http.get("/metrics").text, re.MULTILINE)
        return int(found.group(1)) if found else 0

    def recorded(self, sql: str) -> list[QueryRecord]:
        return [q for q in History(self.app.catalog).of(home_admin(), limit=1000) if q.sql == sql]


@pytest.fixture
def doors(app: App) -> Iterator[Doors]:
    """One gateway behind both the HTTP API and the PostgreSQL wire, as ``lakegate up`` runs."""
    deliver(app, "landing/shop/orders/a.csv", b"id,amount\n1,2.5\n2,3\n")
    Workgroups(app.catalog).put("tight", timeout_seconds=30.0, max_rows=10)
    people = Principals(app.catalog)
    tokens = {}
    for name, role, group in (("root", "admin", None), ("tim", "analyst", "tight")):
        people.add(name, role=role, workgroup=group)
        tokens[name], _ = people.create_token(name)
    Grants(app.catalog).grant(principal="tim", database="shop", by="test")
    gateway = Gateway(app.catalog, QueryEngine(app.catalog, app.store, app.settings.query))
    pipeline = Pipeline(app.catalog, app.store)
    served = make_app(app.catalog, app.store, lambda: pipeline, gateway, results=app.home.root / "results")
    pg = PgServer(gateway)
    pg.start()
    aws = BackgroundServer(make_aws_app(app, gateway, served.state.jobs), "127.0.0.1", 0, "aws")
    aws.start()
    made = {name: aws_keys(app).create(name) for name in tokens}
    keys = {name: (info.id, secret) for name, (secret, info) in made.items()}
    try:
        yield Doors(
            app, TestClient(served), pg.bound_port(), tokens, f"http://127.0.0.1:{aws.bound_port()}", keys
        )
    finally:
        aws.stop()
        pg.stop()
        if served.state.jobs is not None:
            served.state.jobs.shutdown()
        gateway.close()


def background(doors: Doors, name: str, sql: str) -> dict[str, object]:
    submitted = doors.http.post("/v1/queries", json={"sql": sql, "wait": 20}, headers=doors.headers(name))
    assert submitted.status_code == 202
    state: dict[str, object] = submitted.json()
    deadline = time.monotonic() + 30
    while state["state"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.05)
        state = doors.http.get(f"/v1/queries/{state['id']}", headers=doors.headers(name)).json()
    return state


def test_every_http_and_pgwire_query_is_counted_and_recorded_with_its_front_end(doors: Doors) -> None:
    doors_ = ("sync", "job", "file", "pg", "athena")
    sql = {door: f"SELECT id, '{door}' AS door FROM shop.orders" for door in doors_}
    assert (
        doors.http.post("/v1/query", json={"sql": sql["sync"]}, headers=doors.headers("root")).status_code
        == 200
    )
    assert background(doors, "root", sql["job"])["state"] == "SUCCEEDED"
    download = doors.http.post(
        "/v1/query/download", json={"sql": sql["file"], "format": "csv"}, headers=doors.headers("root")
    )
    assert download.status_code == 200 and download.text.count("\n") == 3
    with doors.pg("root") as conn:
        assert len(conn.execute(sql["pg"]).fetchall()) == 2
    assert doors.athena("root", sql["athena"])["Status"]["State"] == "SUCCEEDED"
    for door, via in (
        ("sync", "http"),
        ("job", "http"),
        ("file", "http"),
        ("pg", "pgwire"),
        ("athena", "athena"),
    ):
        [record] = doors.recorded(sql[door])
        assert (record.via, record.state, record.rows, record.principal) == (via, "SUCCEEDED", 2, "root")
        assert record.tables == ["shop.orders"]
    # background queries are counted too (they once were not), and the wire's on the same meter
    assert doors.metric('lakegate_queries_total{state="SUCCEEDED"}') == 5
    assert doors.metric('lakegate_queries_by_front_end_total{via="http"}') == 3
    assert doors.metric('lakegate_queries_by_front_end_total{via="pgwire"}') == 1
    assert doors.metric('lakegate_queries_by_front_end_total{via="athena"}') == 1
    assert doors.metric("lakegate_query_duration_seconds_count") == 5
    assert doors.metric("lakegate_queries_running") == 0


def test_a_workgroups_limits_hold_at_every_door(doors: Doors) -> None:
    """tim's workgroup returns at most 10 rows, whichever way tim asks."""
    sync = doors.http.post("/v1/query", json={"sql": TOO_MANY}, headers=doors.headers("tim"))
    assert sync.status_code == 400 and sync.json()["error"]["code"] == "query.rows"
    job = background(doors, "tim", TOO_MANY + " -- job")
    assert job["state"] == "FAILED" and job["error_code"] == "query.rows"
    with contextlib.suppress(RuntimeError):  # the 11th row cuts the transfer (the test client raises)
        doors.http.post("/v1/query/download", json={"sql": TOO_MANY + " -- file", "format": "csv"},
                        headers=doors.headers("tim"))  # fmt: skip
    with doors.pg("tim") as conn, pytest.raises(psycopg.Error, match="rows"):
        conn.execute(TOO_MANY + " -- pg").fetchall()
    athena = doors.athena("tim", TOO_MANY + " -- athena")
    assert athena["Status"]["AthenaError"]["ErrorMessage"].startswith("query.rows")
    with (
        lakegate.connect(doors.app.home.root, principal="tim") as con,
        pytest.raises(lakegate.QueryError) as err,
    ):
        con.execute(TOO_MANY + " -- python")
    assert err.value.code == "query.rows"
    for suffix, via in (("", "http"), (" -- job", "http"), (" -- file", "http"), (" -- pg", "pgwire"),
                        (" -- athena", "athena"), (" -- python", "python")):  # fmt: skip
        [record] = doors.recorded(TOO_MANY + suffix)
        assert (record.via, record.state, record.error_code, record.workgroup) == (
            via,
            "FAILED",
            "query.rows",
            "tight",
        )
    # within its limits, tim reads what it was granted, at every door
    with lakegate.connect(doors.app.home.root, principal="tim") as con:
        assert con.execute("SELECT count(*) FROM shop.orders").fetchall() == [(2,)]


def lakegate_sql(app: App, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lakegate", "sql", "--home", str(app.home.root), "--format", "csv", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_lakegate_sql_is_recorded_and_held_to_the_principals_workgroup(doors: Doors) -> None:
    done = lakegate_sql(doors.app, "SELECT count(*) AS n FROM shop.orders")
    assert done.returncode == 0 and done.stdout.splitlines() == ["n", "2"], done.stderr
    [record] = doors.recorded("SELECT count(*) AS n FROM shop.orders")
    assert (record.principal, record.via, record.state, record.rows) == (
        HOME_ADMIN_NAME,
        "cli",
        "SUCCEEDED",
        1,
    )
    refused = lakegate_sql(doors.app, "--as", "tim", TOO_MANY)
    assert refused.returncode != 0 and "query.rows" in refused.stderr
    [record] = doors.recorded(TOO_MANY)
    assert (record.principal, record.via, record.error_code) == ("tim", "cli", "query.rows")
    # the history command shows both, the home admin's too
    shown = subprocess.run([sys.executable, "-m", "lakegate", "history", "--home", str(doors.app.home.root)],
                           capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
    assert "(home admin)" in shown and "tim" in shown


def test_the_python_connection_records_its_queries_as_the_home_admin(app: App) -> None:
    deliver(app, "landing/shop/orders/a.csv", b"id\n1\n")
    with lakegate.connect(app.home.root) as con:
        assert con.execute("SELECT count(*) FROM shop.orders").fetchall() == [(1,)]
    [record] = [
        q for q in History(app.catalog).of(home_admin()) if q.sql == "SELECT count(*) FROM shop.orders"
    ]
    assert (record.principal, record.via, record.state) == (HOME_ADMIN_NAME, "python", "SUCCEEDED")
