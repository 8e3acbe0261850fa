"""Failures said in lakegate's words: where in the statement, and what was probably meant.

The guard and the engine say what went wrong in their own terms (a parser's class names, a
``Binder Error``). Before a failure reaches the caller — on every interface, since the gateway
is the one door — it is said again: the position in the statement the caller wrote, and a hint
drawn only from what the caller may read: ``did you mean `amount`?`` (a column of the tables in
the query that the caller's grants show), ``did you mean `shop.orders`?``, the keyword a
misspelled word was close to, the type a value or a function expected — and for a function that
refuses a text column, which file made that column text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakegate.catalog import Catalog
from lakegate.catalog.records import TableInfo
from lakegate.errors import LakegateError
from lakegate.query.locate import locate
from lakegate.query.permissions import Access, AccessFor, filtered

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "HAVING", "LIMIT", "OFFSET", "JOIN", "INNER",
    "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "WITH", "UNION", "INTERSECT", "EXCEPT", "DISTINCT",
    "AS", "ON", "USING", "AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "LIKE", "ILIKE", "CASE",
    "WHEN", "THEN", "ELSE", "END", "CAST", "EXISTS", "ASC", "DESC", "VALUES", "QUALIFY", "WINDOW",
)  # fmt: skip
# DuckDB's names for its types, as lakegate's catalog spells them
ENGINE_TYPES = {
    "INT64": "BIGINT",
    "INT32": "INTEGER",
    "INT16": "SMALLINT",
    "INT8": "TINYINT",
    "STRING": "VARCHAR",
}


@dataclass(frozen=True)
class Visible:
    """What the caller may read: its tables (``database.table``), each table's columns and their
    types, and why a column is text (the files that made it so), all after its grants."""

    tables: Callable[[], list[str]]
    columns: Callable[[str], dict[str, str]]  # "database.table" -> {column: type}
    widened_by: Callable[[str, str], list[str]]  # ("database.table", column) -> files with text in it


def visible_to(catalog: Catalog, access: AccessFor | None) -> Visible:
    """What a caller reading by ``access`` (``None``: an admin) may see of ``catalog``. Files are
    named only where the caller reads the table whole: their names may tell of hidden rows."""

    def readable(qualified: str) -> tuple[TableInfo, Access | None] | None:
        database, _, name = qualified.partition(".")
        info = catalog.table(database, name)
        if info is None:
            return None
        seen = access(database, name, [c.name for c in info.columns]) if access is not None else None
        return None if access is not None and seen is None else (info, seen)

    def columns(qualified: str) -> dict[str, str]:
        found = readable(qualified)
        if found is None:
            return {}
        info, seen = found
        return {c.name: c.type for c in info.columns if seen is None or c.name in seen.columns}

    def tables() -> list[str]:  # from the listing: columns, no file lists
        return [
            f"{t.database}.{t.name}"
            for t in catalog.tables()
            if access is None or access(t.database, t.name, [c.name for c in t.columns]) is not None
        ]

    def widened_by(qualified: str, column: str) -> list[str]:
        found = readable(qualified)
        if found is None or (found[1] is not None and filtered(found[1])):
            return []
        own = {f.key: next((c.type for c in f.columns if c.name == column), None) for f in found[0].files}
        if not any(t not in (None, "VARCHAR", "NULL") for t in own.values()):
            return []  # text in every file: nothing widened it
        return [key for key, typ in own.items() if typ == "VARCHAR"]

    return Visible(tables, columns, widened_by)


def explained(error: LakegateError, sql: str, visible: Visible) -> LakegateError:
    """``error`` said again for the statement ``sql`` (unchanged when there is nothing to add)."""
    try:
        said = _explain(error, sql, visible)
    except Exception:  # explaining must never hide the failure itself
        return error
    return said or error


def _explain(error: LakegateError, sql: str, visible: Visible) -> LakegateError | None:
    message = error.message
    if error.code == "guard.syntax":
        return _syntax(error, sql)
    if error.code == "guard.table_unknown":
        return _table(error, sql, visible)
    if error.code == "guard.function":
        return _function(error, sql)
    if error.code != "query.failed":
        return None
    column = re.search(r'Referenced column "([^"]+)" not found', message)
    if column:
        return _column(error, sql, column[1], visible)
    call = re.search(r"No function matches the given name and argument types '(\w+)\(([^']*)\)'", message)
    if call:
        return _argument_types(error, sql, call[1], call[2], visible)
    conversion = re.search(r"Could not convert string '([^']*)' to (\w+)", message)
    if conversion:
        wanted = ENGINE_TYPES.get(conversion[2], conversion[2])
        where = _at(sql, conversion[1])
        return _again(
            error,
            f"the text '{conversion[1]}' cannot be read as {wanted}{where}",
            f"compare with a {wanted} value, or cast the column: CAST(column AS VARCHAR) = '{conversion[1]}'",
            sql,
            conversion[1],
        )
    return None


def _again(error: LakegateError, message: str, hint: str | None, sql: str, name: str | None) -> LakegateError:
    details = {"engine_message": error.message, **error.details}  # what the engine said (SQLSTATE)
    place = locate(sql, f'"{name}"') if name else None
    if place:
        details["position"] = place
    return type(error)(message, code=error.code, hint=hint, details=details, transient=error.transient)


def _at(sql: str, name: str) -> str:
    place = locate(sql, f'"{name}"')
    return f" (line {place['line']}, column {place['column']})" if place else ""


def _closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    pool = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(pool), n=1, cutoff=cutoff)
    return pool[found[0]] if found else None


_WORD = re.compile(r"\"[^\"]*\"|'[^']*'|--[^\n]*|/\*.*?\*/|([A-Za-z_][A-Za-z0-9_]*)", re.DOTALL)


def _syntax(error: LakegateError, sql: str) -> LakegateError | None:
    """A misspelled keyword (``SELEC``, ``FORM``, ``WHER``) named, with where it is."""
    for match in _WORD.finditer(sql):
        word = match.group(1)
        if not word or len(word) < 3 or word.upper() in KEYWORDS:
            continue
        meant = _closest(word, KEYWORDS, cutoff=0.75)
        if meant is None or not _parses(sql[: match.start()] + meant + sql[match.end() :]):
            continue
        before = sql[: match.start()]
        line, column = before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1
        details = {**error.details, "line": line, "column": column}
        return type(error)(
            f"syntax error at line {line}, column {column}: `{word}` is no SQL keyword"
            f" — did you mean `{meant}`?",
            code=error.code,
            details=details,
        )
    if "<class" in error.message:  # a parser's own words: said plainly
        at = re.search(r"line (\d+), column (\d+)", error.message)
        where = f" at line {at[1]}, column {at[2]}" if at else ""
        return type(error)(
            f"syntax error{where}: the statement is not complete there",
            code=error.code,
            hint="check the word before that point: a keyword misspelled, a comma or a parenthesis missing",
            details=error.details,
        )
    return None


def _parses(sql: str) -> bool:
    try:
        return all(t is not None for t in sqlglot.parse(sql, read="duckdb"))
    except SqlglotError:
        return False


def _table(error: LakegateError, sql: str, visible: Visible) -> LakegateError | None:
    named = re.search(r"unknown table '([^']+)'", error.message)
    if not named:
        return None
    meant = _closest(named[1], visible.tables())
    if meant is None:
        return None
    return _again(
        error,
        f"unknown table '{named[1]}'{_at(sql, named[1])} — did you mean `{meant}`?",
        "`lakegate ls` lists the tables you can query",
        sql,
        named[1],
    )


def _function(error: LakegateError, sql: str) -> LakegateError | None:
    from lakegate.query.guard import allowed_functions

    named = re.search(r"function (\w+)\(\) is not allowed", error.message)
    if not named or named[1] in _engine_functions():
        return None  # a function that exists: refused on purpose, as said
    meant = _closest(named[1], allowed_functions(), cutoff=0.75)
    guess = f" — did you mean {meant}()?" if meant else ""
    return _again(
        error,
        f"unknown function {named[1]}(){_at(sql, named[1])}{guess}",
        "the functions queries may use are DuckDB's (https://duckdb.org/docs/sql/functions/overview)",
        sql,
        named[1],
    )


_FUNCTIONS: set[str] = set()


def _engine_functions() -> set[str]:
    if not _FUNCTIONS:
        from lakegate import duck

        conn = duck.connect(threads=1)
        try:
            _FUNCTIONS.update(
                r[0].lower() for r in conn.execute("SELECT function_name FROM duckdb_functions()").fetchall()
            )
        finally:
            conn.close()
    return _FUNCTIONS


def _tables_in(sql: str) -> list[str]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return []
    return [f"{t.db}.{t.name}".lower() for t in tree.find_all(exp.Table) if t.db]


def _column(error: LakegateError, sql: str, name: str, visible: Visible) -> LakegateError:
    tables = _tables_in(sql)
    columns = {c: t for t in tables for c in visible.columns(t)}
    meant = _closest(name, columns)
    where = f" in {', '.join(dict.fromkeys(tables))}" if tables else ""
    guess = f" — did you mean `{meant}`?" if meant else ""
    shown = ", ".join(list(columns)[:12]) + (", …" if len(columns) > 12 else "")
    hint = (
        f"the columns you can read{where}: {shown}"
        if columns
        else "`lakegate describe TABLE` lists its columns"
    )
    return _again(error, f"column `{name}` does not exist{where}{_at(sql, name)}{guess}", hint, sql, name)


def _argument_types(
    error: LakegateError, sql: str, function: str, types: str, visible: Visible
) -> LakegateError:
    message = f"{function}() does not take a {types} argument{_at(sql, function)}"
    hint = f"cast the argument to the type {function}() needs, e.g. {function}(CAST(x AS DOUBLE))"
    if "VARCHAR" in types:
        for table, column in _arguments_of(sql, function):
            if visible.columns(table).get(column) != "VARCHAR":
                continue
            files = visible.widened_by(table, column)
            if files:
                shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
                holds = "holds" if len(files) == 1 else "hold"
                message += f"; `{column}` is text in {table} because {shown} {holds} text in it"
                cast = f"{function}(TRY_CAST({column} AS DOUBLE))"
                hint = f"fix those values and replay the files, or cast: {cast}"
            else:
                message += f"; `{column}` is text (VARCHAR) in {table}"
            break
    return _again(error, message, hint, sql, function)


def _arguments_of(sql: str, function: str) -> list[tuple[str, str]]:
    """(table, column) of the columns passed to ``function`` in ``sql``, the table resolved among
    those the query reads (the first that has it when the column is not qualified)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return []
    tables = {t.alias_or_name.lower(): f"{t.db}.{t.name}".lower() for t in tree.find_all(exp.Table) if t.db}
    out = []
    for call in tree.find_all(exp.Func):
        if call.sql_name().lower() != function.lower() and str(call.key).lower() != function.lower():
            continue
        for column in call.find_all(exp.Column):
            qualified = tables.get(column.table.lower()) if column.table else None
            for table in [qualified] if qualified else list(tables.values()):
                out.append((table, column.name))
    return out
