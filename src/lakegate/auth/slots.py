"""Workgroup turns shared by every node on one catalog, so that a workgroup's ``max_concurrent``
and ``max_queued`` hold for the whole cluster, not per node.

A query that runs, or waits for its turn, holds a row in ``query_slots`` with a lease; its node
renews the leases of all its rows (``renew``, on every heartbeat). The rows of a workgroup are
counted and changed under a transaction-scoped PostgreSQL advisory lock of that workgroup, so
two nodes never both take the last turn. Waiting queries are admitted in the order they came,
whichever node they came to; each looks again every ``POLL_SECONDS`` (at once when a turn ends
on its own node). A node that dies stops renewing: its rows lapse after one lease and the turns
they held go to the others.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lakegate.auth.workgroups import Workgroup, queue_full, waited_too_long
from lakegate.catalog import Catalog
from lakegate.catalog.database import lock_key
from lakegate.catalog.model import query_slots
from lakegate.errors import LakegateError

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
_LOCK_CLASS = (lock_key("workgroup-turns") & 0xFFFFFFFF) - 2**31  # a two-key lock's first key (int4)


class SharedAdmission:
    """Turns for ``node``'s queries, counted over every node's (same ``turn`` as ``Admission``).

    Raises QueryError ``query.too_many`` when a workgroup's queue is full across the nodes, and
    ``query.timeout`` when a query waited its whole timeout for a turn.
    """

    def __init__(self, catalog: Catalog, node: str, lease_seconds: float) -> None:
        self.catalog = catalog
        self.node = node
        self.lease_seconds = lease_seconds
        self._ended = threading.Condition()  # a turn of this node ended: waiting ones look again

    @contextmanager
    def turn(self, group: Workgroup) -> Iterator[float]:
        """Wait for a turn for ``group``; yields the seconds spent queued."""
        slot = uuid.uuid4().hex
        started = time.monotonic()
        deadline = started + group.timeout_seconds
        try:
            admitted = self._ask(slot, group)
            while not admitted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise waited_too_long(group)
                with self._ended:
                    self._ended.wait(min(POLL_SECONDS, left))
                admitted = self._ask(slot, group)
        except BaseException:
            self._free(slot)
            raise
        try:
            yield time.monotonic() - started
        finally:
            self._free(slot)
            with self._ended:
                self._ended.notify_all()

    def renew(self) -> None:
        """Extend the leases of this node's slots (the heartbeat calls it every fifth of a lease)."""
        with self.catalog.writing("renewing query slots", durable=False) as conn:
            conn.execute(
                query_slots.update()
                .where(query_slots.c.node == self.node)
                .values(lease_until=time.time() + self.lease_seconds)
            )

    def _ask(self, slot: str, group: Workgroup) -> bool:
        """Whether ``slot`` may run now; queued (last) if it is not in the queue yet — or no
        longer: its lease lapsed while this node was cut off from the catalog."""
        name = group.name
        with self.catalog.writing("taking a workgroup turn", durable=False) as conn:
            self._lock(conn, name)
            now = time.time()
            conn.execute(
                query_slots.delete().where(query_slots.c.workgroup == name, query_slots.c.lease_until < now)
            )
            rows = conn.execute(
                sa.select(query_slots.c.id, query_slots.c.waiting)
                .where(query_slots.c.workgroup == name)
                .order_by(query_slots.c.since, query_slots.c.id)
            ).all()
            running = sum(1 for r in rows if not r.waiting)
            waiting = [r.id for r in rows if r.waiting]
            if slot in waiting:
                if running + waiting.index(slot) >= group.max_concurrent:
                    return False
                conn.execute(
                    query_slots.update()
                    .where(query_slots.c.id == slot)
                    .values(waiting=False, lease_until=now + self.lease_seconds)
                )
                return True
            admitted = running + len(waiting) < group.max_concurrent
            if not admitted and len(waiting) >= group.max_queued:
                raise queue_full(group)
            conn.execute(
                query_slots.insert().values(
                    id=slot, workgroup=name, node=self.node, waiting=not admitted, since=now,
                    lease_until=now + self.lease_seconds,
                )
            )  # fmt: skip
            return admitted

    def _lock(self, conn: Connection, workgroup: str) -> None:
        if not self.catalog.is_sqlite:  # SQLite: one writer at a time already
            key = zlib.crc32(workgroup.encode()) - 2**31
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": _LOCK_CLASS, "k": key})

    def _free(self, slot: str) -> None:
        try:
            with self.catalog.writing("giving back a workgroup turn", durable=False) as conn:
                conn.execute(query_slots.delete().where(query_slots.c.id == slot))
        except LakegateError as exc:  # its lease runs out instead
            logger.warning("could not give back a workgroup turn: %s", exc.one_line())
