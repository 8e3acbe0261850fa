"""The read-only statement guard: refuse everything that is not one plain query over catalog tables.

Two real parsers look at every statement:

1. sqlglot (an allow-list of statement kinds): exactly one statement, a SELECT or a set
   operation of SELECTs; every table reference must be a catalog table ``database.table`` or a
   CTE name, so a quoted path (``FROM '/etc/passwd'``) is refused as an unknown table.
2. DuckDB's own parser (``json_serialize_sql``, which serializes SELECT statements only):
   every function called must be in ``functions.txt``, table functions are limited to
   ``unnest``, ``range`` and ``generate_series``, and every base table must again be a catalog
   table. What DuckDB will run is what was checked, whatever sqlglot made of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakegate import duck
from lakegate.duck.sql import sql_literal
from lakegate.errors import GuardError

TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})
_READ_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)
_WRITE_NODES = tuple(
    getattr(exp, name)
    for name in (
        "Create", "Insert", "Update", "Delete", "Drop", "Alter", "Merge", "Copy", "Command",
        "Set", "Pragma", "Use", "Transaction", "Commit", "Rollback", "Attach", "Detach",
        "Install", "Load", "Export", "Describe", "Summarize", "Show",
    )
    if hasattr(exp, name)
)  # fmt: skip


@cache
def allowed_functions() -> frozenset[str]:
    text = (Path(__file__).parent / "functions.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_PROBE_TABLE = "lakegate_probe_table_3f9c"


def sql_text_functions(names: Iterable[str]) -> set[str]:
    """Which of ``names`` parse or run SQL given to them as text (``json_serialize_sql``,
    ``json_serialize_plan``, ...): SQL the guard never saw. Found by property, not by name:
    each is called with a query of a table that does not exist, and a function whose answer or
    error names that table as a table took the text as SQL. scripts/gen_functions.py leaves them
    out of functions.txt, and a test fails when a DuckDB version brings a new one."""
    conn = duck.connect(threads=1)
    probe = sql_literal(f"SELECT * FROM {_PROBE_TABLE}")
    found = set()
    for name in names:
        if not name.replace("_", "").isalnum():
            continue  # an operator
        for args in (probe, f"{probe}, true", f"{probe}, true, true, true, true"):
            try:
                row = conn.execute(f"SELECT {name}({args})::VARCHAR").fetchone()
                answer = "" if row is None or row[0] is None else str(row[0])
            except Exception as exc:
                answer = str(exc)
            if _PROBE_TABLE in answer and ("table_name" in answer or f"name {_PROBE_TABLE}" in answer):
                found.add(name)
    conn.close()
    return found


@dataclass(frozen=True)
class Checked:
    """A statement the guard accepted, the catalog tables it reads, and sqlglot's tree of it."""

    sql: str
    tables: frozenset[tuple[str, str]]
    tree: exp.Expr | None = field(default=None, compare=False, repr=False)


TableExists = Callable[[str, str], bool]


MAX_STATEMENT_BYTES = 256 * 1024
MAX_NESTING = 128


def check(
    sql: str,
    table_exists: TableExists,
    *,
    max_bytes: int = MAX_STATEMENT_BYTES,
    max_nesting: int = MAX_NESTING,
) -> Checked:
    """Accept ``sql`` or raise ``GuardError`` saying what is refused, where, and what to do.

    Args:
        sql: one statement, DuckDB dialect.
        table_exists: tells whether ``database.table`` is a catalog table this caller may read.
        max_bytes, max_nesting: the largest statement and the deepest nesting of brackets
            accepted, checked before any parser sees the text (``guard.too_complex``).
    """
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise GuardError("the query is empty", code="guard.empty", hint="write a SELECT statement")
    bound(text, max_bytes, max_nesting)
    try:
        return _check(text, table_exists)
    except RecursionError:
        raise too_complex("the statement is nested too deeply for lakegate's parsers") from None


def too_complex(message: str, **details: Any) -> GuardError:
    return GuardError(
        message,
        code="guard.too_complex",
        hint="simplify the query (fewer nested subqueries, parentheses or expressions), or raise "
        "query.max_statement_kb / query.max_nesting",
        details=details,
    )


def bound(text: str, max_bytes: int, max_nesting: int) -> None:
    """Raises: GuardError ``guard.too_complex`` for a statement over ``max_bytes`` (UTF-8) or
    with brackets nested deeper than ``max_nesting`` (outside quotes and comments)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise too_complex(
            f"the statement is {size:,} bytes; at most {max_bytes:,} are accepted",
            bytes=size,
            max_bytes=max_bytes,
        )
    if sum(text.count(c) for c in "([{") <= max_nesting:
        return  # cannot nest deeper than it has brackets
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 1
        elif c in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_nesting:
                    raise too_complex(
                        f"the statement nests brackets more than {max_nesting} deep",
                        max_nesting=max_nesting,
                    )
        elif c in ")]}":
            depth -= 1
        i += 1


def _check(text: str, table_exists: TableExists) -> Checked:
    tree = _parse(text)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables: set[tuple[str, str]] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function: checked against the allow-list below
        tables.add(_resolve(table.catalog, table.db, table.name, ctes, table_exists))
    tables.discard(("", ""))
    for database, name in _duckdb_view(text, ctes, table_exists):
        tables.add((database, name))
    tables.discard(("", ""))
    return Checked(text, frozenset(tables), tree)


def referenced_tables(sql: str) -> set[tuple[str, str]]:
    """``database.table`` names in ``sql`` without judging anything (for the guard-off test mode)."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except (ParseError, TokenError):
        return set()
    return {
        (t.db.lower(), t.name.lower())
        for tree in trees
        if tree is not None
        for t in tree.find_all(exp.Table)
        if isinstance(t.this, exp.Identifier) and t.db
    }


