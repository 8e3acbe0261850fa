"""Descriptions of tables and columns."""

from __future__ import annotations

import time

import sqlalchemy as sa

from lakegate.catalog.model import (
    descriptions,
)
from lakegate.catalog.reading import TableReading
from lakegate.errors import CatalogError


class Descriptions(TableReading):
    """Descriptions of tables and columns, written by admins."""

    def describe_table(self, database: str, table: str, text: str, *, column: str = "", by: str) -> None:
        """Set (or with ``text`` empty, remove) the description of a table or one of its columns.

        Raises:
            CatalogError: ``catalog.unknown_table`` or ``catalog.unknown_column``.
        """
        with self._write(f"describing {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                raise CatalogError(
                    f"no table {database}.{table}",
                    code="catalog.unknown_table",
                    hint="`lakegate ls` lists them",
                )
            if column and column not in {c.name for c in self._columns(conn, table_id)}:
                raise CatalogError(
                    f"{database}.{table} has no column {column!r}",
                    code="catalog.unknown_column",
                    hint=f"`lakegate describe {database}.{table}` lists its columns",
                )
            key = (descriptions.c.table_id == table_id) & (descriptions.c.column == column)
            conn.execute(descriptions.delete().where(key))
            if text.strip():
                conn.execute(
                    descriptions.insert().values(
                        table_id=table_id, column=column, text=text.strip(), set_by=by, set_at=time.time()
                    )
                )

    def descriptions_stamp(self) -> tuple[int, float]:
        """How many descriptions there are and when the last was set: changes with any of them."""
        with self._read("reading when descriptions changed") as conn:
            count, last = conn.execute(sa.select(sa.func.count(), sa.func.max(descriptions.c.set_at))).one()
        return int(count), float(last or 0.0)

    def descriptions(self, database: str, table: str) -> dict[str, str]:
        """A table's descriptions: ``""`` for the table itself, else by column name."""
        with self._read(f"reading descriptions of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return {}
            rows = conn.execute(
                sa.select(descriptions.c.column, descriptions.c.text).where(
                    descriptions.c.table_id == table_id
                )
            ).all()
        return {str(c): str(t) for c, t in rows}
