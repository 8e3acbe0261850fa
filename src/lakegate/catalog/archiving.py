"""The archive in the catalog: files taken out of their tables, and why."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lakegate.catalog.database import touch
from lakegate.catalog.model import (
    archived_files,
    columns,
    databases,
    descriptions,
    files,
    partitions,
    table_versions,
    tables,
)
from lakegate.catalog.reading import TableReading
from lakegate.catalog.records import (
    ARCHIVED,
    ARCHIVING,
    PURGED_FILE,
    ArchivedFile,
)
from lakegate.keys import archive_key, with_suffix

# A lake key is taken while a file is registered there, or still there on its way to the archive.
_FILE_SHA = sa.union_all(
    sa.select(files.c.sha256).where(files.c.key == sa.bindparam("key")),
    sa.select(archived_files.c.sha256).where(
        archived_files.c.lake_key == sa.bindparam("key"), archived_files.c.state == ARCHIVING
    ),
).limit(1)


_DUPLICATE = (
    sa.select(files.c.key)
    .join(tables, tables.c.id == files.c.table_id)
    .join(databases, databases.c.id == tables.c.database_id)
    .where(
        databases.c.name == sa.bindparam("database"),
        tables.c.name == sa.bindparam("table"),
        files.c.sha256 == sa.bindparam("sha256"),
    )
)


class Archiving(TableReading):
    """Taking files out of their tables into the archive area, and what the archive holds."""

    def _archive(
        self,
        conn: Connection,
        rows: Sequence[Any],
        *,
        database: str,
        table: str,
        cause: str,
        reason: str,
        object_id: int | None,
        now: float,
    ) -> None:
        """Take ``rows`` of ``files`` out of their table and record them as being archived."""
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        part_ids = {row.partition_id for row in rows}
        paths = dict(
            conn.execute(
                sa.select(partitions.c.id, partitions.c.path).where(partitions.c.id.in_(part_ids))
            ).all()
        )
        for row in rows:
            if "://" in row.key:  # registered in place by a crawl: its owner's, never moved
                conn.execute(files.delete().where(files.c.id == row.id))
                continue
            key = base = archive_key(row.key, day)
            taken = sa.select(archived_files.c.id).where(archived_files.c.archive_key == sa.bindparam("key"))
            n = 0
            while conn.execute(taken, {"key": key}).first():
                n += 1  # the same name archived before today: a name of its own
                key = with_suffix(base, f"{row.sha256[:6]}{n:06d}")
            conn.execute(files.delete().where(files.c.id == row.id))
            conn.execute(
                archived_files.insert().values(
                    lake_key=row.key,
                    archive_key=key,
                    database=database,
                    table=table,
                    partition_path=paths.get(row.partition_id, ""),
                    size=row.size,
                    sha256=row.sha256,
                    row_count=row.row_count,
                    cause=cause,
                    reason=reason,
                    object_id=object_id,
                    state=ARCHIVING,
                    archived_at=now,
                )
            )

    @staticmethod
    def _drop_empty_partitions(conn: Connection, part_ids: set[int]) -> None:
        holding = sa.select(files.c.partition_id).where(files.c.partition_id.in_(part_ids)).distinct()
        empty = part_ids - set(conn.execute(holding).scalars())
        if empty:
            conn.execute(partitions.delete().where(partitions.c.id.in_(empty)))

    def archive_partitions(self, database: str, table: str, paths: list[str], reason: str) -> int:
        """Take every file of the partitions ``paths`` out of the table into the archive (retention)."""
        with self._write(f"archiving partitions of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return 0
            part_ids = (
                conn.execute(
                    sa.select(partitions.c.id).where(
                        partitions.c.table_id == table_id, partitions.c.path.in_(paths)
                    )
                )
                .scalars()
                .all()
            )
            rows = conn.execute(sa.select(files).where(files.c.partition_id.in_(part_ids))).all()
            self._archive(
                conn, rows, database=database, table=table, cause="retention", reason=reason, object_id=None,
                now=time.time(),
            )  # fmt: skip
            conn.execute(partitions.delete().where(partitions.c.id.in_(part_ids)))
            touch(conn, table_id, removed=True)
            return len(rows)

    def drop_table(self, database: str, table: str, reason: str) -> int | None:
        """Remove a table from the catalog, its files into the archive; ``None`` if there is no such table."""
        with self._write(f"dropping {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return None
            rows = conn.execute(sa.select(files).where(files.c.table_id == table_id)).all()
            self._archive(
                conn, rows, database=database, table=table, cause="dropped", reason=reason, object_id=None,
                now=time.time(),
            )  # fmt: skip
            for child in (partitions, columns, table_versions, descriptions):
                conn.execute(child.delete().where(child.c.table_id == table_id))
            conn.execute(tables.delete().where(tables.c.id == table_id))
            return len(rows)

    def stale_partitions(self, database: str, table: str, older_than: float) -> list[str]:
        """Partitions of a table whose newest file was registered before ``older_than`` (epoch s)."""
        with self._read("looking for expired partitions") as conn:
            newest = sa.func.max(files.c.created_at)
            rows = conn.execute(
                sa.select(partitions.c.path)
                .join(files, files.c.partition_id == partitions.c.id)
                .join(tables, tables.c.id == partitions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == table)
                .group_by(partitions.c.path)
                .having(newest < older_than)
            ).scalars()
            return sorted(rows)

    def archived(
        self, states: tuple[str, ...] = (ARCHIVING, ARCHIVED), limit: int = 1000
    ) -> list[ArchivedFile]:
        with self._read("listing the archive") as conn:
            rows = conn.execute(
                sa.select(archived_files)
                .where(archived_files.c.state.in_(states))
                .order_by(archived_files.c.id)
                .limit(limit)
            ).all()
            return [ArchivedFile(**row._asdict()) for row in rows]

    def set_archive_state(self, archived_id: int, state: str) -> None:
        with self._write("recording an archived file") as conn:
            values: dict[str, Any] = {"state": state}
            if state == PURGED_FILE:
                values["purged_at"] = time.time()
            conn.execute(archived_files.update().where(archived_files.c.id == archived_id).values(**values))

    def file_sha(self, key: str) -> str | None:
        """The content hash of the lake file at ``key``: registered, or still there while it moves
        to the archive; ``None`` when the key is free."""
        with self._read("looking up a file") as conn:
            return conn.execute(_FILE_SHA, {"key": key}).scalar()

    def delivered_as(self, database: str, table: str, key: str) -> list[str]:
        """Keys of the table's files whose deliveries asked for the lake key ``key``."""
        with self._read("looking up a file") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return []
            query = sa.select(files.c.key).where(files.c.table_id == table_id, files.c.delivered_as == key)
            return list(conn.execute(query).scalars())

    def duplicate_in_table(self, database: str, table: str, sha256: str) -> str | None:
        with self._read("looking for duplicates") as conn:
            return conn.execute(_DUPLICATE, {"database": database, "table": table, "sha256": sha256}).scalar()
