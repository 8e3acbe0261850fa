"""Grants: two tenants with overlapping table names see only their own tables, columns and rows."""

from __future__ import annotations

from typing import Any

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import ConfigError, GuardError, QueryError
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver

ORDERS = b"id,region,amount,email\n1,EU,10,a@x.eu\n2,US,20,b@x.us\n3,EU,30,c@x.eu\n"


@pytest.fixture
def lake(app: App) -> App:
    deliver(app, "landing/acme/orders/a.csv", ORDERS)
    deliver(app, "landing/globex/orders/a.csv", b"id,amount\n7,70\n")
    people = Principals(app.catalog)
    people.add("ann", workgroup="acme-analysts")
    people.add("gus")
    people.add("root", role="admin")
    people.add("up", role="provider", landing_prefix="acme/")
    return app


def run(app: App, who: str, sql: str) -> list[tuple[Any, ...]]:
    principal = Principals(app.catalog).require(who)
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        table = engine.execute(sql, access=Grants(app.catalog).access_for(principal)).table
        return [tuple(r.values()) for r in table.to_pylist()]
    finally:
        engine.close()


def refused(app: App, who: str, sql: str) -> str:
    with pytest.raises(GuardError) as err:
        run(app, who, sql)
    return err.value.code


def test_a_tenant_reads_only_its_grants_and_unknown_looks_the_same(lake: App) -> None:
    grants = Grants(lake.catalog)
    grants.grant(workgroup="acme-analysts", database="acme", by="root")
    grants.grant(principal="gus", database="globex", table="orders", by="root")
    assert run(lake, "ann", "SELECT count(*) FROM acme.orders") == [(3,)]
    assert run(lake, "gus", "SELECT id FROM globex.orders") == [(7,)]
    # another tenant's table and a table that does not exist: the same answer
    assert refused(lake, "ann", "SELECT * FROM globex.orders") == "guard.table_unknown"
    assert refused(lake, "ann", "SELECT * FROM globex.nothing") == "guard.table_unknown"
    with pytest.raises(GuardError) as foreign:
        run(lake, "gus", "SELECT * FROM acme.orders")
    with pytest.raises(GuardError) as missing:
        run(lake, "gus", "SELECT * FROM acme.nothing")
    assert str(foreign.value).replace("orders", "X") == str(missing.value).replace("nothing", "X")
    assert run(lake, "root", "SELECT count(*) FROM globex.orders") == [(1,)]  # admins read all
    assert (
        refused(lake, "up", "SELECT * FROM acme.orders") == "guard.table_unknown"
    )  # providers query nothing


def test_column_lists_and_row_filters_shape_what_is_read(lake: App) -> None:
    grants = Grants(lake.catalog)
    grants.grant(principal="ann", database="acme", table="orders", columns=["email"], exclude=True,
                 row_filter="region = 'EU'", by="root")  # fmt: skip
    assert run(lake, "ann", "SELECT * FROM acme.orders ORDER BY id") == [(1, "EU", 10), (3, "EU", 30)]
    with pytest.raises(QueryError) as err:  # the column is not there for ann
        run(lake, "ann", "SELECT email FROM acme.orders")
    assert "email" in str(err.value)


def test_grants_add_up_cell_by_cell(lake: App) -> None:
    grants = Grants(lake.catalog)
    grants.grant(principal="ann", database="acme", table="orders", row_filter="region = 'EU'", by="root")
    grants.grant(principal="ann", database="acme", table="orders", columns=["id"], by="root")
    rows = run(lake, "ann", "SELECT id, region, amount FROM acme.orders ORDER BY id")
    # id for every row; the rest only where the EU grant allows it
    assert rows == [(1, "EU", 10), (2, None, None), (3, "EU", 30)]


def test_catalog_probes_list_only_what_the_caller_may_read(lake: App) -> None:
    grants = Grants(lake.catalog)
    grants.grant(principal="gus", database="globex", by="root")
    grants.grant(principal="ann", database="acme", table="orders", columns=["email"], exclude=True, by="root")
    tables = "SELECT table_schema || '.' || table_name FROM information_schema.tables"
    assert run(lake, "gus", tables) == [("globex.orders",)]
    assert run(lake, "ann", tables) == [("acme.orders",)]
    columns = "SELECT column_name FROM information_schema.columns ORDER BY ordinal_position"
    assert run(lake, "ann", columns) == [("id",), ("region",), ("amount",)]  # no email
    for probe in ("SELECT * FROM duckdb_tables()", "SELECT * FROM information_schema.views"):
        with pytest.raises(GuardError) as err:
            run(lake, "gus", probe)
        assert "acme" not in err.value.message


@pytest.mark.parametrize(
    "bad",
    [
        "region = (SELECT max(region) FROM acme.orders)",
        "read_csv('/etc/passwd') IS NOT NULL",
        "getenv('HOME') = 'x'",
        "1 = 1; DROP TABLE x",
        "region =",
    ],
)
def test_row_filters_are_predicates_over_the_row_only(lake: App, bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        Grants(lake.catalog).grant(
            principal="ann", database="acme", table="orders", row_filter=bad, by="root"
        )
    assert err.value.code == "grants.bad_filter"


def test_grant_mistakes_are_explained(lake: App) -> None:
    grants = Grants(lake.catalog)
    for kwargs, code in (
        ({"database": "acme", "table": "nope", "principal": "ann"}, "grants.bad_grant"),
        (
            {"database": "acme", "table": "orders", "principal": "ann", "columns": ["nope"]},
            "grants.bad_grant",
        ),
        ({"database": "acme", "principal": "ann", "workgroup": "w"}, "grants.bad_grant"),
        ({"database": "acme", "principal": "nobody"}, "auth.unknown"),
    ):
        with pytest.raises(ConfigError) as err:
            grants.grant(by="root", **kwargs)  # type: ignore[arg-type]
        assert err.value.code == code
    made = grants.grant(principal="ann", database="acme", by="root")
    assert grants.revoke(made.id).id == made.id and grants.all() == []
