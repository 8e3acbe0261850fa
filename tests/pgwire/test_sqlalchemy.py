"""SQLAlchemy's inspector and pandas over lakegate's PostgreSQL protocol."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import sqlalchemy as sa

from tests.pgwire.conftest import Lake


def engine(lake: Lake, user: str = "ann") -> sa.Engine:
    password = urllib.parse.quote(lake.tokens[user])
    return sa.create_engine(
        f"postgresql+psycopg://{user}:{password}@127.0.0.1:{lake.port}/lake?sslmode=disable"
    )


def test_the_inspector_sees_the_grants(lake: Lake) -> None:
    lake.app.catalog.describe_table("acme", "orders", "the shop's orders", by="root")
    ann = sa.inspect(engine(lake))
    assert "acme" in ann.get_schema_names() and "globex" not in ann.get_schema_names()
    assert ann.get_table_names(schema="acme") == ["orders"]
    assert ann.get_table_names(schema="globex") == []
    columns = {c["name"]: c for c in ann.get_columns("orders", schema="acme")}
    assert list(columns) == ["id", "region", "amount", "day"]  # no email
    assert isinstance(columns["id"]["type"], sa.BIGINT) and isinstance(columns["day"]["type"], sa.DATE)
    assert ann.get_pk_constraint("orders", schema="acme")["constrained_columns"] == []
    assert ann.get_table_comment("orders", schema="acme") == {"text": "the shop's orders"}
    root = sa.inspect(engine(lake, "root"))
    assert "email" in [c["name"] for c in root.get_columns("orders", schema="acme")]


def test_pandas_reads_queries_and_whole_tables(lake: Lake) -> None:
    frame = pd.read_sql("SELECT id, amount FROM acme.orders ORDER BY id", engine(lake))
    assert frame["id"].tolist() == [1, 3] and frame["amount"].isna().tolist() == [False, True]
    table = pd.read_sql_table("orders", engine(lake), schema="acme")
    assert list(table.columns) == ["id", "region", "amount", "day"] and len(table) == 2
    with engine(lake).connect() as conn:
        rows = conn.execute(sa.text("SELECT region FROM acme.orders WHERE id = :id"), {"id": 3}).all()
    assert rows == [("EU",)]
