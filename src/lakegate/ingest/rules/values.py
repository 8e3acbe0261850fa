"""Running a file's value checks: counted in the crawler's own read, detailed only on failure.

Each test gives an aggregate that counts the rows failing it (``screen_sql``). The crawler
computes them in the one full read it makes of every file anyway, with the options and types it
stored — so a file that passes its checks is read exactly once, as without rules (``screen``
reads it again only for Parquet, whose footer is all the crawler reads). Only when a test fails
does a second pass number the file's data rows (1 is the first row after any header, in file
order) and collect, for the failing tests, their rows, first row numbers and most frequent
failing values. Numbering rows keeps them in file order, which costs parallelism.
"""

from __future__ import annotations

from typing import Any

import duckdb

from lakegate.duck import engine_message
from lakegate.duck.readers import FilePlan, plan_select
from lakegate.ingest.rules import Content, Finding, ValueTest, screen_sql

FIRST_ROWS = 10  # failing row numbers kept per test
EXAMPLES = 5  # failing values shown per test


def screen(content: Content, plan: FilePlan, tests: list[tuple[int, ValueTest]]) -> list[Any]:
    """Each test's count of failing rows, in a read of its own (a ``None`` count: it could not run)."""
    try:
        row = content.conn.execute(
            f"SELECT {', '.join(screen_sql(tests))} FROM ({plan_select(content.path, plan)})"
        )
        counts = row.fetchone()
    except duckdb.Error:
        return [None] * len(tests)  # measure() runs the failing ones and reports the engine's reason
    assert counts is not None
    return list(counts)


def measure(content: Content, plan: FilePlan, tests: list[tuple[int, ValueTest, Any]]) -> dict[int, Finding]:
    """The findings of rules (by index) whose tests failed, from their screen counts."""
    failing = [(i, t) for i, t, n in tests if n != 0]
    try:
        found = _details(content, plan_select(content.path, plan), failing) if failing else {}
    except duckdb.Error as exc:
        message = engine_message(exc)
        return {
            i: Finding(f"the check could not run on this file: {message}", {"engine_error": message})
            for i, _t in failing
        }
    failures: dict[int, list[dict[str, Any]]] = {}
    for i, test, _n in tests:
        detail = found.get(id(test))
        if (detail is None or not detail[0]) and test.always is None:
            continue
        count, first, examples = detail or (0, [], [])
        failure: dict[str, Any] = {"message": _words(test, count, examples, first)}
        if test.column is not None:
            failure["column"] = test.column
        if count:
            failure |= {"failing_rows": count, "rows": first, "values": examples}
        failures.setdefault(i, []).append(failure)
    return {i: _finding(found) for i, found in failures.items()}


def _details(
    content: Content, source: str, tests: list[tuple[int, ValueTest]]
) -> dict[int, tuple[int, list[int], list[str]]]:
    """Per failing test (by ``id``): its failing rows, the first of their numbers, frequent values."""
    inner = ", ".join(f"({t.bad}) AS __bad{j}, ({t.example}) AS __ex{j}" for j, (_i, t) in enumerate(tests))
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE __bad{j}), min(__row, {FIRST_ROWS}) FILTER (WHERE __bad{j}), "
        f"approx_top_k(CAST(__ex{j} AS VARCHAR), {EXAMPLES}) FILTER (WHERE __bad{j} AND __ex{j} IS NOT NULL)"
        for j in range(len(tests))
    )
    numbered = f"SELECT row_number() OVER () AS __row, * FROM ({source})"
    row = content.conn.execute(
        f"SELECT {aggregates} FROM (SELECT __row, {inner} FROM ({numbered}))"
    ).fetchone()
    assert row is not None
    return {
        id(t): (int(row[3 * j] or 0), list(row[3 * j + 1] or []), list(row[3 * j + 2] or []))
        for j, (_i, t) in enumerate(tests)
    }


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
