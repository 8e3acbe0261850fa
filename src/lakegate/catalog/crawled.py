"""Files registered in place by ``lakegate crawl``."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from lakegate.catalog.database import touch
from lakegate.catalog.model import (
    files,
)
from lakegate.catalog.registering import Registering, _fingerprint


class CrawledFiles(Registering):
    """Files registered where they lie (``lakegate crawl``), kept in step with their store."""

    def crawled_versions(self, database: str, table: str) -> dict[str, str]:
        """The files of a table registered in place: their URL and version."""
        with self._read(f"reading {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return {}
            found = conn.execute(
                sa.select(files.c.key, files.c.sha256).where(
                    files.c.table_id == table_id, files.c.key.contains("://")
                )
            ).all()
            return {str(k): str(v) for k, v in found}

    def register_crawled(
        self, database: str, table: str, location: str, entries: list[dict[str, Any]]
    ) -> None:
        """Register files in place, in one transaction, replacing earlier versions of them.

        Each entry: ``url``, ``size``, ``version``, ``plan`` (a ``FilePlan``), ``partition``,
        ``partition_path``, ``derived`` (a derived copy's key, or ``""``). A file whose schema
        the table cannot take (never: a crawl takes what is there, ``loose``) is left out and
        its error raised.
        """
        now = time.time()
        with self._write(f"registering {len(entries)} files in {database}.{table}") as conn:
            table_id = self._table_row(conn, database, table, location, now)
            urls = [e["url"] for e in entries]
            replaced = set(
                conn.execute(
                    sa.select(files.c.partition_id).where(files.c.table_id == table_id, files.c.key.in_(urls))
                ).scalars()
            )
            gone = conn.execute(files.delete().where(files.c.table_id == table_id, files.c.key.in_(urls)))
            generation = touch(conn, table_id, removed=gone.rowcount > 0)
            rows = []
            admitted: set[tuple[Any, ...]] = set()  # schemas the table already took in this batch
            part_ids: dict[str, int] = {}
            for e in entries:
                plan = e["plan"]
                shape = (tuple((c.name, c.type) for c in plan.columns), tuple(e["partition"]))
                if shape not in admitted:
                    self._evolve(
                        conn, table_id, plan.columns, e["partition"], policy="loose", cause=e["url"], now=now
                    )
                    admitted.add(shape)
                path = e["partition_path"]
                if path not in part_ids:
                    part_ids[path] = self._partition_id(conn, table_id, path, e["partition"], now)
                part_id = part_ids[path]
                rows.append(
                    {
                        "table_id": table_id,
                        "partition_id": part_id,
                        "key": e["url"],
                        "delivered_as": e["url"],
                        "size": e["size"],
                        "sha256": e["version"],
                        "row_count": plan.rows,
                        "row_hash": plan.row_hash,
                        "schema_fingerprint": _fingerprint(plan.columns),
                        "format": plan.format,
                        "options": plan.options,
                        "columns": [c.as_dict() for c in plan.columns],
                        "stats": plan.stats,
                        "derived_key": e["derived"] or None,
                        "derived_state": "current" if e["derived"] else None,
                        "created_at": now,
                        "changed_in": generation,
                    }
                )
            conn.execute(files.insert(), rows)
            self._drop_empty_partitions(conn, replaced)

    def unregister_crawled(self, database: str, table: str, urls: list[str]) -> list[str]:
        """Take files registered in place out of their table (their owner deleted them); the keys
        of their derived copies, which can go too."""
        with self._write(f"unregistering {len(urls)} files of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return []
            gone = conn.execute(
                sa.select(files.c.partition_id, files.c.derived_key).where(
                    files.c.table_id == table_id, files.c.key.in_(urls)
                )
            ).all()
            conn.execute(files.delete().where(files.c.table_id == table_id, files.c.key.in_(urls)))
            self._drop_empty_partitions(conn, {g.partition_id for g in gone})
            touch(conn, table_id, removed=True)
            return [g.derived_key for g in gone if g.derived_key]
