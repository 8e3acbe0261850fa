"""Acceleration: a verified Parquet copy of every cataloged CSV and JSON file, made in the
background, which queries read instead of re-parsing the delivered file every time.

A file is queryable the moment it is cataloged (read in place); moments later its copy is
written — read with exactly the reader and options queries use, typed as the file's columns —
to the derived area, checked against the delivered file (row count and an order-independent
hash of every row), and only then recorded in the catalog, for as long as the file is unchanged
(``catalog/acceleration.py``). Queries switch per file, so a table mixes both during the switch
and results are the same either way. Copies are disposable: ``lakegate accelerate --rebuild``
forgets and rewrites them. It runs with the ingest identity, never the query engine's.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from lakegate.catalog import Catalog
from lakegate.catalog import acceleration as a
from lakegate.config import Settings
from lakegate.crawler.stats import row_hash_sql
from lakegate.duck import connect
from lakegate.duck.readers import COPY_OPTIONS, COPY_ROW_GROUP, FilePlan, plan_select
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.errors import LakegateError
from lakegate.ingest.retext import Retexter
from lakegate.keys import DERIVED, MEMBER, compacted_key, derived_key
from lakegate.storage import ObjectStore
from lakegate.storage.base import local_path, upload

log = logging.getLogger(__name__)
SWEEP_SECONDS = 600.0  # how often lakegate up looks for derived copies no file points to
YIELD_SECONDS = 10.0  # the longest a copy waits for deliveries being taken


@dataclass(frozen=True)
class Converted:
    """What became of one file: ``accelerated`` (its copy is in use), ``changed`` (the file was
    replaced or removed meanwhile; the copy was deleted), ``failed`` (left in place, ``reason``)."""

    key: str
    outcome: str
    seconds: float
    rows: int = 0
    bytes: int = 0
    reason: str = ""


class VerificationError(LakegateError):
    code = "accelerate.mismatch"


ROW_GROUP = COPY_ROW_GROUP  # rows per row group of a copy
SMALL_FILE = 1024**2  # delivered files up to this size are compacted with others of their partition
COMPACT_AT = 16  # small files with copies of their own in one partition before they are compacted
COMPACT_MOST = 2048  # files in one compacted copy


def _copy(conn: duckdb.DuckDBPyConnection, select: str, path: str) -> None:
    conn.execute(f"COPY ({select}) TO {sql_literal(path)} {COPY_OPTIONS}")


def _fingerprint(conn: Any, select: str, columns: list[str]) -> tuple[int, int]:
    """Row count and the sum of every row's hash: equal for the same rows in any order."""
    found = conn.execute(f"SELECT count(*), {row_hash_sql(columns)} FROM ({select})").fetchone()
    return int(found[0]), int(found[1])


_SOURCE = "__lakegate_source"  # the column naming the copy a row was read from


def _write_compacted(conn: Any, members: dict[str, a.Copied], path: str) -> None:
    """Write the rows of every member's copy (by its URL) to ``path``, each marked with its lake
    file in ``MEMBER``; verify each member's rows (count and order-independent hash) against its
    own copy and its catalog row count."""
    names = [c.name for c in next(iter(members.values())).columns]
    urls = ", ".join(sql_literal(u) for u in members)
    source = f"read_parquet([{urls}], filename={sql_literal(_SOURCE)})"
    marks = ", ".join(f"({sql_literal(u)}, {sql_literal(m.key)})" for u, m in members.items())
    member, origin = quote_ident(MEMBER), quote_ident(_SOURCE)
    rows = (
        f"SELECT p.* EXCLUDE ({origin}), m.member AS {member} FROM {source} p "
        f"JOIN (VALUES {marks}) m(url, member) ON p.{origin} = m.url"
    )
    conn.execute(f"COPY ({rows} ORDER BY {member}) TO {sql_literal(path)} {COPY_OPTIONS}")
    fingerprint = f"count(*), {row_hash_sql(names)}"
    expected = conn.execute(f"SELECT {origin}, {fingerprint} FROM {source} GROUP BY 1").fetchall()
    copied = f"read_parquet({sql_literal(path)})"
    got = conn.execute(f"SELECT {member}, {fingerprint} FROM {copied} GROUP BY 1").fetchall()
    by_member = {members[u].key: (int(n), int(h)) for u, n, h in expected}
    if {k: (int(n), int(h)) for k, n, h in got} != by_member or any(
        by_member.get(m.key, (-1, 0))[0] != m.row_count for m in members.values()
    ):
        raise VerificationError(f"the compacted copy of {len(members)} files does not match them")


