"""psycopg 3 against lakegate: authentication, queries with parameters in text and binary, errors
with their SQLSTATE, session statements, grants applied as over HTTP."""

from __future__ import annotations

import datetime as dt
import decimal

import psycopg
import pytest

from tests.pgwire.conftest import Lake


def test_a_token_is_the_password_and_grants_apply(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann")) as conn:
        assert conn.execute("SELECT * FROM acme.orders ORDER BY id").fetchall() == [
            (1, "EU", 2.5, dt.date(2026, 1, 1)),
            (3, "EU", None, dt.date(2026, 1, 3)),
        ]
        assert conn.info.parameter_status("server_version") == "16.0"
        assert conn.info.parameter_status("integer_datetimes") == "on"
    with psycopg.connect(lake.dsn("gus")) as conn:
        assert conn.execute("SELECT note FROM globex.orders").fetchall() == [("GLOBEX-ROW",)]
    with psycopg.connect(lake.dsn("root")) as conn:
        assert conn.execute("SELECT count(*) FROM acme.orders").fetchone() == (3,)


@pytest.mark.parametrize("who", ["ann", "nobody"])
def test_a_wrong_token_or_user_is_refused_alike(lake: Lake, who: str) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(lake.dsn(who, token=lake.tokens["gus"]))  # gus's token is not ann's
    assert f'password authentication failed for user "{who}"' in str(refused.value)


def test_providers_cannot_query(lake: Lake) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(lake.dsn("up"))
    assert "providers upload files" in str(refused.value)


@pytest.mark.parametrize("binary", [False, True])
def test_parameters_and_results_in_both_formats(lake: Lake, binary: bool) -> None:
    with psycopg.connect(lake.dsn("root")) as conn:
        cur = conn.cursor(binary=binary)
        rows = cur.execute(
            "SELECT id, region, amount, day FROM acme.orders"
            " WHERE id >= %s AND region = %s AND day < %s ORDER BY id",
            [1, "EU", dt.date(2026, 1, 3)],
        ).fetchall()
        assert rows == [(1, "EU", 2.5, dt.date(2026, 1, 1))]
        value = cur.execute(
            "SELECT %s::DECIMAL(10,3) AS d, %s AS t, %s AS b", [decimal.Decimal("-1.250"), "x'y", True]
        )
        assert value.fetchone() == (decimal.Decimal("-1.250"), "x'y", True)


def test_errors_carry_their_sqlstate_and_the_session_goes_on(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        cases = {
            "SELECT * FROM globex.orders": "42P01",
            "SELECT email FROM acme.orders": "42703",
            "SELEC 1": "42601",
            "DROP TABLE acme.orders": "25006",
            "COPY acme.orders TO '/tmp/x.csv'": "25006",
            "SELECT * FROM read_csv('/etc/passwd')": "42501",
            "SELECT 1/0::INT": None,
        }
        for sql, state in cases.items():
            if state is None:
                continue
            with pytest.raises(psycopg.Error) as failed:
                conn.execute(sql)
            assert failed.value.sqlstate == state, (sql, failed.value)
        assert conn.execute("SELECT 42").fetchone() == (42,)


def test_transactions_and_session_settings_are_answered_by_the_front_end(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann")) as conn:  # not autocommit: psycopg sends BEGIN
        conn.execute("SET application_name = 'notebook'")
        conn.execute("SET extra_float_digits = 3")
        assert conn.execute("SHOW application_name").fetchone() == ("notebook",)
        assert conn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SET enable_external_access = true")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.commit()


def test_several_statements_in_one_simple_query_each_answered(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 1 AS a; SELECT 'x;y' AS b; SET application_name = 'z'")
        assert cur.fetchall() == [(1,)]
        assert cur.nextset() and cur.fetchall() == [("x;y",)]


def test_the_dialect_is_chosen_at_connection(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann", options="'-c lakegate.dialect=athena'"), autocommit=True) as conn:
        assert conn.execute("SELECT 7 / 2").fetchone() == (3,)  # Athena: integer division
        conn.execute("SET lakegate.dialect = duckdb")
        assert conn.execute("SELECT 7 / 2").fetchone() == (3.5,)


def test_the_history_records_pgwire_queries(lake: Lake) -> None:
    from lakegate.auth.principals import Principals
    from lakegate.query.history import History

    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        conn.execute("SELECT id FROM acme.orders").fetchall()
    ann = Principals(lake.app.catalog).require("ann")
    [record] = History(lake.app.catalog).of(ann)
    assert (record.via, record.state, record.rows, record.tables) == (
        "pgwire",
        "SUCCEEDED",
        2,
        ["acme.orders"],
    )


@pytest.mark.parametrize("binary", [False, True])
def test_server_side_cursors_stream_a_large_result_in_pieces(lake: Lake, binary: bool) -> None:
    """psycopg's named cursors (and SQLAlchemy's stream_results) DECLARE a cursor and FETCH."""
    with psycopg.connect(lake.dsn("root")) as conn:
        with conn.cursor(name="big", binary=binary) as cur:
            cur.itersize = 5000
            cur.execute("SELECT range AS n FROM range(120000)")
            total = sum(row[0] for row in cur)
        assert total == sum(range(120000))
        with conn.cursor(name="filtered") as cur:
            cur.execute("SELECT id FROM acme.orders WHERE id > %s ORDER BY id", [1])
            assert cur.fetchmany(1) == [(2,)] and cur.fetchall() == [(3,)]
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction):
            conn.execute("DECLARE c CURSOR FOR SELECT 1")
        conn.execute("DECLARE c CURSOR WITH HOLD FOR SELECT id FROM acme.orders ORDER BY id")
        assert conn.execute("FETCH 1 FROM c").fetchall() == [(1,)]
        conn.execute("MOVE 5 IN c")
        assert conn.execute("FETCH ALL FROM c").fetchall() == []
        conn.execute("CLOSE c")
        with pytest.raises(psycopg.errors.InvalidCursorName):
            conn.execute("FETCH 1 FROM c")


def test_catalog_queries_cannot_reach_files_or_run_sql_from_strings(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        for sql in ("SELECT * FROM pg_catalog.pg_class, read_csv('/etc/passwd')",
                    "SELECT * FROM pg_catalog.pg_class, query('SELECT 1')",
                    "SELECT * FROM pg_catalog.pg_class, duckdb_settings()"):  # fmt: skip
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(sql)
            assert refused.value.sqlstate == "42P01", (sql, refused.value)
        assert conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_class c, generate_series(1, 2) s"
        ).fetchone() == (2,)


def test_the_catalog_a_session_sees_follows_changes(lake: Lake) -> None:
    """Descriptions set, and tables landed, while a session is open show in its next catalog query."""
    from tests.ingest.test_pipeline import deliver

    comment = "SELECT obj_description(c.oid) FROM pg_catalog.pg_class c WHERE c.relname = 'orders'"
    tables = "SELECT relname FROM pg_catalog.pg_class ORDER BY 1"
    with psycopg.connect(lake.dsn("root"), autocommit=True) as conn:
        assert set(conn.execute(comment).fetchall()) == {(None,)}
        lake.app.catalog.describe_table("acme", "orders", "orders of the shop", by="root")
        assert ("orders of the shop",) in conn.execute(comment).fetchall()
        deliver(lake.app, "landing/acme/returns/a.csv", b"id\n1\n")
        assert ("returns",) in conn.execute(tables).fetchall()


def test_session_functions_clients_call_on_connect(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        assert conn.execute("SELECT current_user, session_user, current_schema()").fetchone() == (
            "ann", "ann", "public",
        )  # fmt: skip
        assert conn.execute("SELECT current_database()").fetchone() == ("lakegate",)
        assert conn.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL 16.0")  # type: ignore[index]


def test_a_session_may_ask_for_earlier_results(lake: Lake) -> None:
    from lakegate.auth.principals import Principals
    from lakegate.query.history import History

    sql = "SELECT sum(id) FROM acme.orders"
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        assert conn.execute("SHOW lakegate.reuse_max_age_minutes").fetchone() == ("0",)
        conn.execute("SET lakegate.reuse_max_age_minutes = 60")
        first, again = conn.execute(sql).fetchall(), conn.execute(sql).fetchall()
        conn.execute("RESET lakegate.reuse_max_age_minutes")
        ran = conn.execute(sql).fetchall()
        with pytest.raises(psycopg.errors.Error, match="not a number of minutes"):
            conn.execute("SET lakegate.reuse_max_age_minutes = 'soon'")
    assert first == again == ran
    ann = Principals(lake.app.catalog).require("ann")
    reused = [r.reused for r in History(lake.app.catalog).of(ann) if r.sql == sql]
    assert reused == [False, True, False]  # newest first
