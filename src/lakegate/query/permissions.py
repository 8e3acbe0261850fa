"""Grants, and how a principal may read a table by them.

A grant names a database (``table`` ``*``: all its tables, also those created later) or one
table, to a principal or a workgroup, with an optional column list (included, or excluded) and
an optional row filter (a SQL predicate such as ``region = 'EU'``). Admins read everything;
providers query nothing.

Grants add up cell by cell: the table shows the rows any grant allows, and each column only in
the rows of the grants that include it (elsewhere NULL) — so a grant of every column for EU rows
and another of ``id`` alone for all rows show ``id`` everywhere and the rest for EU rows only.
They are enforced as the view each query reads the table through (the only way to the table's
files).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakegate.auth.principals import Principal, Principals
from lakegate.catalog import Catalog
from lakegate.catalog.model import grants
from lakegate.duck.sql import quote_ident
from lakegate.errors import ConfigError, GuardError
from lakegate.query import guard


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


@dataclass(frozen=True)
class Grant:
    id: int
    grantee_kind: str  # principal | workgroup
    grantee: str
    database: str
    table: str  # "*": the whole database
    columns: tuple[str, ...] | None
    exclude: bool
    row_filter: str | None
    granted_by: str
    created_at: float

    def columns_of(self, names: list[str]) -> list[str]:
        """Which of a table's columns this grant shows."""
        if self.columns is None:
            return list(names)
        listed = set(self.columns)
        return [n for n in names if (n in listed) != self.exclude]

    def describe(self) -> str:
        what = f"{self.database}.{self.table}"
        if self.columns is not None:
            what += (" except " if self.exclude else " columns ") + ", ".join(self.columns)
        if self.row_filter:
            what += f" where {self.row_filter}"
        return what


def _grant(row: Any) -> Grant:
    cols = tuple(row.columns) if row.columns is not None else None
    return Grant(
        row.id, row.grantee_kind, row.grantee, row.database, row.table, cols, bool(row.exclude),
        row.row_filter, row.granted_by, row.created_at,
    )  # fmt: skip


class Grants:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.principals = Principals(catalog)

    def grant(
        self,
        *,
        database: str,
        table: str = "*",
        principal: str | None = None,
        workgroup: str | None = None,
        columns: list[str] | None = None,
        exclude: bool = False,
        row_filter: str | None = None,
        by: str,
    ) -> Grant:
        """Raises: ConfigError ``grants.bad_grant``, ``grants.bad_filter`` or ``auth.unknown``."""
        if (principal is None) == (workgroup is None):
            raise ConfigError(
                "a grant is to a principal or to a workgroup (one of them)",
                code="grants.bad_grant",
                hint="--to NAME or --workgroup NAME",
            )
        if principal is not None:
            self.principals.require(principal)
        if exclude and not columns:
            raise ConfigError(
                "exclude what? no columns given",
                code="grants.bad_grant",
                hint="list the columns to leave out",
            )
        known = self.catalog.table(database, table) if table != "*" else None
        if table != "*" and known is None:
            raise ConfigError(
                f"no table {database}.{table}", code="grants.bad_grant", hint="`lakegate ls` lists the tables"
            )
        if known is not None and columns:
            names = {c.name for c in known.columns} | set(known.partition_keys)
            missing = [c for c in columns if c not in names]
            if missing:
                raise ConfigError(
                    f"{database}.{table} has no column {', '.join(missing)}",
                    code="grants.bad_grant",
                    hint=f"`lakegate describe {database}.{table}` lists its columns",
                )
        checked = check_row_filter(row_filter) if row_filter else None
        with self.catalog.writing("granting") as conn:
            new_id = conn.execute(
                grants.insert()
                .values(
                    grantee_kind="principal" if principal is not None else "workgroup",
                    grantee=principal if principal is not None else workgroup,
                    database=database, table=table, columns=columns, exclude=exclude,
                    row_filter=checked, granted_by=by, created_at=time.time(),
                )
                .returning(grants.c.id)
            ).scalar_one()  # fmt: skip
        return next(g for g in self.all() if g.id == new_id)

    def revoke(self, grant_id: int) -> Grant:
        """Raises: ConfigError ``grants.unknown``."""
        found = next((g for g in self.all() if g.id == grant_id), None)
        if found is None:
            raise ConfigError(
                f"no grant {grant_id}", code="grants.unknown", hint="`lakegate grants list` shows them"
            )
        with self.catalog.writing(f"revoking grant {grant_id}") as conn:
            conn.execute(grants.delete().where(grants.c.id == grant_id))
        return found

    def all(self) -> list[Grant]:
        with self.catalog.reading("listing grants") as conn:
            rows = conn.execute(sa.select(grants).order_by(grants.c.id)).all()
        return [_grant(r) for r in rows]

    def of(self, principal: Principal) -> list[Grant]:
        """The grants that apply to ``principal``: its own and its workgroup's."""
        return [
            g
            for g in self.all()
            if (g.grantee_kind == "principal" and g.grantee == principal.name)
            or (g.grantee_kind == "workgroup" and principal.workgroup and g.grantee == principal.workgroup)
        ]

    def access_for(self, principal: Principal) -> AccessFor | None:
        """How ``principal`` reads tables (``None``: an admin, who reads everything as it is)."""
        if principal.is_admin:
            return None
        if principal.role != "analyst":
            return Granted((), f"{principal.id}:{principal.name}")  # providers upload; they query nothing
        return Granted(tuple(self.of(principal)), f"{principal.id}:{principal.name}")


@dataclass(frozen=True)
class Granted:
    """How one principal reads tables, by its grants: an ``AccessFor`` that can be sent to an
    engine process. ``audience`` says whose reading this is: engine instances may be shared
    between its queries, not others'."""

    grants: tuple[Grant, ...]
    audience: str

    def __call__(self, database: str, table: str, names: list[str]) -> Access | None:
        matching = [g for g in self.grants if g.database == database and g.table in ("*", table)]
        if not matching:
            return None
        rows = any_of([g.row_filter for g in matching])
        columns: dict[str, str | None] = {}
        for name in names:
            covering = [g.row_filter for g in matching if name in g.columns_of(names)]
            if covering:
                predicate = any_of(covering)
                columns[name] = None if predicate == rows else predicate
        return Access(columns, rows) if columns else None


def access_print(principal: Principal, grants: Grants) -> tuple[Any, ...]:
    """What a principal's reading depends on: its role, its workgroup and its grants' contents."""
    mine = sorted(
        (g.id, g.database, g.table, g.columns, g.exclude, g.row_filter) for g in grants.of(principal)
    )
    return (principal.role, principal.workgroup, tuple(mine))