class Accelerator:
    """Writes, verifies and records acceleration copies; ``start()`` runs it in the background."""

    def __init__(
        self,
        catalog: Catalog,
        store: ObjectStore,
        settings: Callable[[], Settings],
        *,
        threads: int | Callable[[], int] = 1,  # a callable: asked before each copy
        memory_limit: str = "1GB",
        poll_seconds: float = 30.0,  # a fallback: every accepted file wakes it at once
        may_run: Callable[[], bool] = lambda: True,  # whether this node leads the housekeeping
        # whether deliveries are being taken: a copy then waits for them (at most
        # ``YIELD_SECONDS``), so that on a few cores files become queryable first
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.may_run = may_run
        self.busy = busy
        self.catalog = catalog
        self.store = store  # the areas: lake files are read, derived copies written, here
        self.settings = settings  # the settings in force (lakegate.yaml reloads)
        self._threads = threads if callable(threads) else lambda: threads
        self.memory_limit = memory_limit
        self.poll_seconds = poll_seconds
        self._failed: set[tuple[int, str]] = set()  # (file id, sha) left in place: not tried again
        self._converting: Any = None  # the DuckDB connection of the copy being written
        self.retexter = Retexter(catalog, store, memory_limit=memory_limit)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what to accelerate -------------------------------------------------------------------

    def wanted(self, candidate: a.Candidate) -> bool:
        """Whether the file's dataset (or the default) says ``accelerate: parquet``."""
        settings = self.settings()
        choice = settings.ingest.accelerate
        for dataset in settings.datasets:
            if dataset.name == candidate.dataset and dataset.accelerate is not None:
                choice = dataset.accelerate
        readable = "://" not in candidate.key or candidate.key.startswith("file://")
        return choice == "parquet" and readable and (candidate.id, candidate.sha256) not in self._failed

    def pending(self, limit: int = 16) -> list[a.Candidate]:
        settings = self.settings()
        if settings.ingest.accelerate == "off" and all(d.accelerate != "parquet" for d in settings.datasets):
            return []  # nothing is accelerated: no need to look
        out: list[a.Candidate] = []
        after = 0
        while len(out) < limit:
            found = a.candidates(self.catalog, after=after, limit=limit * 4)
            if not found:
                break
            out += [c for c in found if self.wanted(c)]
            after = found[-1].id
        return out[:limit]

    # -- one file ------------------------------------------------------------------------------

    def convert(self, candidate: a.Candidate) -> Converted:
        """Write, verify and record the copy of one file."""
        started = time.perf_counter()
        # its own name: another accelerator (`lakegate accelerate` beside `lakegate up`) copying
        # the same file writes elsewhere, and the one not recorded deletes only its own
        key = (
            derived_key(candidate.key, candidate.sha256).removesuffix(".parquet")
            + f".{secrets.token_hex(4)}.parquet"
        )
        try:
            rows, size, sha = self._write_verified(candidate, key)
        except (LakegateError, OSError, duckdb.Error) as exc:
            self._failed.add((candidate.id, candidate.sha256))
            reason = exc.message if isinstance(exc, LakegateError) else str(exc).split("\n")[0]
            log.warning("%s stays read in place: %s", candidate.key, reason)
            return Converted(candidate.key, "failed", time.perf_counter() - started, reason=reason)
        if not a.record(self.catalog, candidate, key, sha):
            self.store.delete(key)  # replaced or removed while it was copied: never used
            return Converted(candidate.key, "changed", time.perf_counter() - started)
        return Converted(candidate.key, "accelerated", time.perf_counter() - started, rows, size)

    def _write_verified(self, candidate: a.Candidate, key: str) -> tuple[int, int, str]:
        plan = FilePlan(candidate.format, candidate.options, candidate.columns, candidate.row_count)
        names = [c.name for c in candidate.columns]
        conn = self._converting = connect(threads=self._threads(), memory_limit=self.memory_limit)
        with tempfile.TemporaryDirectory(prefix="lakegate-accelerate-") as work:
            try:
                source = local_path(self.store, candidate.key, Path(work))
                copy = f"{work}/copy.parquet"
                original = plan_select(source, plan)
                _copy(conn, original, copy)
                got = _fingerprint(conn, f"SELECT * FROM read_parquet({sql_literal(copy)})", names)
                # the file's own, from the read that cataloged it; read again only when unknown
                # or different (the catalog's plan may have changed since: widened, retyped)
                known = candidate.row_hash
                expected = (candidate.row_count, int(known)) if known else None
                if expected != got:
                    expected = _fingerprint(conn, original, names)
            finally:
                self._converting = None
                conn.close()
            if got != expected or expected[0] != candidate.row_count:
                raise VerificationError(
                    f"the Parquet copy of {candidate.key} does not match it: {got[0]} rows and hash "
                    f"{got[1]}, the file {expected[0]} rows (catalog: {candidate.row_count}) and hash "
                    f"{expected[1]}",
                    hint="the file stays read in place; `lakegate accelerate --rebuild` tries again",
                )
            size, sha = upload(self.store, key, copy)
        return expected[0], size, sha

    # -- all of them ---------------------------------------------------------------------------

    def run_pending(self, limit: int | None = None) -> list[Converted]:
        """Convert what waits (at most ``limit`` files), oldest first; then (without a limit)
        compact partitions of many small copies."""
        for retexted in self.retexter.run():  # copies a file needs, whatever `accelerate` says
            if retexted.failed:
                log.warning(
                    "%s: the copy of %s stays typed: %s", retexted.table, retexted.key, retexted.failed
                )
        done: list[Converted] = []
        waited_out = False  # deliveries outlasted a wait: this round no longer waits
        while limit is None or len(done) < limit:
            batch = self.pending(16 if limit is None else min(16, limit - len(done)))
            if not batch or self._stop.is_set():
                break
            for candidate in batch:
                if not waited_out:
                    waited_out = not self._yield_to_deliveries()
                done.append(self.convert(candidate))
        if limit is None:
            done += self.compact()
        return done

    # -- many small files: one copy --------------------------------------------------------------

    def compact(self) -> list[Converted]:
        """Where a partition has at least ``COMPACT_AT`` small files read through copies of their
        own, write one copy of them all (each row marked with its file), verify it file by file,
        and make it the copy of each — all or none. Queries then read one file, not hundreds: a
        flood of small deliveries costs queries a bounded number of reads. The copies of their own
        are left to the sweep (a query may be reading them)."""
        groups: dict[tuple[int, str, str], list[a.Copied]] = {}
        for copied in a.small_copies(self.catalog, SMALL_FILE):
            shape = json.dumps([(c.name, c.type) for c in copied.columns])
            groups.setdefault((copied.table_id, copied.key.rsplit("/", 1)[0], shape), []).append(copied)
        done: list[Converted] = []
        for (_table, folder, _shape), members in groups.items():
            for start in range(0, len(members) - COMPACT_AT + 1, COMPACT_MOST):
                if self._stop.is_set():
                    return done
                done.append(self._compact(folder, members[start : start + COMPACT_MOST]))
        return done

    def _compact(self, folder: str, members: list[a.Copied]) -> Converted:
        started = time.perf_counter()
        key = compacted_key(folder + "/", secrets.token_hex(6))
        conn = self._converting = connect(threads=self._threads(), memory_limit=self.memory_limit)
        try:
            with tempfile.TemporaryDirectory(prefix="lakegate-compact-") as work:
                copy = f"{work}/compacted.parquet"
                here = Path(work)
                local = {
                    local_path(self.store, m.derived_key, here, f"{i}.parquet"): m
                    for i, m in enumerate(members)
                }
                _write_compacted(conn, local, copy)
                _size, sha = upload(self.store, key, copy)
        except (LakegateError, OSError, duckdb.Error) as exc:
            reason = exc.message if isinstance(exc, LakegateError) else str(exc).split("\n")[0]
            log.warning("the small files in %s stay read one by one: %s", folder, reason)
            return Converted(folder, "failed", time.perf_counter() - started, reason=reason)
        finally:
            self._converting = None
            conn.close()
        if not a.record_compacted(self.catalog, members, key, sha):
            self.store.delete(key)  # one of them changed meanwhile: the next round tries again
            return Converted(folder, "changed", time.perf_counter() - started)
        rows = sum(m.row_count for m in members)
        return Converted(folder, "compacted", time.perf_counter() - started, rows, len(members))

    def _yield_to_deliveries(self) -> bool:
        """Wait while deliveries are being taken, at most ``YIELD_SECONDS``: the cores go to
        making them queryable. Whether they were done in time; when not (a steady stream of
        them), the round's copies go on without waiting again, so copies keep pace."""
        deadline = time.monotonic() + YIELD_SECONDS
        while self.busy() and time.monotonic() < deadline and not self._stop.is_set():
            self._stop.wait(0.05)
        return not self.busy()

    def rebuild(self, database: str | None = None, table: str | None = None) -> list[Converted]:
        """Forget the copies (of a database or a table), delete them, and write them again."""
        for key in a.forget(self.catalog, database, table):
            self.store.delete(key)
        self._failed.clear()
        return self.run_pending()

    def sweep(self, min_age: float = 3600.0) -> int:
        """Delete derived copies no file points to any more (its file was replaced, expired or
        dropped; a copy left by a crash), once older than ``min_age`` seconds — younger ones may
        be copies still on their way to the catalog. How many were deleted."""
        used = a.in_use(self.catalog)
        cutoff = time.time() - min_age
        gone = 0
        for info in list(self.store.list(DERIVED)):
            if info.key not in used and info.mtime_ns / 1e9 < cutoff:
                self.store.delete(info.key)
                gone += 1
        return gone

    def wake(self) -> None:
        """Files were cataloged: look now, not at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lakegate-accelerate", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        converting = self._converting
        if converting is not None:
            converting.interrupt()  # a big file's copy stops now; it is written again next time
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        swept = 0.0
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if not self.may_run():
                continue  # another node accelerates (and the files it takes wake nobody here)
            try:
                self.run_pending()
                if time.monotonic() - swept > SWEEP_SECONDS:
                    swept = time.monotonic()
                    self.sweep()
            except LakegateError as exc:  # the catalog or the store is away: the next round retries
                log.warning("acceleration paused: %s", exc.one_line())
            except Exception:  # a bug must not stop acceleration for good, nor lakegate up
                log.exception("acceleration failed; it tries again at the next round")
