"""Grants: which tables, columns and rows a principal (or its workgroup) may read.

A grant names a database (``table`` ``*``: all its tables, also those created later) or one
table, to a principal or a workgroup, with an optional column list (included, or excluded) and
an optional row filter (a SQL predicate such as ``region = 'EU'``). Admins read everything;
providers query nothing. How grants add up and are enforced: ``query/permissions.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.auth.principals import Principal, Principals
from lakegate.catalog import Catalog
from lakegate.catalog.schema import grants
from lakegate.errors import ConfigError
from lakegate.query.permissions import Access, AccessFor, any_of, check_row_filter


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
