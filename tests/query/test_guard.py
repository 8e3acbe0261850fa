"""Golden files for the read-only guard: tests/query/golden/{accepted,refused}.sql."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lakegate.errors import GuardError
from lakegate.query.guard import allowed_functions, check, sql_text_functions

GOLDEN = Path(__file__).parent / "golden"
CATALOG = {("sales", "orders"), ("sales", "customers")}


def cases(name: str) -> list[tuple[str, str]]:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("-- ")]
    out = []
    for block in "\n".join(lines).split("\n--\n"):
        *sql, expected = block.strip("\n").split("\n") if block.strip() else ["", ""]
        out.append(("\n".join(sql), expected))
    return out


def exists(database: str, table: str) -> bool:
    return (database, table) in CATALOG


@pytest.mark.parametrize(("sql", "expected"), cases("accepted.sql"))
def test_accepted(sql: str, expected: str) -> None:
    checked = check(sql, exists)
    names = sorted(f"{d}.{t}" for d, t in checked.tables)
    assert expected == "tables: " + ", ".join(names) if names else expected.rstrip() == "tables:"


@pytest.mark.parametrize(("sql", "expected"), cases("refused.sql"))
def test_refused(sql: str, expected: str) -> None:
    with pytest.raises(GuardError) as err:
        check(sql, exists)
    assert "code: " + err.value.code == expected
    assert err.value.message


def test_syntax_errors_give_the_position() -> None:
    with pytest.raises(GuardError) as err:
        check("SELECT *\nFROM sales.orders\nWHERE AND", exists)
    assert "line 3" in err.value.message


def test_function_allow_list_has_no_dangerous_functions() -> None:
    allowed = allowed_functions()
    dangerous = ["read_csv", "read_text", "glob", "getenv", "current_setting", "query", "query_table"]
    dangerous += [
        "duckdb_settings",
        "json_execute_serialized_sql",
        "sniff_csv",
        "parquet_metadata",
        "nextval",
    ]
    for name in dangerous:
        assert name not in allowed
    for name in ["sum", "count", "date_trunc", "unnest", "range", "generate_series", "regexp_matches", "+"]:
        assert name in allowed


def test_no_allowed_function_takes_sql_as_text() -> None:
    """Found by what the functions do, so a DuckDB upgrade that adds one fails here."""
    assert sql_text_functions(allowed_functions()) == set()
    with pytest.raises(GuardError) as err:
        check("SELECT json_serialize_plan('SELECT * FROM read_text(''/etc/passwd'')')", exists)
    assert err.value.code == "guard.function"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + "(" * 1000 + "1" + ")" * 1000,
        "SELECT * FROM " + "(SELECT * FROM " * 10_000 + "sales.orders" + ") t" * 10_000,
        "SELECT list_transform([1], " + "x -> list_transform([x], " * 5000 + "y -> y" + ")" * 5001,
        "SELECT 1 AS a" + ", 1" * 3_000_000,
    ],
    ids=["parentheses", "subqueries", "lambdas", "ten-megabytes"],
)
def test_a_statement_too_large_or_deep_is_refused_before_parsing(sql: str) -> None:
    started = time.monotonic()
    with pytest.raises(GuardError) as err:
        check(sql, exists)
    assert err.value.code == "guard.too_complex"
    assert time.monotonic() - started < 2
    assert "query.max_" in (err.value.hint or "")


def test_brackets_in_strings_and_comments_do_not_count_as_nesting() -> None:
    deep_text = "'" + "(" * 500 + "'"
    assert check(f"SELECT {deep_text} AS s, x FROM sales.orders -- {'(' * 300}", exists).tables


def test_long_flat_operator_chains_are_refused_cleanly() -> None:
    with pytest.raises(GuardError) as err:
        check("SELECT " + " + ".join(["1"] * 20_000), exists)
    assert err.value.code in ("guard.too_complex", "guard.not_read_only", "guard.syntax")
