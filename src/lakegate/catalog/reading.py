"""Reading the catalog: tables, files, versions and partitions."""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lakegate.catalog.cache import Entry, Stamp
from lakegate.catalog.database import CatalogDatabase
from lakegate.catalog.model import (
    columns,
    databases,
    files,
    partitions,
    table_versions,
    tables,
)
from lakegate.catalog.records import (
    FileRecord,
    PartitionInfo,
    TableInfo,
    TableVersion,
)
from lakegate.schema import Column

_STAMP = (
    sa.select(tables.c.id, tables.c.created_at, tables.c.generation, tables.c.removed_in)
    .join(databases, databases.c.id == tables.c.database_id)
    .where(databases.c.name == sa.bindparam("database"), tables.c.name == sa.bindparam("name"))
)


# A file's derived copy queries read: one the engine needs, or an acceleration copy (acceleration.py)
_USED = ("current", "accelerated")


# A table's files as queries read them; JSON as text, so that what files share is decoded once
_FILES = sa.select(
    files.c.id, files.c.key, files.c.size, files.c.sha256, files.c.row_count, files.c.format,
    sa.cast(files.c.options, sa.Text).label("options"), sa.cast(files.c.columns, sa.Text).label("columns"),
    files.c.derived_key, files.c.derived_state, sa.cast(files.c.stats, sa.Text).label("stats"),
    sa.cast(partitions.c["values"], sa.Text).label("pvalues"),
).join(partitions, partitions.c.id == files.c.partition_id)  # fmt: skip


def _file_records(rows: Sequence[Any]) -> dict[int, FileRecord]:
    """``_FILES`` rows as records by id. Options and columns, mostly the same from file to file,
    are decoded once and shared (never change a record's)."""
    shared: dict[str, Any] = {}

    def decoded(text: str, make: Any = None) -> Any:
        value = shared.get(text)
        if value is None:
            value = shared[text] = json.loads(text) if make is None else make(json.loads(text))
        return value

    def columns_of(raw: list[dict[str, Any]]) -> list[Column]:
        return [Column.from_dict(c) for c in raw]

    return {
        f.id: FileRecord(
            f.key, f.size, f.sha256, f.row_count, f.format, decoded(f.options),
            decoded(f.columns, columns_of), json.loads(f.pvalues),
            f.derived_key if f.derived_state in _USED else None,
            (json.loads(f.stats) if f.stats else None) or {}, f.derived_state == "accelerated",
        )
        for f in rows
    }  # fmt: skip


def _table(row: Any, cols: list[Column]) -> TableInfo:
    return TableInfo(
        id=row.id,
        database=row.db,
        name=row.name,
        location=row.location,
        schema_version=row.schema_version,
        columns=cols,
        partition_keys=list(row.partition_keys),
    )


