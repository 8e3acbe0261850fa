"""With the statement guard switched off, the engine sandbox alone keeps queries read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.errors import LakegateError
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.sandbox import landlock_abi

pytestmark = pytest.mark.skipif(landlock_abi() == 0, reason="the kernel has no Landlock")


@pytest.fixture
def unguarded(app: App) -> Iterator[QueryEngine]:
    for key, data in [
        ("landing/sales/orders/a.csv", b"id,amount\n1,10\n2,20\n"),
        ("landing/hr/salaries/s.csv", b"name,salary\nann,100\n"),
        ("landing/bad.csv", b"secret\n42\n"),  # goes to quarantine
    ]:
        app.store.write(key, data)
        Pipeline(app.catalog, app.store).process(key)
    engine = QueryEngine(app.catalog, app.store, app.settings.query, guard_enabled=False)
    yield engine
    engine.close()


def refused(engine: QueryEngine, sql: str) -> str:
    with pytest.raises(LakegateError) as err:
        engine.execute(sql)
    return err.value.message


def test_its_own_tables_still_work(unguarded: QueryEngine) -> None:
    assert unguarded.execute("SELECT sum(amount) FROM sales.orders").table.to_pylist() == [
        {"sum(amount)": 30}
    ]


def test_cannot_read_outside_its_tables(unguarded: QueryEngine, app: App) -> None:
    lake = app.home.lake
    salaries = lake / "hr/salaries/s.csv"
    quarantined = next(app.home.quarantine.rglob("bad.csv"))
    implicit_temp = Path.cwd() / ".tmp" / "x.txt"  # DuckDB allows <cwd>/.tmp unless told otherwise
    implicit_temp.parent.mkdir()
    implicit_temp.write_text("secret")
    for path in [
        "/etc/passwd",
        str(salaries),
        str(quarantined),
        str(app.home.catalog_file),
        str(implicit_temp),
    ]:
        message = refused(unguarded, f"SELECT * FROM sales.orders, read_text('{path}')")
        assert "disabled" in message or "Permission" in message


def test_cannot_write_anywhere(unguarded: QueryEngine, app: App, tmp_path: Path) -> None:
    own_file = app.home.lake / "sales/orders/a.csv"
    before = own_file.read_bytes()
    for sql in [
        f"COPY (SELECT 1 AS id) TO '{own_file}' (FORMAT csv, USE_TMP_FILE false)",
        f"COPY (SELECT * FROM sales.orders) TO '{own_file}' (FORMAT csv)",
        f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
        f"ATTACH '{tmp_path / 'new.db'}' AS x",
        f"EXPORT DATABASE '{tmp_path / 'export'}'",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "INSTALL httpfs",
    ]:
        refused(unguarded, sql)
    assert own_file.read_bytes() == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "new.db").exists()
    assert unguarded.execute("SELECT count(*) AS n FROM sales.orders").table.to_pylist() == [{"n": 2}]


def test_query_threads_cannot_write_even_with_an_unrestricted_engine(tmp_path: Path) -> None:
    """The kernel layer on its own: DuckDB with no sandbox at all, on a query thread."""
    import duckdb

    from lakegate.query.sandbox import ReadOnlyExecutor

    victim = tmp_path / "victim.csv"
    victim.write_text("a\n1\n")
    executor = ReadOnlyExecutor(workers=1)

    def attempt() -> str:
        conn = duckdb.connect()
        for sql in [
            f"COPY (SELECT 42 AS a) TO '{victim}' (FORMAT csv)",
            f"COPY (SELECT 1) TO '{tmp_path / 'new.csv'}'",
        ]:
            try:
                conn.execute(sql)
                return "wrote " + sql
            except duckdb.Error:
                pass
        try:
            (tmp_path / "plain.txt").write_text("x")
            return "wrote with Python"
        except PermissionError:
            pass
        return "refused: " + str(conn.execute(f"SELECT count(*) FROM read_csv('{victim}')").fetchall())

    try:
        assert executor.run(attempt) == "refused: [(1,)]"
    finally:
        executor.shutdown()
    assert victim.read_text() == "a\n1\n"
    (tmp_path / "main-thread.txt").write_text("the rest of the process is unaffected")
