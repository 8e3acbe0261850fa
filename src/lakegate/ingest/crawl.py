"""``lakegate crawl``: catalog the files already in a store, where they are, and keep up with them.

Nothing is moved or changed at the source: each file is read once (Parquet: its footer only;
CSV and JSON streamed by the engine, so memory stays bounded whatever their size) and
registered in place under its URL. Files the engine cannot read in place (bzip2, zip, Excel,
Windows-1252...) get a derived Parquet copy in the derived area, as ingested files do.

Re-running is incremental: a file is read again only when its size, ETag or modification time
changed; files gone from the store are unregistered (or only reported, per ``on_deleted``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from lakegate import duck
from lakegate.catalog import Catalog
from lakegate.crawler.detect import HEAD_BYTES, detect
from lakegate.crawler.infer import read_and_infer
from lakegate.crawler.normalize import write_copy
from lakegate.errors import LakegateError, Rejection, StorageError
from lakegate.ingest.crawl_layout import Layout, Placed, discover, merge, siblings
from lakegate.keys import DERIVED
from lakegate.names import identifier
from lakegate.storage import ObjectInfo, ObjectStore

BATCH = 200  # files registered per catalog transaction (while the next ones are read)


@dataclass
class TableReport:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: int = 0


@dataclass
class CrawlReport:
    database: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not data: (key, why)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (key, code, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # what reading a file put up with
    read: int = 0  # files read
    bytes_read: int = 0
    seconds: float = 0.0


def version_of(info: ObjectInfo) -> str:
    """What identifies one version of a file registered in place (its content is not hashed):
    kept in the catalog's ``sha256`` column."""
    return hashlib.sha256(f"{info.size}:{info.etag or ''}:{info.mtime_ns}".encode()).hexdigest()


def engine_url(source: ObjectStore, key: str) -> str:
    """The URL the catalog keeps for a file registered in place (``file://`` for local ones)."""
    url = source.url(key)
    return url if "://" in url else f"file://{url}"


