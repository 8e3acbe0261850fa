"""The archive area: lake files taken out of their tables, kept until an explicit purge.

The catalog takes a file out of its table first (in the same transaction as whatever caused
it: a replacing delivery, retention, ``lakegate drop``), recording it as ``archiving``. Only
then is the object moved: copied to ``archive/<day>/...``, verified by its SHA-256, and deleted
from the lake. Every step can be redone, so a crash in between is finished by ``settle()``,
which ``lakegate up`` runs at start.
"""

from __future__ import annotations

import logging
import time

from lakegate.catalog import Catalog
from lakegate.catalog.records import ARCHIVED, ARCHIVING, MISSING_FILE, PURGED_FILE, ArchivedFile, TableInfo
from lakegate.errors import StorageError
from lakegate.ingest import faults
from lakegate.ingest.routing import Router
from lakegate.keys import derived_key
from lakegate.storage import ObjectStore

logger = logging.getLogger(__name__)

KEPT = (ARCHIVING, ARCHIVED, "purging", MISSING_FILE)  # every state but purged


class Archive:
    def __init__(self, catalog: Catalog, store: ObjectStore) -> None:
        self.catalog = catalog
        self.store = store

    def settle(self, object_id: int | None = None) -> int:
        """Finish moving files the catalog took out of their tables (only ``object_id``'s, if given)."""
        moved = 0
        for row in self.catalog.archived((ARCHIVING,)):
            if object_id is None or row.object_id == object_id:
                self.catalog.set_archive_state(row.id, ARCHIVED if self._move(row) else MISSING_FILE)
                moved += 1
        return moved

    def _sha(self, key: str) -> str | None:
        try:
            return self.store.sha256(key)
        except StorageError as exc:
            if exc.code == "storage.not_found":
                return None
            raise

    def _move(self, row: ArchivedFile) -> bool:
        """Copy, verify, delete; False when the file is in neither place."""
        if self._sha(row.archive_key) != row.sha256:
            try:
                self.store.copy(row.lake_key, row.archive_key)
            except StorageError as exc:
                if exc.code != "storage.not_found":
                    raise
                logger.error("archiving %s: it is gone from the lake and not in the archive", row.lake_key)
                return False
            if self._sha(row.archive_key) != row.sha256:
                self.store.delete(row.archive_key)
                raise StorageError(
                    f"the archive copy of {row.lake_key} does not match it (another file is at that key now)",
                    code="storage.verify",
                    hint="the file stays in the lake; see `lakegate archive list`",
                )
        faults.checkpoint("archive_copied")
        if self._sha(row.lake_key) == row.sha256:
            self.store.delete(row.lake_key)
        self.store.delete(derived_key(row.lake_key, row.sha256))  # a copy, if it had one, goes
        return True

    def purge(self, row: ArchivedFile) -> None:
        """Delete an archived file for good (recorded first, so a crash mid-purge is finished by
        purging again)."""
        if row.state == ARCHIVING:
            self._move(row)
        self.catalog.set_archive_state(row.id, "purging")
        self.store.delete(row.archive_key)
        self.catalog.set_archive_state(row.id, PURGED_FILE)

    def expired(self, router: Router, now: float | None = None) -> list[tuple[str, TableInfo, list[str]]]:
        """Partitions past their dataset's ``retention_days``: (dataset, table, partition paths)."""
        now = time.time() if now is None else now
        found = []
        for dataset in router.datasets:
            if dataset.retention_days is None:
                continue
            cutoff = now - dataset.retention_days * 86400
            for table in self.catalog.tables():
                if dataset.may_hold(table.database, table.name):
                    stale = self.catalog.stale_partitions(table.database, table.name, cutoff)
                    if stale:
                        found.append((dataset.name, table, stale))
        return found

    def expire(self, router: Router, now: float | None = None) -> dict[str, int]:
        """Archive partitions past their dataset's ``retention_days``; files archived per table."""
        done: dict[str, int] = {}
        for dataset, table, stale in self.expired(router, now):
            days = next(d.retention_days for d in router.datasets if d.name == dataset)
            reason = f"retention of dataset {dataset!r}: no new file for {days} days"
            count = self.catalog.archive_partitions(table.database, table.name, stale, reason)
            done[table.qualified] = done.get(table.qualified, 0) + count
        self.settle()
        return done
