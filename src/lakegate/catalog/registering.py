"""Registering files in tables, and the schema versions they make."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from lakegate.catalog import records as r
from lakegate.catalog.archiving import Archiving
from lakegate.catalog.database import touch
from lakegate.catalog.ledger import Ledger
from lakegate.catalog.model import (
    columns,
    databases,
    files,
    partitions,
    table_versions,
    tables,
)
from lakegate.catalog.records import (
    ObjectRecord,
    Registration,
)
from lakegate.errors import Rejection
from lakegate.schema import Column, admit


def _fingerprint(cols: list[Column]) -> str:
    text = json.dumps([[c.name, c.type] for c in cols])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _derived_columns(derived: dict[str, Any] | None) -> dict[str, Any]:
    """A file's derived-copy columns from its plan's ``derived``: a copy queries need is
    ``current``; one made for speed in the judging read is ``accelerated``, with its hash."""
    if not derived:
        return {"derived_key": None, "derived_sha256": None, "derived_state": None}
    state = "accelerated" if derived.get("accelerated") else "current"
    return {"derived_key": derived["key"], "derived_sha256": derived.get("sha256"), "derived_state": state}


class Registering(Ledger, Archiving):
    """Registering an accepted object's file in its table: the partition, the schema version it
    makes, and undoing all of it when the object is abandoned."""

    def register(self, obj: ObjectRecord) -> tuple[ObjectRecord, Registration]:
        """Register ``obj``'s file, its partition and any schema change, and mark it cataloged.

        All in one transaction: data is queryable exactly when this commits. Identical content
        already in the table moves the object to ``duplicate`` instead.
        """
        assert obj.plan is not None and obj.database and obj.table and obj.target_key and obj.sha256
        plan = obj.plan
        file_cols = [Column.from_dict(c) for c in plan["columns"]]
        part_values: dict[str, str] = plan.get("partition", {})
        now = time.time()
        with self._write(f"registering {obj.target_key}") as conn:
            table_id = self._table_row(conn, obj.database, obj.table, plan["location"], now)
            dup = conn.execute(
                sa.select(files.c.key).where(files.c.table_id == table_id, files.c.sha256 == obj.sha256)
            ).scalar()
            if dup is not None:
                version = conn.execute(
                    sa.select(tables.c.schema_version).where(tables.c.id == table_id)
                ).scalar()
                done = self._transition(conn, obj, r.DUPLICATE, reason_details={"duplicate_of": dup})
                return done, Registration(
                    obj.qualified_table, obj.partition_path or "", 0, int(version or 0), None, dup
                )
            delivered_as = plan.get("delivered_as") or obj.target_key
            earlier = conn.execute(
                sa.select(files).where(files.c.table_id == table_id, files.c.delivered_as == delivered_as)
            ).all()
            policy = plan.get("duplicates", "keep_both")
            if earlier and policy == "reject":
                raise Rejection(
                    f"the table already has a file delivered as {delivered_as.rsplit('/', 1)[-1]!r}, "
                    "with other content, and the dataset's duplicate policy is reject",
                    code="reject.duplicate_name",
                    hint="deliver new content under a new name, or set duplicates: keep_both or replace",
                    details={"existing": [f.key for f in earlier]},
                )
            policy_evolve = plan.get("schema_evolution", "evolve")
            version, diff = self._evolve(
                conn, table_id, file_cols, part_values, policy=policy_evolve, cause=obj.target_key, now=now
            )
            path = obj.partition_path or ""
            part_id = self._partition_id(conn, table_id, path, part_values, now)
            generation = touch(conn, table_id, removed=bool(earlier and policy == "replace"))
            if earlier and policy == "replace":
                reason = f"replaced by {obj.target_key} (delivered as {obj.source_key})"
                self._archive(
                    conn, earlier, database=obj.database, table=obj.table, cause="replaced", reason=reason,
                    object_id=obj.id, now=now,
                )  # fmt: skip
            conn.execute(
                files.insert().values(
                    table_id=table_id,
                    partition_id=part_id,
                    key=obj.target_key,
                    delivered_as=delivered_as,
                    size=plan["size"],
                    sha256=obj.sha256,
                    row_count=plan["rows"],
                    row_hash=plan.get("row_hash"),
                    schema_fingerprint=_fingerprint(file_cols),
                    format=plan["format"],
                    options=plan["options"],
                    columns=[c.as_dict() for c in file_cols],
                    stats=plan.get("stats"),
                    **_derived_columns(plan.get("derived")),
                    created_at=now,
                    changed_in=generation,
                )
            )
            if earlier and policy == "replace":
                self._drop_empty_partitions(conn, {f.partition_id for f in earlier})
            changed: dict[str, Any] = {}
            if diff is not None and version > 1:  # said wherever the delivery is reported
                types = {c.name: c.type for c in file_cols}
                change = {"version": version, "diff": diff, "types": types}
                changed["plan"] = {**plan, "schema_change": change}
            done = self._transition(conn, obj, r.CATALOGED, **changed)
            return done, Registration(obj.qualified_table, path, plan["rows"], version, diff)

    def _table_row(self, conn: Connection, database: str, table: str, location: str, now: float) -> int:
        """The id of ``database.table``, created (schema version 0, no columns) when new."""
        db_id = self._row_id(conn, databases, {"name": database}, created_at=now)
        return self._row_id(
            conn, tables, {"database_id": db_id, "name": table},
            location=location, schema_version=0, partition_keys=[], created_at=now, updated_at=now,
        )  # fmt: skip

    def _row_id(self, conn: Connection, table: sa.Table, key: dict[str, Any], **values: Any) -> int:
        """The id of ``table``'s row with ``key``, inserted (with ``values``) when there is none.
        Workers and nodes registering the first files of a table at once all get the one row:
        whoever comes second waits for the first's insert and takes its row, without a conflict."""
        match = sa.and_(*(table.c[name] == value for name, value in key.items()))
        found = conn.execute(sa.select(table.c.id).where(match)).scalar()
        if found is None:
            insert = sqlite_insert(table) if self.is_sqlite else pg_insert(table)
            conn.execute(insert.values(**key, **values).on_conflict_do_nothing())
            found = conn.execute(sa.select(table.c.id).where(match)).scalar_one()
        return int(found)

    def _evolve(
        self,
        conn: Connection,
        table_id: int,
        file_cols: list[Column],
        part_values: dict[str, str],
        *,
        policy: str,
        cause: str,
        now: float,
    ) -> tuple[int, dict[str, Any] | None]:
        """Admit a file's columns and partition keys to the table (a new version when anything
        changes); the table's schema version and the change's diff (``None``: no change).

        Raises:
            Rejection: the table's evolution ``policy`` refuses the file's schema.
        """
        trow = conn.execute(sa.select(tables).where(tables.c.id == table_id)).one()
        version, part_keys = trow.schema_version, list(trow.partition_keys)
        change = admit(self._columns(conn, table_id), file_cols, version + 1, policy)
        new_keys = [k for k in part_values if k not in part_keys]
        if not (change.changed or new_keys or version == 0):
            return version, None
        version += 1
        part_keys += new_keys
        diff = {**change.diff(), "partition_keys_added": new_keys}
        self._set_columns(conn, table_id, change.columns)
        conn.execute(
            tables.update()
            .where(tables.c.id == table_id)
            .values(schema_version=version, partition_keys=part_keys, updated_at=now)
        )
        conn.execute(
            table_versions.insert().values(
                table_id=table_id,
                version=version,
                columns=[c.as_dict() for c in change.columns],
                partition_keys=part_keys,
                diff=diff,
                cause=cause,
                created_at=now,
            )
        )
        return version, diff

    @staticmethod
    def _set_columns(conn: Connection, table_id: int, cols: list[Column]) -> None:
        conn.execute(columns.delete().where(columns.c.table_id == table_id))
        if cols:
            conn.execute(
                columns.insert(),
                [
                    {
                        "table_id": table_id,
                        "position": i,
                        "name": c.name,
                        "original_name": c.original,
                        "type": c.type,
                        "added_in": c.added_in,
                    }
                    for i, c in enumerate(cols)
                ],
            )

    def abandon(self, obj: ObjectRecord, reason: str) -> ObjectRecord:
        """Take back an attempt whose landing file changed after it was read, in one commit:
        its file leaves its table if it was registered (with the schema version it made, while
        that is still the newest), and the object moves to ``abandoning``.

        A file it replaced (duplicate policy ``replace``) stays in the archive: the file, taken
        again, replaces it anyway.
        """
        with self._write(f"abandoning {obj.source_key}") as conn:
            if obj.state == r.CATALOGED and obj.target_key:
                row = conn.execute(
                    sa.select(files).where(files.c.key == obj.target_key, files.c.sha256 == obj.sha256)
                ).first()
                if row is not None:
                    conn.execute(files.delete().where(files.c.id == row.id))
                    self._drop_empty_partitions(conn, {row.partition_id})
                    self._undo_version(conn, row.table_id, cause=obj.target_key)
                    touch(conn, row.table_id, removed=True)
            return self._transition(
                conn, obj, r.ABANDONING, reason_code="ingest.changed_while_taken", reason=reason
            )

    def _undo_version(self, conn: Connection, table_id: int, *, cause: str) -> None:
        """Drop the table's newest schema version if ``cause`` made it, back to the one before."""
        newest, before = [
            *conn.execute(
                sa.select(table_versions)
                .where(table_versions.c.table_id == table_id)
                .order_by(table_versions.c.version.desc())
                .limit(2)
            ).all(),
            None,
            None,
        ][:2]
        if newest is None or before is None or newest.cause != cause:
            return
        conn.execute(
            table_versions.delete().where(
                table_versions.c.table_id == table_id, table_versions.c.version == newest.version
            )
        )
        self._set_columns(conn, table_id, [Column.from_dict(c) for c in before.columns])
        conn.execute(
            tables.update()
            .where(tables.c.id == table_id)
            .values(
                schema_version=before.version, partition_keys=before.partition_keys, updated_at=time.time()
            )
        )

    def _partition_id(
        self, conn: Connection, table_id: int, path: str, values: dict[str, str], now: float
    ) -> int:
        return self._row_id(
            conn, partitions, {"table_id": table_id, "path": path}, values=values, created_at=now
        )
