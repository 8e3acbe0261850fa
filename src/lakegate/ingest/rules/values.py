"""Running a file's value checks: one streaming query for all of them.

The query numbers the file's data rows (1 is the first row after any header, in file order),
evaluates every test's ``bad`` predicate per row and aggregates, per test, the number of
failing rows, the first failing row numbers and the most frequent failing values. It reads the
file once, with the options and types the crawler stored, so it sees exactly what queries will.
"""

from __future__ import annotations

from typing import Any

import duckdb

from lakegate.crawler.infer import FilePlan, plan_select
from lakegate.engine_setup import engine_message
from lakegate.ingest.rules import Content, Finding, ValueTest

FIRST_ROWS = 10  # failing row numbers kept per test
EXAMPLES = 5  # failing values shown per test


def measure(content: Content, plan: FilePlan, rules: list[tuple[int, list[ValueTest]]]) -> dict[int, Finding]:
    """The findings of rules (by their index) whose tests found something."""
    tests = [(i, t) for i, made in rules for t in made]
    inner = ", ".join(f"({t.bad}) AS __bad{j}, ({t.example}) AS __ex{j}" for j, (_i, t) in enumerate(tests))
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE __bad{j}), min(__row, {FIRST_ROWS}) FILTER (WHERE __bad{j}), "
        f"approx_top_k(CAST(__ex{j} AS VARCHAR), {EXAMPLES}) FILTER (WHERE __bad{j} AND __ex{j} IS NOT NULL)"
        for j in range(len(tests))
    )
    numbered = f"SELECT row_number() OVER () AS __row, * FROM ({plan_select(content.path, plan)})"
    sql = f"SELECT {aggregates} FROM (SELECT __row, {inner} FROM ({numbered}))"
    try:
        row = content.conn.execute(sql).fetchone()
    except duckdb.Error as exc:
        message = engine_message(exc)
        return {
            i: Finding(f"the check could not run on this file: {message}", {"engine_error": message})
            for i, _made in rules
        }
    assert row is not None
    failures: dict[int, list[dict[str, Any]]] = {}
    for j, (i, test) in enumerate(tests):
        count, first, examples = row[3 * j : 3 * j + 3]
        if not count and test.always is None:
            continue
        failure: dict[str, Any] = {"message": _words(test, int(count or 0), list(examples or []), first)}
        if test.column is not None:
            failure["column"] = test.column
        if count:
            failure |= {"failing_rows": int(count), "rows": list(first), "values": list(examples or [])}
        failures.setdefault(i, []).append(failure)
    return {i: _finding(found) for i, found in failures.items()}


def _words(test: ValueTest, count: int, examples: list[str], first: list[int] | None) -> str:
    if not count:
        assert test.always is not None
        return test.always
    text = test.describe(count, examples)
    if first:
        shown = ", ".join(str(n) for n in first)
        text += f" (row{'s' if count > 1 else ''} {shown}{', …' if count > len(first) else ''})"
    return text


def _finding(failures: list[dict[str, Any]]) -> Finding:
    rows = sorted({n for f in failures for n in f.get("rows", [])})[:FIRST_ROWS]
    details: dict[str, Any] = {"failures": failures}
    if rows:
        details["rows"] = rows
    return Finding("; ".join(f["message"] for f in failures), details)


def quoted_values(values: list[str]) -> str:
    """``'a', 'b'`` for a message."""
    return ", ".join(repr(v) for v in values)
