"""Access is checked for every session, not only at login (SECURITY.md, "Sessions"): an open
PostgreSQL connection ends within a second of its token's revocation or its user's disabling,
takes a role change into its next statement, and the privilege functions tell the truth."""

from __future__ import annotations

import time

import psycopg
import pytest

from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principals
from tests.pgwire.conftest import Lake, lake

__all__ = ["lake"]  # the fixture, shared


def _ended(conn: psycopg.Connection, within: float = 3.0) -> psycopg.Error:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            conn.execute("SELECT 1").fetchall()
        except psycopg.Error as exc:
            return exc
        time.sleep(0.1)
    raise AssertionError("the session went on")


def test_a_revoked_token_ends_its_open_session(lake: Lake) -> None:
    conn = psycopg.connect(lake.dsn("ann"), autocommit=True)
    try:
        assert conn.execute("SELECT count(*) FROM acme.orders").fetchone() == (2,)
        token_id = token_format.token_id(lake.tokens["ann"])
        assert token_id is not None
        Principals(lake.app.catalog).revoke(token_id)
        started = time.monotonic()
        error = _ended(conn)
        assert time.monotonic() - started < 2.5
        assert "access ended" in str(error) or conn.closed
    finally:
        conn.close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(lake.dsn("ann")).close()


def test_a_disabled_user_loses_its_open_sessions(lake: Lake) -> None:
    conn = psycopg.connect(lake.dsn("gus"), autocommit=True)
    try:
        assert conn.execute("SELECT note FROM globex.orders").fetchone() == ("GLOBEX-ROW",)
        Principals(lake.app.catalog).disable("gus")
        _ended(conn)
    finally:
        conn.close()


def test_other_sessions_go_on(lake: Lake) -> None:
    ann = psycopg.connect(lake.dsn("ann"), autocommit=True)
    gus = psycopg.connect(lake.dsn("gus"), autocommit=True)
    try:
        Principals(lake.app.catalog).disable("gus")
        _ended(gus)
        assert ann.execute("SELECT count(*) FROM acme.orders").fetchone() == (2,)
    finally:
        ann.close()
        gus.close()


def test_the_privilege_functions_answer_from_the_grants(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann")) as conn:

        def ask(sql: str) -> object:
            row = conn.execute(sql).fetchone()
            assert row is not None
            return row[0]

        assert ask("SELECT has_table_privilege('acme.orders', 'SELECT')") is True
        assert ask("SELECT has_table_privilege('ann', 'acme.orders', 'select')") is True
        assert ask("SELECT has_table_privilege('globex.orders', 'SELECT')") is False
        assert ask("SELECT has_table_privilege('acme.orders', 'INSERT')") is False
        assert ask("SELECT has_table_privilege('acme.nothing_here', 'SELECT')") is False
        assert ask("SELECT has_table_privilege('gus', 'acme.orders', 'SELECT')") is False
        assert ask("SELECT has_schema_privilege('acme', 'USAGE')") is True
        assert ask("SELECT has_schema_privilege('globex', 'USAGE')") is False
        assert ask("SELECT has_schema_privilege('acme', 'CREATE')") is False
        assert ask("SELECT has_database_privilege('lakegate', 'CONNECT')") is True
        assert ask("SELECT has_database_privilege('lakegate', 'CREATE')") is False


def test_counts_of_a_row_filtered_table_are_not_told(lake: Lake) -> None:
    sql = (
        "SELECT c.reltuples, c.relpages FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'acme' AND c.relname = 'orders'"
    )
    with psycopg.connect(lake.dsn("ann")) as conn:
        assert conn.execute(sql).fetchone() == (-1.0, 0)  # PostgreSQL's "not known"
    with psycopg.connect(lake.dsn("root")) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None and row[0] == 3.0


def test_grant_and_role_changes_apply_to_an_open_session(lake: Lake) -> None:
    from lakegate.query.permissions import Grants

    grants = Grants(lake.app.catalog)
    conn = psycopg.connect(lake.dsn("ann"), autocommit=True)
    try:
        assert conn.execute("SELECT count(*) FROM acme.orders").fetchone() == (2,)
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM globex.orders")
        added = grants.grant(principal="ann", database="globex", by="root")
        assert conn.execute("SELECT note FROM globex.orders").fetchone() == ("GLOBEX-ROW",)  # next statement
        grants.revoke(added.id)
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM globex.orders")
        Principals(lake.app.catalog).update("ann", role="admin")
        deadline = time.monotonic() + 3
        while True:
            try:
                if conn.execute("SELECT count(*) FROM acme.orders").fetchone() == (3,):  # every row now
                    break
            except psycopg.errors.QueryCanceled:
                pass  # it ran while the role changed: stopped, to be run again
            assert time.monotonic() < deadline, "the role change never applied"
            time.sleep(0.1)
    finally:
        conn.close()


def test_a_statement_running_when_the_grants_change_is_stopped(lake: Lake) -> None:
    from lakegate.query.permissions import Grants

    deliver_many = b"id\n" + b"".join(b"%d\n" % i for i in range(400))
    from tests.ingest.test_pipeline import deliver

    deliver(lake.app, "landing/acme/big/a.csv", deliver_many)
    grants = Grants(lake.app.catalog)
    conn = psycopg.connect(lake.dsn("gus"), autocommit=True)
    extra = grants.grant(principal="gus", database="acme", table="big", by="root")
    try:
        import threading

        failure: list[BaseException] = []

        def long_statement() -> None:
            try:
                conn.execute(
                    "SELECT count(*) FROM acme.big a, acme.big b, acme.big c, acme.big d "
                    "WHERE a.id + b.id + c.id + d.id > 0"
                ).fetchall()
            except psycopg.Error as exc:
                failure.append(exc)

        runner = threading.Thread(target=long_statement)
        runner.start()
        time.sleep(0.5)
        grants.revoke(extra.id)
        runner.join(timeout=10)
        assert not runner.is_alive() and failure, "the statement went on"
        assert isinstance(failure[0], psycopg.errors.QueryCanceled)
        assert conn.execute("SELECT note FROM globex.orders").fetchone() == ("GLOBEX-ROW",)  # session goes on
    finally:
        conn.close()
