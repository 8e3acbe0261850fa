"""Copies a file needs, written again when its table widens a column to text.

A CSV or JSON file the engine cannot read in place (zip or bzip2, Windows-1252, UTF-16) is read
through a derived Parquet copy typed as the file's own columns. When a later file widens one of
those columns to VARCHAR, the copy's typed values could only be cast back to text (``F`` read as
BOOLEAN would come back ``false``, ``1.50`` as ``1.5``, ``03/04/2026`` as ``2026-04-03``). So the
copy is written again from the delivered file with that column read as text, verified (same row
count), and recorded with the file's new column types in one catalog transaction; the old copy
is left to the accelerator's sweep (a query may be reading it). Queries read the old copy until
then — the accelerator does this at its next round, woken by every accepted file.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog.records import FileRecord
from lakegate.crawler.detect import MIXED
from lakegate.crawler.normalize import detect_file, readable, write_parquet
from lakegate.duck import connect
from lakegate.duck.readers import FilePlan, reader_sql
from lakegate.duck.sql import sql_literal
from lakegate.errors import LakegateError
from lakegate.keys import derived_key
from lakegate.schema import Column
from lakegate.storage import ObjectStore
from lakegate.storage.base import local_path, upload

log = logging.getLogger(__name__)

_TEXT_FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Retexted:
    table: str
    key: str
    columns: list[str]  # the columns now read as text
    failed: str = ""  # why the copy stays as it was


def narrower_than_text(f: FileRecord, types: dict[str, str]) -> list[str]:
    """The columns of ``f`` its table reads as VARCHAR while the file's own type is narrower."""
    return [c.name for c in f.columns if types.get(c.name) == "VARCHAR" and c.type not in ("VARCHAR", "NULL")]


def needs_retext(f: FileRecord, types: dict[str, str]) -> bool:
    """Whether ``f`` is read through a copy it needs whose typed values lose the delivered text."""
    return bool(f.derived_key and not f.accelerated and f.format in _TEXT_FORMATS) and bool(
        narrower_than_text(f, types)
    )


class Retexter:
    """Finds and rewrites the copies of tables whose schema changed since it last looked."""

    def __init__(self, catalog: Catalog, store: ObjectStore, *, memory_limit: str = "1GB") -> None:
        self.catalog = catalog
        self.store = store
        self.memory_limit = memory_limit
        self._seen: dict[int, int] = {}  # table id -> the schema version looked at
        self._failed: set[tuple[str, str]] = set()  # (key, sha) whose copy could not be written

    def run(self) -> list[Retexted]:
        done: list[Retexted] = []
        for listed in self.catalog.tables():
            info = self.catalog.table(listed.database, listed.name)
            if info is None or self._seen.get(info.id) == info.schema_version:
                continue
            types = {c.name: c.type for c in info.columns}
            for f in info.files:
                if needs_retext(f, types) and (f.key, f.sha256) not in self._failed:
                    retexted = self.retext(info.database, info.name, f, types)
                    if retexted.failed:
                        self._failed.add((f.key, f.sha256))  # logged; tried again after a restart
                    done.append(retexted)
            self._seen[info.id] = info.schema_version
        return done

    def retext(self, database: str, table: str, f: FileRecord, types: dict[str, str]) -> Retexted:
        """Write ``f``'s copy again with its columns that ``types`` widened to text read as text."""
        names = narrower_than_text(f, types)
        columns = [replace(c, type="VARCHAR") if c.name in names else c for c in f.columns]
        failed = self.rewrite(database, table, f, columns, cause=f"read as text: {', '.join(names)}")
        return Retexted(f"{database}.{table}", f.key, names, failed=failed)

    def rewrite(self, database: str, table: str, f: FileRecord, columns: list[Column], *, cause: str) -> str:
        """Write ``f``'s needed copy again typed as ``columns`` and record both; why not (``""``: done)."""
        key = derived_key(f.key, f.sha256).removesuffix(".parquet") + f".{secrets.token_hex(4)}.parquet"
        plan = FilePlan(f.format, f.options, columns, f.row_count)
        try:
            with (
                delivered(self.store, f, self.memory_limit) as (conn, path),
                tempfile.TemporaryDirectory(prefix="lakegate-retext-") as work,
            ):
                copy = f"{work}/copy.parquet"
                write_parquet(conn, path, plan, copy)
                got = conn.execute(f"SELECT count(*) FROM read_parquet({sql_literal(copy)})").fetchone()
                if got is None or got[0] != f.row_count:
                    raise LakegateError(
                        f"the copy read {got and got[0]} rows where the catalog counts {f.row_count}"
                    )
                sha = upload(self.store, key, copy)[1]
        except (LakegateError, OSError, duckdb.Error) as exc:
            reason = exc.message if isinstance(exc, LakegateError) else str(exc).split("\n")[0]
            log.warning("the copy of %s keeps its types: %s", f.key, reason)
            return reason
        try:
            self.catalog.retype_file(
                database, table, f.key, columns, cause=cause, sha256=f.sha256, copy=(key, sha)
            )
        except sa.exc.NoResultFound:
            self.store.delete(key)  # replaced or removed meanwhile: never used
            return "the file changed meanwhile"
        return ""


@contextmanager
def delivered(
    store: ObjectStore, f: FileRecord, memory_limit: str = "1GB"
) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A connection and a path it reads ``f``'s delivered content at with ``f.options`` (unpacked,
    re-encoded as UTF-8 where the file needs it: what its copy was written from)."""
    with tempfile.TemporaryDirectory(prefix="lakegate-delivered-") as work, ExitStack() as stack:
        where = local_path(store, f.key, Path(work))
        detected = detect_file(where)
        conn = connect(threads=1, memory_limit=memory_limit)
        stack.callback(conn.close)
        ready = stack.enter_context(readable(where, detected))
        if detected.encoding == "utf-8" and f.format == "csv" and not _reads(conn, ready.path, f):
            # lines in Windows-1252 past the head: the file was read line by line as such
            ready = stack.enter_context(readable(where, replace(detected, encoding=MIXED)))
        yield conn, ready.path


def _reads(conn: duckdb.DuckDBPyConnection, path: str, f: FileRecord) -> bool:
    text = reader_sql([path], f.format, f.options, [(c.name, "VARCHAR") for c in f.columns])
    try:
        conn.execute(f"SELECT count(*) FROM {text}").fetchone()
    except duckdb.Error:
        return False
    return True