class Crawl:
    """One crawl of ``source`` (a store rooted at the crawled prefix) into ``database``."""

    def __init__(
        self,
        catalog: Catalog,
        source: ObjectStore,
        lake: ObjectStore,
        *,
        database: str,
        level: int | None = None,
        max_tables: int = 20,
        force: bool = False,
        on_deleted: str = "unregister",
        by_schema: bool = False,
        workers: int = 0,
    ) -> None:
        self.catalog = catalog
        self.source = source
        self.lake = lake  # where derived copies go
        self.database = identifier(database) or "crawled"
        self.level = level
        self.max_tables = max_tables
        self.force = force
        self.on_deleted = on_deleted
        self.by_schema = by_schema
        # One more reader than cores: the engine's work and Python's interleave
        self.workers = workers or min(os.cpu_count() or 2, 8) + 1
        self._conn = duck.PerThread(source)  # this thread's engine for a file's size

    def plan(self) -> tuple[Layout, dict[str, ObjectInfo]]:
        """List the source and place its files in tables.

        Raises:
            LakegateError: ``crawl.too_many_tables`` when it would create more than
                ``max_tables`` new tables and ``force`` is off.
        """
        infos = {i.key: i for i in self.source.list("")}
        root = self.source.url("").rstrip("/").rsplit("/", 1)[-1]
        layout = discover([(k, i.size) for k, i in infos.items()], level=self.level, root=root)
        if self.by_schema:
            self._group_by_schema(layout, infos)
        existing = {t.name for t in self.catalog.tables() if t.database == self.database}
        new = [t for t in layout.tables if t not in existing]
        if len(new) > self.max_tables and not self.force:
            shown = ", ".join(new[:8]) + (", …" if len(new) > 8 else "")
            raise LakegateError(
                f"the crawl would create {len(new)} tables in {self.database} ({shown}); "
                f"the limit is {self.max_tables}",
                code="crawl.too_many_tables",
                hint="name the folder level that holds tables with --level N, crawl a narrower prefix, "
                "or pass --force (or a higher --max-tables) to create them all",
                details={"tables": new},
            )
        return layout, infos

    def _group_by_schema(self, layout: Layout, infos: dict[str, ObjectInfo]) -> None:
        """Sibling folders whose files have the same columns become one table (the folders its
        partition ``partition_0``), judged by the first file of each."""
        for parent, tables in siblings(layout).items():
            if identifier(parent.replace("/", "_")) in layout.tables:
                continue  # files beside the folders: they stay tables of their own
            names = set()
            for table in tables:
                first = layout.tables[table][0]
                found = self._read(table, first, infos[first.key], "", copy=False)
                if isinstance(found, Rejection):
                    break
                names.add(tuple(sorted(c.name for c in found["plan"].columns)))
            else:
                if len(names) == 1:
                    merge(layout, tables, parent)

    def run(self, progress: Callable[[int, int, int], None] | None = None) -> CrawlReport:
        """Crawl; ``progress(done, total, bytes)`` is called as files are read."""
        started = time.perf_counter()
        layout, infos = self.plan()
        report = CrawlReport(self.database, skipped=list(layout.skipped))
        todo: list[tuple[str, Placed, ObjectInfo, str]] = []  # (table, file, as listed, version)
        for table, placed in layout.tables.items():
            tr = report.tables.setdefault(table, TableReport())
            known = self.catalog.crawled_versions(self.database, table)
            urls = {engine_url(self.source, p.key) for p in placed}
            for p in placed:
                url = engine_url(self.source, p.key)
                version = version_of(infos[p.key])
                if known.get(url) == version:
                    tr.unchanged += 1
                    continue
                tr.changed += url in known
                tr.new += url not in known
                todo.append((table, p, infos[p.key], version))
            tr.removed = self._unregister(table, [u for u in known if u not in urls])
        for info in self.catalog.tables():  # tables whose every file is gone
            if info.database == self.database and info.name not in layout.tables:
                gone = list(self.catalog.crawled_versions(self.database, info.name))
                if gone:
                    report.tables.setdefault(info.name, TableReport()).removed = self._unregister(
                        info.name, gone
                    )
        done = 0
        total = len(todo)
        batch: dict[str, list[dict[str, Any]]] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="lakegate-crawl") as pool:
            for (table, p, _info, _version), found in zip(
                todo, pool.map(lambda t: self._read(*t), todo), strict=True
            ):
                done += 1
                report.read += 1
                report.bytes_read += infos[p.key].size
                if isinstance(found, Rejection):
                    report.tables[table].rejected += 1
                    report.rejected.append((p.key, found.code, found.message))
                else:
                    report.warnings += [(p.key, w) for w in found["warnings"]]
                    batch.setdefault(table, []).append(found)
                    if len(batch[table]) >= BATCH:
                        self._register(table, batch.pop(table))
                if progress:
                    progress(done, total, report.bytes_read)
        for table, entries in batch.items():
            self._register(table, entries)
        report.seconds = time.perf_counter() - started
        return report

    def _unregister(self, table: str, urls: list[str]) -> int:
        """Files their owner deleted: unregistered (``on_deleted: unregister``) or only counted."""
        if urls and self.on_deleted == "unregister":
            for key in self.catalog.unregister_crawled(self.database, table, urls):
                self.lake.delete(key)
        return len(urls)

    def _register(self, table: str, entries: list[dict[str, Any]]) -> None:
        location = entries[0]["location"]
        self.catalog.register_crawled(self.database, table, location, entries)

    def _read(
        self, table: str, placed: Placed, info: ObjectInfo, version: str, *, copy: bool = True
    ) -> dict[str, Any] | Rejection:
        """Infer one file (``info`` as listed); what the catalog registers, or why it cannot be.
        ``copy``: write the derived copy a file the engine cannot read in place needs."""
        key = placed.key
        try:
            try:
                head = self.source.read_range(key, 0, HEAD_BYTES)
                # the tail matters to Parquet only (its footer's magic)
                parquet = head.startswith(b"PAR1") and info.size > 16
                tail = self.source.read_range(key, info.size - 16, 16) if parquet else b""
            except StorageError as exc:
                if exc.code != "storage.not_found":
                    raise
                raise Rejection("the file disappeared during the crawl", code="reject.vanished") from None
            detected = detect(head, tail, info.size)
            url = engine_url(self.source, key)
            conn = self._conn(info.size)
            opener = lambda: self.source.open(key)  # noqa: E731
            with ExitStack() as stack:
                ready, plan = read_and_infer(
                    stack, conn, url.removeprefix("file://"), detected, info.size, source=opener
                )
                path = ready.path
                clash = [c.original for c in plan.columns if c.name in dict(placed.partition)]
                if clash:
                    raise Rejection(
                        f"the file has a column named like its partition folder: {', '.join(clash)}",
                        code="reject.partition_column_clash",
                        hint="crawl with --level so that folder is part of the table, or rename the column",
                    )
                derived = ""
                if ready.reason and copy:
                    derived = f"{DERIVED}_crawled/{self.database}/{table}/{version[:16]}.parquet"
                    write_copy(conn, path, plan, self.lake, derived)
        except Rejection as rejection:
            return rejection
        except LakegateError as exc:
            return Rejection(str(exc), code=exc.code)
        root = engine_url(self.source, "").rstrip("/")
        location = f"{root}/{placed.table_path}" if placed.table_path else root
        return {
            "url": url,
            "size": info.size,
            "version": version,
            "plan": plan,
            "partition": dict(placed.partition),
            "partition_path": "/".join(f"{k}={v}" for k, v in placed.partition),
            "location": location,
            "derived": derived,
            "warnings": ready.notes + plan.warnings,
        }
