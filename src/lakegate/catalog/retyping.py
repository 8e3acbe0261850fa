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
        self,
        database: str,
        table: str,
        key: str,
        columns: list[Column],
        *,
        cause: str,
        sha256: str | None = None,
        copy: tuple[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Give the file ``key`` of ``database.table`` its ``columns`` (and, with ``copy``, the
        derived copy ``(key, sha256)`` written with them, in place of the one it needs); the
        table's schema change (``None``: none — the table's types already held them).

        Raises:
            sqlalchemy.exc.NoResultFound: the file is not there (with ``sha256``: not that content).
        """
        with self.writing(f"retyping {key}") as conn:
            which = [files.c.key == key, databases.c.name == database, tables.c.name == table]
            if sha256 is not None:
                which.append(files.c.sha256 == sha256)  # replaced meanwhile: not this file
            row = conn.execute(
                sa.select(files.c.id, files.c.table_id, files.c.derived_state, _PARTITION_VALUES)
                .join(partitions, partitions.c.id == files.c.partition_id)
                .join(tables, tables.c.id == files.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(*which)
            ).one()  # fmt: skip
            generation = touch(conn, row.table_id, removed=True)  # what queries read changes
            # a copy for speed (acceleration.ACCELERATED) holds the old types: forgotten, made again
            speed_only = row.derived_state == "accelerated"
            copied: dict[str, Any] = {}
            if copy is not None:
                copied = {"derived_key": copy[0], "derived_sha256": copy[1], "derived_state": "current"}
            elif speed_only:
                copied = {"derived_key": None, "derived_sha256": None, "derived_state": None}
            conn.execute(
                files.update()
                .where(files.c.id == row.id)
                .values(
                    columns=[c.as_dict() for c in columns], schema_fingerprint=_fingerprint(columns),
                    changed_in=generation, **copied,
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
