"""The leader: the one node that runs housekeeping meant to run once (archive settling and
retention, sweeping derived copies, acceleration).

On PostgreSQL the leader holds a session advisory lock on a connection of its own: when the
node dies, its connection ends and the lock with it, and another node takes it at its next
look. A SQLite catalog has one node, which leads.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lakegate.catalog import Catalog
from lakegate.catalog.database import lock_key

logger = logging.getLogger(__name__)


class Leadership:
    def __init__(self, catalog: Catalog, name: str = "housekeeping") -> None:
        self.catalog = catalog
        self.key = lock_key(name)
        self._conn: Connection | None = None
        self._leads = catalog.is_sqlite
        self._lock = threading.Lock()

    @property
    def leads(self) -> bool:
        return self._leads

    def check(self) -> bool:
        """Take the lead if nobody has it; make sure it is still held if this node has it."""
        if self.catalog.is_sqlite:
            return True
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self.catalog.engine.connect()
                if self._leads:
                    self._conn.execute(sa.text("SELECT 1"))  # the lock lives as long as this connection
                else:
                    got = self._conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                    ).scalar()
                    self._leads = bool(got)
                    if self._leads:
                        logger.info("this node now leads housekeeping")
                self._conn.commit()
            except sa.exc.SQLAlchemyError as exc:
                if self._leads:
                    logger.warning("this node no longer leads housekeeping: %s", str(exc).splitlines()[0])
                self._drop()
        return self._leads

    def _drop(self) -> None:
        self._leads = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None

    def release(self) -> None:
        with self._lock:
            if self._conn is not None and self._leads:
                try:
                    self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self._conn.commit()
                except sa.exc.SQLAlchemyError:
                    pass
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._leads = self.catalog.is_sqlite
