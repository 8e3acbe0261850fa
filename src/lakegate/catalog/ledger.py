"""The object ledger: every landed object and the state it is in, and which node holds it.

Several nodes share one ledger. A node takes an object by claiming its row (``land``,
``claim``): the row is locked with ``FOR UPDATE SKIP LOCKED`` (a node never waits for another),
and the claim holds while its lease runs — the node renews the leases of all it holds
(``renew_claims``); a lease that ran out (the node died) may be taken over by any node. Each
claim has a number (``claim_epoch``), and every transition requires the number it was read
under: a node whose claim was taken over can no longer move the object (``catalog.claim_lost``).
At most one row per landing key is active (a partial unique index), so two nodes seeing one
new object record it once.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from lakegate.catalog import records as r
from lakegate.catalog.database import CatalogDatabase
from lakegate.catalog.model import (
    objects,
)
from lakegate.catalog.records import (
    Claimant,
    ObjectRecord,
)
from lakegate.errors import CatalogError

# The ledger's hot statements, built once: building a statement costs more CPU than running it.
_ACTIVE_FOR = sa.select(objects).where(
    objects.c.source_key == sa.bindparam("key"), objects.c.active.is_(True)
)


# The active row of a key, locked for a claim unless another node is claiming it right now.
_LOCK_ACTIVE = _ACTIVE_FOR.with_for_update(skip_locked=True)
_LOCK_ROW = (
    sa.select(objects)
    .where(objects.c.id == sa.bindparam("id"), objects.c.active.is_(True))
    .with_for_update(skip_locked=True)
)

_MOVE = (
    objects.update()
    .where(
        objects.c.id == sa.bindparam("where_id"),
        objects.c.state == sa.bindparam("where_state"),
        objects.c.claim_epoch == sa.bindparam("where_epoch"),
    )
    .returning(*objects.c)
)

_TAKE = objects.update().where(objects.c.id == sa.bindparam("where_id")).returning(*objects.c)


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
        claimed_by=row.claimed_by,
        claim_epoch=row.claim_epoch,
    )


def _free(row: Row[Any], by: Claimant, now: float) -> bool:
    """Whether ``by`` may claim ``row``: nobody holds it, ``by`` does, or its lease ran out."""
    return row.claimed_by is None or row.claimed_by == by.node or (row.lease_until or 0.0) < now


def _claim_values(row: Row[Any], by: Claimant, now: float) -> dict[str, Any]:
    return {
        "claimed_by": by.node,
        "claimed_at": now,
        "claim_epoch": row.claim_epoch + 1,
        "lease_until": now + by.lease_seconds,
    }


class Ledger(CatalogDatabase):
    """The object ledger: every landed object's state, moved one compare-and-set at a time."""

    @functools.cached_property
    def _land_new(self) -> Any:
        """Insert a key's active row unless it has one (then nothing: the claim takes that one)."""
        insert = sqlite_insert(objects) if self.is_sqlite else pg_insert(objects)
        return insert.on_conflict_do_nothing(
            index_elements=[objects.c.source_key], index_where=sa.text("active")
        ).returning(*objects.c)

    def land(self, key: str, size: int, mtime_ns: int, by: Claimant) -> ObjectRecord | None:
        """The active ledger row for a landing object, created in state ``landed`` if new, and
        claimed by ``by``; None when another node holds it (or is claiming it this instant)."""
        now = time.time()
        with self._write("recording a landed object") as conn:
            values = {
                "source_key": key,
                "size": size,
                "mtime_ns": mtime_ns,
                "state": r.LANDED,
                "active": True,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
                "claimed_by": by.node,
                "claimed_at": now,
                "claim_epoch": 1,
                "lease_until": now + by.lease_seconds,
            }
            row = conn.execute(self._land_new, values).first()
            if row is not None:
                return _object(row)
            row = conn.execute(_LOCK_ACTIVE, {"key": key}).first()
            if row is None or not _free(row, by, now):
                return None
            taken = _claim_values(row, by, now)
            if row.state == r.LANDED and (row.size, row.mtime_ns) != (size, mtime_ns):
                taken.update(size=size, mtime_ns=mtime_ns, updated_at=now)
            return _object(conn.execute(_TAKE, {"where_id": row.id, **taken}).one())

    def claim(self, obj: ObjectRecord, by: Claimant) -> ObjectRecord | None:
        """``obj``'s row, claimed by ``by``, as it is now; None when it is final or another node
        holds it."""
        now = time.time()
        with self._write(f"claiming {obj.source_key}") as conn:
            row = conn.execute(_LOCK_ROW, {"id": obj.id}).first()
            if row is None or not _free(row, by, now):
                return None
            return _object(conn.execute(_TAKE, {"where_id": row.id, **_claim_values(row, by, now)}).one())

    def renew_claims(self, by: Claimant) -> int:
        """Extend the lease of every object ``by`` holds; how many it holds."""
        now = time.time()
        with self._write("renewing claims", durable=False) as conn:
            done = conn.execute(
                objects.update()
                .where(objects.c.claimed_by == by.node, objects.c.active.is_(True))
                .values(lease_until=now + by.lease_seconds)
            )
        return int(done.rowcount or 0)

    def release_claims(self, node: str) -> int:
        """End the leases of what ``node`` holds (it stops): other nodes take them over now."""
        with self._write("releasing claims") as conn:
            done = conn.execute(
                objects.update()
                .where(objects.c.claimed_by == node, objects.c.active.is_(True))
                .values(lease_until=0.0)
            )
        return int(done.rowcount or 0)

    def claimable(self, by: Claimant, limit: int = 1000) -> list[ObjectRecord]:
        """Unfinished objects ``by`` may take: its own, and those whose lease ran out."""
        now = time.time()
        with self._read("reading the ledger") as conn:
            rows = conn.execute(
                sa.select(objects)
                .where(
                    objects.c.active.is_(True),
                    sa.or_(
                        objects.c.claimed_by.is_(None),
                        objects.c.claimed_by == by.node,
                        sa.func.coalesce(objects.c.lease_until, 0.0) < now,
                    ),
                )
                .order_by(objects.c.id)
                .limit(limit)
            ).all()
        return [_object(row) for row in rows]

    def active_for(self, key: str) -> ObjectRecord | None:
        """The unfinished ledger row for landing key ``key``, if any."""
        with self._read("reading the ledger") as conn:
            row = conn.execute(_ACTIVE_FOR, {"key": key}).first()
        return None if row is None else _object(row)

    def latest_for(self, key: str) -> ObjectRecord | None:
        """The newest ledger row for landing key ``key``, finished or not."""
        with self._read("reading the ledger") as conn:
            row = conn.execute(
                sa.select(objects).where(objects.c.source_key == key).order_by(objects.c.id.desc()).limit(1)
            ).first()
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
        where = {"where_id": obj.id, "where_state": obj.state, "where_epoch": obj.claim_epoch}
        row = conn.execute(_MOVE, {**where, **values}).first()
        if row is not None:
            return _object(row)
        now = conn.execute(
            sa.select(objects.c.state, objects.c.claimed_by).where(objects.c.id == obj.id)
        ).first()
        if now is not None and now.state == obj.state:
            raise CatalogError(
                f"ledger row {obj.id} for {obj.source_key} was taken over by node {now.claimed_by}",
                code="catalog.claim_lost",
                hint="this node's lease ran out (was it paused or cut off from the catalog?); "
                "the node that took it over finishes it",
            )
        raise CatalogError(
            f"ledger row {obj.id} for {obj.source_key} is no longer in state {obj.state}",
            code="catalog.state_conflict",
        )

    def begin_replay(self, obj: ObjectRecord, by: Claimant) -> ObjectRecord:
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
            now = time.time()
            claim = {"claimed_by": by.node, "claimed_at": now, "lease_until": now + by.lease_seconds,
                     "claim_epoch": obj.claim_epoch + 1}  # fmt: skip
            return self._transition(conn, obj, r.REPLAYING, active=True, **claim)

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
