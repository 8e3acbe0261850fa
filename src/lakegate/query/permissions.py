"""How a principal may read a table: the columns and rows its grants allow, enforced as the view
each query reads the table through (the only way to the table's files).

Grants add up cell by cell: the table shows the rows any grant allows, and each column only in
the rows of the grants that include it (elsewhere NULL) — so a grant of every column for EU rows
and another of ``id`` alone for all rows show ``id`` everywhere and the rest for EU rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakegate.errors import ConfigError, GuardError
from lakegate.query import guard
from lakegate.query.views import quote_ident


@dataclass(frozen=True)
class Access:
    """How a principal reads one table: its visible columns, each with the predicate of the rows
    it shows (``None``: every row the table shows), and the rows the table shows."""

    columns: dict[str, str | None]
    rows: str | None


# (database, table, the table's columns) -> how the caller may read it, or None: not at all
AccessFor = Callable[[str, str, list[str]], Access | None]


def filtered(access: Access) -> bool:
    """Whether some rows or cells of the table are hidden from the caller."""
    return access.rows is not None or any(p is not None for p in access.columns.values())


def any_of(predicates: list[str | None]) -> str | None:
    """The OR of predicates, where ``None`` means "every row"."""
    if not predicates or any(p is None for p in predicates):
        return None
    unique = list(dict.fromkeys(p for p in predicates if p is not None))
    return unique[0] if len(unique) == 1 else " OR ".join(f"({p})" for p in unique)


def check_row_filter(text: str) -> str:
    """A row filter as it will be used, or ConfigError ``grants.bad_filter``: one predicate over
    the table's columns, with the functions queries may use, no subqueries."""
    try:
        expression = sqlglot.parse_one(text, read="duckdb", into=exp.Condition)
    except (ParseError, TokenError) as exc:
        raise ConfigError(
            f"the row filter {text!r} is not a SQL predicate: {str(exc).splitlines()[0]}",
            code="grants.bad_filter",
            hint="write a condition such as region = 'EU'",
        ) from None
    if any(isinstance(n, exp.Select | exp.Subquery | exp.Table | exp.Star) for n in expression.walk()):
        raise ConfigError(
            f"the row filter {text!r} reads more than its own row",
            code="grants.bad_filter",
            hint="use only the table's columns, constants and functions",
        )
    try:
        guard.check(f"SELECT 1 FROM grants_check.t WHERE {text}", lambda _d, _t: True)
    except GuardError as exc:
        raise ConfigError(
            f"the row filter {text!r} is refused: {exc.message}", code="grants.bad_filter", hint=exc.hint
        ) from None
    return expression.sql(dialect="duckdb")


def restrict(view: str, access: Access, names: list[str]) -> str:
    """``view`` (a table's SELECT) as ``access`` lets it be read.

    A row filter is a barrier, not only a ``WHERE``: every column is masked by it too (NULL in a
    row the grant excludes), so a query's own expressions — a cast, a regex, ``error()`` aimed at
    a hidden value — see nothing of a hidden row even if the optimizer evaluated them before the
    filter. Which order the engine picks can then never change an answer or an error.
    """
    projection = []
    for name in names:
        if name not in access.columns:
            continue
        shown = access.columns[name]
        col = quote_ident(name)
        masks = [f"({p})" for p in (access.rows, shown) if p is not None]
        projection.append(col if not masks else f"CASE WHEN {' AND '.join(masks)} THEN {col} END AS {col}")
    where = f" WHERE {access.rows}" if access.rows else ""
    return f"SELECT {', '.join(projection)} FROM ({view}) AS granted{where}"
