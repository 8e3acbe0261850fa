"""psql, Debian's PostgreSQL client, against lakegate: the \\d family and queries, as the
principal whose token is the password."""

from __future__ import annotations

import os
import subprocess

from tests.pgwire.conftest import Lake


def psql(lake: Lake, command: str, user: str = "ann", *, ok: bool = True) -> str:
    done = subprocess.run(
        ["psql", f"host=127.0.0.1 port={lake.port} user={user} dbname=lake sslmode=disable",
         "-X", "-v", "ON_ERROR_STOP=1", "-c", command],
        env={**os.environ, "PGPASSWORD": lake.tokens[user], "PGCONNECT_TIMEOUT": "10"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode == 0) == ok, done.stderr
    return done.stdout + done.stderr


def test_listing_commands_show_only_what_the_user_may_read(lake: Lake) -> None:
    tables = psql(lake, r"\dt")
    assert "acme   | orders | table | ann" in tables and "globex" not in tables
    assert "acme" in psql(lake, r"\dn") and "globex" not in psql(lake, r"\dn")
    assert "globex" in psql(lake, r"\dn", "gus") and "acme" not in psql(lake, r"\dn", "gus")
    assert " lakegate " in psql(lake, r"\l")
    assert "acme" in psql(lake, r"\dt acme.*") and "orders" not in psql(lake, r"\dt globex.*")


def test_describe_shows_the_visible_columns_with_postgresql_types_and_descriptions(lake: Lake) -> None:
    lake.app.catalog.describe_table("acme", "orders", "the shop's orders", by="root")
    lake.app.catalog.describe_table("acme", "orders", "when it was ordered", column="day", by="root")
    shown = psql(lake, r"\d+ acme.orders")
    for line in ("id     | bigint", "region | text", "amount | double precision", "day    | date"):
        assert line in shown, shown
    assert "when it was ordered" in shown
    assert "email" not in shown  # excluded from ann's grant
    assert "email" in psql(lake, r"\d acme.orders", "root")
    assert 'Did not find any relation named "globex.orders"' in psql(lake, r"\d globex.orders", ok=False)


def test_queries_and_errors(lake: Lake) -> None:
    out = psql(lake, "SELECT id, region FROM acme.orders ORDER BY id")
    assert " 1 | EU" in out and " 3 | EU" in out and "US" not in out
    refused = psql(lake, "DELETE FROM acme.orders", ok=False)
    assert "ERROR:" in refused and "read-only" in refused