class TableReading(CatalogDatabase):
    """Reading the catalog: databases, tables (cached while unchanged), their files, schema
    versions and partitions."""

    @staticmethod
    def _table_id(conn: Connection, database: str, table: str) -> int | None:
        return conn.execute(
            sa.select(tables.c.id)
            .join(databases, databases.c.id == tables.c.database_id)
            .where(databases.c.name == database, tables.c.name == table)
        ).scalar()

    @staticmethod
    def _columns(conn: Connection, table_id: int) -> list[Column]:
        rows = conn.execute(
            sa.select(columns).where(columns.c.table_id == table_id).order_by(columns.c.position)
        ).all()
        return [Column(row.name, row.original_name, row.type, row.added_in) for row in rows]

    def databases(self) -> list[str]:
        with self._read("listing databases") as conn:
            return list(conn.execute(sa.select(databases.c.name).order_by(databases.c.name)).scalars())

    def tables(self, database: str | None = None) -> list[TableInfo]:
        """Tables with their columns and statistics (no file lists)."""
        stats = (
            sa.select(
                files.c.table_id,
                sa.func.count().label("n"),
                sa.func.sum(files.c.row_count).label("rows"),
                sa.func.sum(files.c.size).label("bytes"),
            )
            .group_by(files.c.table_id)
            .subquery()
        )
        query = (
            sa.select(tables, databases.c.name.label("db"), stats.c.n, stats.c.rows, stats.c.bytes)
            .join(databases, databases.c.id == tables.c.database_id)
            .outerjoin(stats, stats.c.table_id == tables.c.id)
            .order_by(databases.c.name, tables.c.name)
        )
        if database is not None:
            query = query.where(databases.c.name == database)
        with self._read("listing tables") as conn:
            out = []
            for row in conn.execute(query).all():
                info = _table(row, self._columns(conn, row.id))
                info.file_count, info.row_count, info.total_bytes = row.n or 0, row.rows or 0, row.bytes or 0
                out.append(info)
            return out

    def schema(self, database: str, name: str) -> tuple[list[Column], int] | None:
        """A table's columns and schema version, without its files; ``None`` if there is no such table."""
        with self._read(f"reading the schema of {database}.{name}") as conn:
            row = conn.execute(
                sa.select(tables.c.id, tables.c.schema_version)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == name)
            ).first()
            return None if row is None else (self._columns(conn, row.id), row.schema_version)

    def table(self, database: str, name: str) -> TableInfo | None:
        """One table with its columns and every registered file (what a query reads). Kept in
        memory while it is unchanged (``catalog/cache.py``): share it, never change it."""
        with self._read(f"reading {database}.{name}") as conn:
            # the stamp first: data read after it is at least as new, never older
            found = conn.execute(_STAMP, {"database": database, "name": name}).first()
            stamp: Stamp | None = None if found is None else (found.id, found.created_at, found.generation)
            cached = self.cache.get(database, name, stamp)
            if cached is not None or stamp is None:
                return cached
            row = conn.execute(
                sa.select(tables, databases.c.name.label("db"))
                .join(databases, databases.c.id == tables.c.database_id)
                .where(tables.c.id == stamp[0])
            ).one()
            info = _table(row, self._columns(conn, row.id))
            previous = self.cache.previous(database, name)
            assert found is not None
            if previous is not None and (
                previous.stamp[:2] != stamp[:2] or found.removed_in > previous.stamp[2]
            ):
                previous = None  # another table now, or files were taken out: read it whole
            ids, info.files = self._table_files(conn, row.id, previous)
        info.file_count = len(info.files)
        if previous is None:
            info.row_count = sum(f.row_count for f in info.files)
            info.total_bytes = sum(f.size for f in info.files)
        else:  # the files it had are the same files (a copy may be new): count the new ones
            added = info.files[previous.table.file_count :]
            info.row_count = previous.table.row_count + sum(f.row_count for f in added)
            info.total_bytes = previous.table.total_bytes + sum(f.size for f in added)
        self.cache.put(Entry(stamp, info, ids))
        return info

    @staticmethod
    def _table_files(
        conn: Connection, table_id: int, previous: Entry | None
    ) -> tuple[list[int], list[FileRecord]]:
        """The table's files, in order, with their catalog ids. Given an earlier read of it from
        which no file was taken out (``previous``), only the files added or changed since are
        read, by the generation that changed them."""
        query = _FILES.where(files.c.table_id == table_id)
        if previous is None:
            fetched = _file_records(conn.execute(query.order_by(files.c.id)).all())
            return list(fetched), list(fetched.values())
        since = query.where(files.c.changed_in > previous.stamp[2]).order_by(files.c.id)
        changed = _file_records(conn.execute(since).all())
        ids, out = list(previous.ids), list(previous.table.files)
        for file_id, f in changed.items():
            at = bisect.bisect_left(ids, file_id)  # ids ascend; new files have the highest
            if at < len(ids) and ids[at] == file_id:
                out[at] = f  # its derived copy changed
            else:
                ids.append(file_id)
                out.append(f)
        return ids, out

    def versions(self, database: str, name: str) -> list[TableVersion]:
        with self._read(f"reading versions of {database}.{name}") as conn:
            rows = conn.execute(
                sa.select(table_versions)
                .join(tables, tables.c.id == table_versions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == name)
                .order_by(table_versions.c.version)
            ).all()
        return [
            TableVersion(
                row.version,
                [Column.from_dict(c) for c in row.columns],
                list(row.partition_keys),
                row.diff,
                row.cause,
                row.created_at,
            )
            for row in rows
        ]

    def partitions(self, database: str, name: str) -> list[PartitionInfo]:
        stats = (
            sa.select(
                files.c.partition_id,
                sa.func.count().label("n"),
                sa.func.sum(files.c.row_count).label("rows"),
                sa.func.sum(files.c.size).label("bytes"),
            )
            .group_by(files.c.partition_id)
            .subquery()
        )
        with self._read(f"listing partitions of {database}.{name}") as conn:
            rows = conn.execute(
                sa.select(partitions.c.path, partitions.c["values"], stats.c.n, stats.c.rows, stats.c.bytes)
                .join(tables, tables.c.id == partitions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .outerjoin(stats, stats.c.partition_id == partitions.c.id)
                .where(databases.c.name == database, tables.c.name == name)
                .order_by(partitions.c.path)
            ).all()
        return [PartitionInfo(row.path, row[1], row.n or 0, row.rows or 0, row.bytes or 0) for row in rows]
