"""SHOW and DESCRIBE answer from what the caller may read, in DuckDB's and Athena's spelling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import GuardError
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import AccessFor, Grants
from lakegate.query.show import rewrite
from tests.ingest.test_pipeline import deliver


@pytest.fixture
def engine(app: App) -> Iterator[tuple[QueryEngine, AccessFor | None]]:
    deliver(app, "landing/acme/orders/dt=1/a.csv", b"id,region,email\n1,EU,a@x\n")
    deliver(app, "landing/acme/Items/a.csv", b"sku\nA\n")
    deliver(app, "landing/globex/orders/a.csv", b"id\n7\n")
    ann = Principals(app.catalog).add("ann")
    Grants(app.catalog).grant(principal="ann", database="acme", table="orders", columns=["email"],
                              exclude=True, by="root")  # fmt: skip
    running = QueryEngine(app.catalog, app.store, app.settings.query)
    yield running, Grants(app.catalog).access_for(ann)
    running.close()


def rows(engine: tuple[QueryEngine, AccessFor | None], sql: str, *, admin: bool = False) -> list[tuple]:
    running, access = engine
    table = running.execute(
        sql, access=None if admin else access, dialect="athena" if "`" in sql else "duckdb"
    ).table
    return [tuple(r.values()) for r in table.to_pylist()]


def test_show_lists_only_what_the_caller_may_read(engine: tuple[QueryEngine, AccessFor | None]) -> None:
    assert rows(engine, "SHOW TABLES") == [("acme", "orders")]
    assert rows(engine, "show tables in acme;") == [("acme", "orders")]
    assert rows(engine, "SHOW TABLES FROM globex") == []
    assert rows(engine, "SHOW DATABASES") == [("acme",)] == rows(engine, "SHOW SCHEMAS")
    assert rows(engine, "SHOW TABLES", admin=True) == [
        ("acme", "items"),
        ("acme", "orders"),
        ("globex", "orders"),
    ]


def test_describe_shows_the_visible_columns(engine: tuple[QueryEngine, AccessFor | None]) -> None:
    expected = [("id", "BIGINT", "YES"), ("region", "VARCHAR", "YES"), ("dt", "VARCHAR", "YES")]
    for sql in ("DESCRIBE acme.orders", "DESC TABLE acme.orders", 'describe "acme"."orders"',
                "SHOW COLUMNS IN acme.orders", "DESCRIBE `acme`.`orders`"):  # fmt: skip
        assert rows(engine, sql) == expected, sql
    assert ("email", "VARCHAR", "YES") in rows(engine, "DESCRIBE acme.orders", admin=True)
    for hidden in ("DESCRIBE globex.orders", "DESCRIBE acme.items", "DESCRIBE acme.nope"):
        with pytest.raises(GuardError) as refused:
            rows(engine, hidden)
        assert refused.value.code == "guard.table_unknown"
        assert refused.value.message == f"unknown table '{hidden.split()[-1]}'"


@pytest.mark.parametrize(
    "sql",
    ["SHOW ALL TABLES", "SHOW TABLES; DROP TABLE x", "DESCRIBE SELECT 1", "SHOW tables LIKE 'x'",
     "SHOW TABLES FROM a.b", "DESCRIBE orders"],
)  # fmt: skip
def test_anything_else_is_left_to_the_guard(sql: str) -> None:
    assert rewrite(sql) is None
