"""A cataloged file's columns judged again (``lakegate migrate``): its record takes the new
types, its table a new schema version when they widen it, and a copy made only for speed is
forgotten (the accelerator writes it again, with the new types)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from lakegate.catalog.database import touch
from lakegate.catalog.model import databases, files, partitions, tables
from lakegate.catalog.registering import Registering, _fingerprint
from lakegate.schema import Column

_PARTITION_VALUES = partitions.c["values"].label("pvalues")


class Retyping(Registering):
    def retype_file(
        self, database: str, table: str, key: str, columns: list[Column], *, cause: str
    ) -> dict[str, Any] | None:
        """Give the file ``key`` of ``database.table`` its ``columns``; the table's schema change
        (``None``: none — the table's types already held them)."""
        with self.writing(f"retyping {key}") as conn:
            row = conn.execute(
                sa.select(files.c.id, files.c.table_id, files.c.derived_state, _PARTITION_VALUES)
                .join(partitions, partitions.c.id == files.c.partition_id)
                .join(tables, tables.c.id == files.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(files.c.key == key, databases.c.name == database, tables.c.name == table)
            ).one()  # fmt: skip
            generation = touch(conn, row.table_id, removed=True)  # what queries read changes
            # a copy for speed (acceleration.ACCELERATED) holds the old types: forgotten, made again
            copy = {"derived_key": None, "derived_sha256": None, "derived_state": None}
            speed_only = row.derived_state == "accelerated"
            conn.execute(
                files.update()
                .where(files.c.id == row.id)
                .values(
                    columns=[c.as_dict() for c in columns], schema_fingerprint=_fingerprint(columns),
                    changed_in=generation, **(copy if speed_only else {}),
                )
            )  # fmt: skip
            _version, diff = self._evolve(
                conn,
                row.table_id,
                columns,
                dict(row.pvalues or {}),
                policy="loose",
                cause=cause,
                now=time.time(),
            )
        return diff
