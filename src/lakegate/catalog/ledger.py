"""The object ledger: every landed object and the state it is in."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lakegate.catalog import records as r
from lakegate.catalog.database import CatalogDatabase
from lakegate.catalog.model import (
    objects,
)
from lakegate.catalog.records import (
    ObjectRecord,
)
from lakegate.errors import CatalogError

# The ledger's hot statements, built once: building a statement costs more CPU than running it.
_ACTIVE_FOR = sa.select(objects).where(
    objects.c.source_key == sa.bindparam("key"), objects.c.active.is_(True)
)


_LAND = objects.insert().returning(*objects.c)


_MOVE = (
    objects.update()
    .where(objects.c.id == sa.bindparam("where_id"), objects.c.state == sa.bindparam("where_state"))
    .returning(*objects.c)
)


def _object(row: Any) -> ObjectRecord:
    return ObjectRecord(
        id=row.id,
        source_key=row.source_key,
        size=row.size,
        mtime_ns=row.mtime_ns,
        state=row.state,
        sha256=row.sha256,
        database=row.database,
        table=row.table,
        partition_path=row.partition_path,
        target_key=row.target_key,
        plan=row.plan,
        reason_code=row.reason_code,
        reason=row.reason,
        reason_details=row.reason_details,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Ledger(CatalogDatabase):
    """The object ledger: every landed object's state, moved one compare-and-set at a time."""

    def land(self, key: str, size: int, mtime_ns: int) -> ObjectRecord:
        """The active ledger row for a landing object, created in state ``landed`` if new."""
        now = time.time()
        with self._write("recording a landed object") as conn:
            row = conn.execute(_ACTIVE_FOR, {"key": key}).first()
            if row is not None:
                if row.state == r.LANDED and (row.size, row.mtime_ns) != (size, mtime_ns):
                    changed = {"size": size, "mtime_ns": mtime_ns, "updated_at": now}
                    row = conn.execute(_MOVE, {"where_id": row.id, "where_state": r.LANDED, **changed}).one()
                return _object(row)
            values = {
                "source_key": key,
                "size": size,
                "mtime_ns": mtime_ns,
                "state": r.LANDED,
                "active": True,
            }
            row = conn.execute(_LAND, {**values, "attempts": 0, "created_at": now, "updated_at": now}).one()
            return _object(row)

    def active_for(self, key: str) -> ObjectRecord | None:
        """The unfinished ledger row for landing key ``key``, if any."""
        with self._read("reading the ledger") as conn:
            row = conn.execute(_ACTIVE_FOR, {"key": key}).first()
        return None if row is None else _object(row)

    def transition(self, obj: ObjectRecord, state: str, **fields: Any) -> ObjectRecord:
        """Move ``obj`` from its current state to ``state``, with ``fields``, in one commit.

        Raises:
            CatalogError: ``catalog.state_conflict`` if someone else moved it first.
        """
        with self._write(f"moving {obj.source_key} to {state}") as conn:
            return self._transition(conn, obj, state, **fields)

    def _transition(self, conn: Connection, obj: ObjectRecord, state: str, **fields: Any) -> ObjectRecord:
        values: dict[str, Any] = {"state": state, "updated_at": time.time(), **fields}
        if state in r.TERMINAL:
            values["active"] = False
        row = conn.execute(_MOVE, {"where_id": obj.id, "where_state": obj.state, **values}).first()
        if row is None:
            raise CatalogError(
                f"ledger row {obj.id} for {obj.source_key} is no longer in state {obj.state}",
                code="catalog.state_conflict",
            )
        return _object(row)

    def begin_replay(self, obj: ObjectRecord) -> ObjectRecord:
        """Mark a quarantined object for replay: ``replaying``, and active again, in one commit.

        Raises:
            CatalogError: ``quarantine.busy`` while another delivery of the same key is in progress;
                ``catalog.state_conflict`` if it is no longer quarantined.
        """
        with self._write(f"replaying {obj.source_key}") as conn:
            other = conn.execute(_ACTIVE_FOR, {"key": obj.source_key}).first()
            if other is not None:
                raise CatalogError(
                    f"{obj.source_key} is being taken right now (ledger row {other.id})",
                    code="quarantine.busy",
                    hint="replay it once that delivery is done",
                )
            return self._transition(conn, obj, r.REPLAYING, active=True)

    def bump_attempts(self, obj: ObjectRecord, reason: str) -> None:
        with self._write("counting a retry") as conn:
            conn.execute(
                objects.update()
                .where(objects.c.id == obj.id)
                .values(attempts=objects.c.attempts + 1, reason=reason, updated_at=time.time())
            )

    def get_object(self, object_id: int) -> ObjectRecord | None:
        with self._read("reading the ledger") as conn:
            row = conn.execute(sa.select(objects).where(objects.c.id == object_id)).first()
        return None if row is None else _object(row)

    def active_objects(self) -> list[ObjectRecord]:
        with self._read("reading the ledger") as conn:
            rows = conn.execute(
                sa.select(objects).where(objects.c.active.is_(True)).order_by(objects.c.id)
            ).all()
        return [_object(row) for row in rows]

    def objects_in(self, states: tuple[str, ...], limit: int = 1000) -> list[ObjectRecord]:
        with self._read("reading the ledger") as conn:
            rows = conn.execute(
                sa.select(objects)
                .where(objects.c.state.in_(states))
                .order_by(objects.c.id.desc())
                .limit(limit)
            ).all()
        return [_object(row) for row in rows]
