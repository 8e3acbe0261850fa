"""lakegate.connect(): DB-API 2.0 with Arrow and pandas results."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import lakegate
from lakegate.app import App
from lakegate.ingest.pipeline import Pipeline


@pytest.fixture
def con(app: App) -> lakegate.Connection:
    for key, data in [
        (
            "landing/shop/orders/dt=2026-01-01/a.csv",
            b"id,amount,at\n1,10.5,2026-01-01 10:00:00\n2,,2026-01-01 11:00:00\n",
        ),
        ("landing/shop/orders/dt=2026-01-02/b.csv", b"id,amount,at\n3,7,2026-01-02 09:30:00\n"),
    ]:
        app.store.write(key, data)
        Pipeline(app.catalog, app.store).process(key)
    return lakegate.connect(app.home.root)


def test_module_globals() -> None:
    from lakegate.query import dbapi

    assert (dbapi.apilevel, dbapi.paramstyle) == ("2.0", "qmark")


def test_cursor_protocol(con: lakegate.Connection) -> None:
    cur = con.cursor()
    assert cur.description is None
    cur.execute("SELECT id, amount, dt FROM shop.orders WHERE id >= ? ORDER BY id", [2])
    assert [d[0] for d in cur.description or []] == ["id", "amount", "dt"]
    assert cur.rowcount == 2
    assert cur.fetchone() == (2, None, "2026-01-01")
    assert cur.fetchmany(5) == [(3, 7.0, "2026-01-02")]
    assert cur.fetchone() is None and cur.fetchall() == []


def test_arrow_and_pandas(con: lakegate.Connection) -> None:
    table = con.execute('SELECT id, "at" FROM shop.orders ORDER BY id').fetch_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == 3
    assert pa.types.is_timestamp(table.schema.field("at").type)
    frame = con.execute("SELECT dt, sum(amount) AS total FROM shop.orders GROUP BY dt ORDER BY dt").fetch_df()
    assert frame["total"].tolist() == [10.5, 7.0]


def test_the_engine_reuses_instances_until_files_change(con: lakegate.Connection, app: App) -> None:
    assert con.execute("SELECT count(*) FROM shop.orders").fetchall() == [(3,)]
    app.store.write("landing/shop/orders/dt=2026-01-03/c.csv", b"id,amount,at\n4,1,2026-01-03 00:00:00\n")
    Pipeline(app.catalog, app.store).process("landing/shop/orders/dt=2026-01-03/c.csv")
    assert con.execute("SELECT count(*) FROM shop.orders").fetchall() == [(4,)]  # new file seen at once


def test_errors_are_lakegate_errors(con: lakegate.Connection) -> None:
    with pytest.raises(lakegate.GuardError):
        con.execute("DELETE FROM shop.orders")
    with pytest.raises(lakegate.QueryError) as err:
        con.execute("SELECT CAST('x' AS INTEGER) FROM shop.orders")
    assert err.value.code == "query.failed"


def test_timeout_interrupts_a_runaway_query(app: App, con: lakegate.Connection) -> None:
    con.app.settings.query.timeout_seconds = 0.5
    with pytest.raises(lakegate.QueryError) as err:
        con.execute("SELECT count(*) FROM range(100000000000) a")
    assert err.value.code == "query.timeout"


def test_row_cap(con: lakegate.Connection) -> None:
    con.app.settings.query.max_rows = 10
    with pytest.raises(lakegate.QueryError) as err:
        con.execute("SELECT * FROM range(100000)")
    assert err.value.code == "query.rows"


def test_public_api_is_pinned() -> None:
    assert sorted(lakegate.__all__) == sorted(
        ["CatalogError", "ConfigError", "Connection", "Cursor", "GuardError", "LakegateError", "QueryError",
         "Rejection", "StorageError", "__version__", "connect"]
    )  # fmt: skip


def test_connect_on_a_missing_home_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(lakegate.ConfigError):
        lakegate.connect(tmp_path / "nothing")


def test_a_connection_in_athenas_dialect(con: lakegate.Connection) -> None:
    athena = lakegate.connect(con.app.home.root, dialect="athena")
    try:
        rows = athena.execute(
            "SELECT id / 2 AS half, format_datetime(at, 'dd.MM.yyyy') AS day FROM shop.orders ORDER BY id"
        ).fetchall()
        assert rows == [(0, "01.01.2026"), (1, "01.01.2026"), (1, "02.01.2026")]  # 3 / 2 is 1 in Athena
    finally:
        athena.close()
        con.close()
