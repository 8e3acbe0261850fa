"""Golden files for the read-only guard: tests/query/golden/{accepted,refused}.sql."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate.errors import GuardError
from lakegate.query.guard import allowed_functions, check

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
