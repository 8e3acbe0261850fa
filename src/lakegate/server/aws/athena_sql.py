"""Athena's statements before the gateway sees them: what kind each is, its table names read in
the query's database, and its ``?`` bound to ``ExecutionParameters``.

Athena runs queries (SELECT, WITH, VALUES), utility statements answered from the catalog (SHOW,
DESCRIBE, MSCK REPAIR TABLE), prepared statements (PREPARE, EXECUTE ... USING, DEALLOCATE
PREPARE) and DDL/DML that writes — which lakegate, read-only, refuses with Athena's error shape.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from lakegate.errors import GuardError, LakegateError

DEFAULT_CATALOG = "awsdatacatalog"
_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.S)
_QUERY_WORDS = ("select", "with", "values", "table", "(")
_UTILITY = re.compile(r"(show|describe|desc|msck)\b", re.I)
_PREPARED = re.compile(r"(prepare|execute|deallocate)\b", re.I)
_PARAMETER_NODES = (exp.Literal, exp.Null, exp.Boolean, exp.HexString)


def body(sql: str) -> str:
    """The statement without its leading comments and blanks, nor a final semicolon."""
    return _COMMENTS.sub("", sql, count=1).strip().rstrip(";").strip()


def kind(sql: str) -> str:
    """``query``, ``utility`` (SHOW, DESCRIBE, MSCK), ``prepared`` (PREPARE, EXECUTE,
    DEALLOCATE) or ``write`` (anything else: DDL and DML, refused)."""
    text = body(sql)
    lowered = text.lower()
    if lowered.startswith(_QUERY_WORDS) or lowered.startswith("explain"):
        return "query"
    if _UTILITY.match(text):
        return "utility"
    if _PREPARED.match(text):
        return "prepared"
    return "write"


def statement_type(sql: str) -> str:
    """What Athena's ``StatementType`` says of a statement: DML, UTILITY or DDL."""
    found = kind(sql)
    return {"query": "DML", "utility": "UTILITY", "prepared": "UTILITY"}.get(found, "DDL")


def refuse_write(sql: str) -> GuardError:
    first = (body(sql).split() or ["(empty)"])[0].upper()
    return GuardError(
        f"{first} statements are not allowed: lakegate is read-only (only queries, SHOW, DESCRIBE, "
        "MSCK REPAIR TABLE and prepared statements run here)",
        code="guard.not_read_only",
        hint="write data by delivering files into landing/; tables appear as files arrive",
    )


def _parsed(sql: str) -> exp.Expr:
    try:
        found = sqlglot.parse(sql, read="athena")
    except (ParseError, TokenError) as exc:
        raise GuardError(f"the statement cannot be parsed: {exc}", code="guard.syntax") from None
    statements = [s for s in found if s is not None]
    if len(statements) != 1:
        raise GuardError(
            "exactly one statement is allowed", code="guard.multiple_statements", hint="send one at a time"
        )
    return statements[0]


def qualify(sql: str, database: str | None) -> str:
    """``sql`` with its unqualified table names in ``database`` (the query's context), and the
    ``awsdatacatalog.`` some tools write before a database dropped. Unchanged when neither applies.

    Raises: GuardError ``guard.syntax``."""
    tree = _parsed(sql)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    changed = False
    for table in tree.find_all(exp.Table):
        if table.catalog.lower() == DEFAULT_CATALOG:
            table.set("catalog", None)
            changed = True
        if not table.db and database and table.name.lower() not in ctes and table.name:
            table.set("db", exp.to_identifier(database))
            changed = True
    return tree.sql(dialect="athena") if changed else sql


def parameter_literal(text: str) -> str:
    """One ``ExecutionParameters`` value as SQL: it must be exactly one literal (a number, a
    string, NULL, TRUE/FALSE, or a typed literal such as ``DATE '2026-12-01'``).

    Raises: LakegateError ``aws.bad_parameter``."""
    refused = LakegateError(
        f"the execution parameter {text[:80]!r} is not one SQL literal",
        code="aws.bad_parameter",
        hint="pass each value as one literal: 42, 'text', DATE '2026-12-01', NULL",
    )
    try:
        found = [s for s in sqlglot.parse(text, read="athena") if s is not None]
    except (ParseError, TokenError):
        raise refused from None
    if len(found) != 1:
        raise refused
    node = found[0]
    inner = node.this if isinstance(node, (exp.Neg, exp.Cast)) else node
    if isinstance(node, exp.Neg) and not (isinstance(inner, exp.Literal) and not inner.is_string):
        raise refused
    if isinstance(node, exp.Cast) and not (isinstance(inner, exp.Literal) and inner.is_string):
        raise refused
    if not isinstance(inner, _PARAMETER_NODES):
        raise refused
    return node.sql(dialect="athena")


def bind(sql: str, parameters: list[str]) -> str:
    """``sql`` with each ``?`` replaced, in order, by its parameter (``parameter_literal``).

    Raises: LakegateError ``aws.bad_parameter`` (a parameter is not one literal, or their number
    is not the number of ``?``)."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError as exc:
        raise GuardError(f"the statement cannot be parsed: {exc}", code="guard.syntax") from None
    places = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER]
    if len(places) != len(parameters):
        raise LakegateError(
            f"the statement has {len(places)} ? placeholder(s) but {len(parameters)} execution parameter(s)",
            code="aws.bad_parameter",
            hint="give one ExecutionParameters value per ?, in order",
        )
    pieces, at = [], 0
    for place, value in zip(places, parameters, strict=True):
        pieces += [sql[at : place.start], parameter_literal(value)]
        at = place.end + 1
    return "".join(pieces) + sql[at:]
