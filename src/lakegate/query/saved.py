"""Queries a principal keeps under a name (the console's saved queries). Each principal sees and
changes only its own; saving under a name it already used replaces that query."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog.model import saved_queries
from lakegate.errors import ConfigError, LakegateError

MAX_SQL = 1_000_000  # characters
DIALECTS = ("duckdb", "athena", "trino")


@dataclass(frozen=True)
class SavedQuery:
    id: int
    name: str
    sql: str
    dialect: str
    created_at: float
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _saved(row: Any) -> SavedQuery:
    return SavedQuery(row.id, row.name, row.sql, row.dialect, row.created_at, row.updated_at)


class SavedQueries:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def of(self, principal: str) -> list[SavedQuery]:
        with self.catalog.reading("listing saved queries") as conn:
            rows = conn.execute(
                sa.select(saved_queries)
                .where(saved_queries.c.principal == principal)
                .order_by(saved_queries.c.name)
            ).all()
        return [_saved(r) for r in rows]

    def save(self, principal: str, name: str, sql: str, dialect: str = "duckdb") -> SavedQuery:
        """Keep ``sql`` under ``name`` (replacing what was kept under it).

        Raises: ConfigError ``saved.invalid`` for an empty or over-long name or text, or an
        unknown dialect.
        """
        name = name.strip()
        if not name or len(name) > 255 or not sql.strip() or len(sql) > MAX_SQL:
            raise ConfigError(
                "a saved query needs a name (up to 255 characters) and its SQL (up to 1,000,000)",
                code="saved.invalid",
            )
        if dialect not in DIALECTS:
            raise ConfigError(
                f"unknown dialect {dialect!r}", code="saved.invalid", hint=f"one of {', '.join(DIALECTS)}"
            )
        now = time.time()
        with self.catalog.writing("saving a query") as conn:
            mine = (saved_queries.c.principal == principal) & (saved_queries.c.name == name)
            done = conn.execute(
                saved_queries.update().where(mine).values(sql=sql, dialect=dialect, updated_at=now)
            )
            if done.rowcount == 0:
                conn.execute(
                    saved_queries.insert().values(
                        principal=principal,
                        name=name,
                        sql=sql,
                        dialect=dialect,
                        created_at=now,
                        updated_at=now,
                    )
                )
            row = conn.execute(sa.select(saved_queries).where(mine)).one()
        return _saved(row)

    def delete(self, principal: str, saved_id: int) -> None:
        """Raises: LakegateError ``saved.unknown`` — also for another principal's query."""
        with self.catalog.writing("deleting a saved query") as conn:
            done = conn.execute(
                saved_queries.delete().where(
                    (saved_queries.c.id == saved_id) & (saved_queries.c.principal == principal)
                )
            )
        if done.rowcount == 0:
            raise LakegateError(f"no saved query {saved_id}", code="saved.unknown")