def _parse(text: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except ParseError as exc:
        _refuse_engine_statement(text)
        first = exc.errors[0] if exc.errors else {}
        line, col = first.get("line"), first.get("col")
        where = f" at line {line}, column {col}" if line else ""
        message = str(first.get("description") or exc).split("\n")[0]
        raise GuardError(
            f"syntax error{where}: {message}",
            code="guard.syntax",
            details={"line": line, "column": col},
        ) from None
    except TokenError as exc:
        raise GuardError(f"syntax error: {exc}", code="guard.syntax") from None
    if len(statements) != 1:
        raise GuardError(
            f"one statement per query, got {len(statements)}",
            code="guard.multiple_statements",
            hint="send each statement on its own",
        )
    tree = statements[0]
    if not isinstance(tree, _READ_ROOTS):
        raise GuardError(
            f"only queries are accepted; {_kind(tree)} statements are refused (lakegate is read-only)",
            code="guard.not_read_only",
            hint="write a SELECT statement",
        )
    for node in tree.walk():
        if isinstance(node, _WRITE_NODES):
            raise GuardError(
                f"{_kind(node)} is refused inside a query (lakegate is read-only)",
                code="guard.not_read_only",
            )
    return tree


def _refuse_engine_statement(text: str) -> None:
    """Name a non-SELECT statement that sqlglot cannot parse but DuckDB can (EXPORT, ...)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error:
        return
    for statement in statements:
        kind = statement.type.name
        if kind != "SELECT":
            raise GuardError(
                f"only queries are accepted; {kind} statements are refused (lakegate is read-only)",
                code="guard.not_read_only",
                hint="write a SELECT statement",
            )


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _resolve(catalog: str, db: str, name: str, ctes: set[str], table_exists: TableExists) -> tuple[str, str]:
    database, table = db.lower(), name.lower()
    if not database and not catalog and table in ctes:
        return ("", "")
    shown = ".".join(p for p in (catalog, db, name) if p)
    if catalog or not database:
        raise GuardError(
            f"unknown table {shown!r}",
            code="guard.table_unknown",
            hint="name tables as database.table; `lakegate ls` lists them",
        )
    if not table_exists(database, table):
        raise GuardError(
            f"unknown table {shown!r}",
            code="guard.table_unknown",
            hint="`lakegate ls` lists the tables you can query",
        )
    return (database, table)


_parser_lock = threading.Lock()
_parser_conn = None


def _serialize(text: str) -> dict[str, Any]:
    global _parser_conn
    with _parser_lock:
        if _parser_conn is None:
            _parser_conn = duck.connect(threads=1)
        # A literal, not a bound parameter: binding Python values makes DuckDB import pandas (~0.3 s).
        row = _parser_conn.execute(f"SELECT json_serialize_sql({sql_literal(text)})").fetchone()
    assert row is not None
    parsed: dict[str, Any] = json.loads(row[0])
    return parsed


def _duckdb_view(text: str, ctes: set[str], table_exists: TableExists) -> Iterator[tuple[str, str]]:
    parsed = _serialize(text)
    if parsed.get("error"):
        message = parsed.get("error_message", "refused")
        if parsed.get("error_type") == "parser":
            raise GuardError(
                f"syntax error: {message}",
                code="guard.syntax",
                hint="a column named like an SQL keyword (user, order, ...) needs double quotes",
            )
        raise GuardError(f"the engine refuses this statement: {message}", code="guard.not_read_only")
    if len(parsed.get("statements", [])) != 1:
        raise GuardError("one statement per query", code="guard.multiple_statements")
    allowed = allowed_functions()
    for node in _nodes(parsed["statements"][0]):
        kind = node.get("type")
        if "function_name" in node:
            name = str(node["function_name"]).lower()
            qualified = node.get("schema", "") not in ("", "main") or node.get("catalog", "") not in (
                "",
                "system",
            )
            if qualified or name not in allowed:
                raise GuardError(
                    f"function {name}() is not allowed in lakegate queries",
                    code="guard.function",
                    hint="functions that read files, settings or the environment, or run SQL, are refused",
                )
        if kind == "TABLE_FUNCTION":
            name = str(node.get("function", {}).get("function_name", "")).lower()
            if name not in TABLE_FUNCTIONS:
                raise GuardError(
                    f"table function {name}() is not allowed in lakegate queries",
                    code="guard.function",
                    hint="only unnest, range and generate_series may appear in FROM",
                )
        elif kind == "BASE_TABLE":
            yield _resolve(
                str(node.get("catalog_name", "")),
                str(node.get("schema_name", "")),
                str(node.get("table_name", "")),
                ctes,
                table_exists,
            )
        elif kind == "SHOW_REF":
            raise GuardError("DESCRIBE and SHOW are refused in queries", code="guard.not_read_only")


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)
