"""Running a guarded query on a DuckDB instance sandboxed to the files its caller may read.

Per query: the guard names the catalog tables; their file lists come from the catalog (kept in
memory while unchanged), pruned by the query's conditions (``pruning.py``); a DuckDB instance
is opened on a Landlock-restricted thread with ``allowed_paths`` set to those files, external
access off, no temp directory, memory and thread limits, configuration locked, and one view per
table built from catalog metadata. A watchdog interrupts it at the deadline.

Instances are kept and reused, each query on its own cursor: by later queries over the same
views, and — within one audience (a principal, or the admin) — by queries whose views an
instance holds among others; a new instance takes over the agreeing views of the last one, so a
workload over a few tables runs on one or two instances. A query listing tables
(information_schema) always gets an instance holding exactly its own views. A new file or
schema change gives new views. This keeps small queries within a few milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakegate import duck
from lakegate.catalog import Catalog, TableInfo, acceleration
from lakegate.config import QuerySettings
from lakegate.duck import engine_message
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.errors import GuardError, LakegateError, QueryError
from lakegate.query import guard, show
from lakegate.query.dialects import Schemas, to_duckdb
from lakegate.query.permissions import AccessFor, filtered, restrict
from lakegate.query.pruning import FileIndex, filter_references, references
from lakegate.query.result_cache import ResultCache, result_key
from lakegate.query.sandbox import ReadOnlyExecutor
from lakegate.query.views import table_sql
from lakegate.storage import ObjectStore

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, Snapshot

logger = logging.getLogger(__name__)

_CACHE_SIZE = 16
_MAX_SHARED_VIEWS = 64  # an instance grown by sharing holds at most about this many views
# information_schema views a query may read: they list exactly the tables and columns the caller
# may read, because the engine instance holds nothing else (``views``, whose definitions hold
# file paths, is not one of them)
CATALOG_VIEWS = frozenset(("information_schema", v) for v in ("tables", "columns", "schemata"))
_UNCAPPED = 2**62
_RETIRE_AFTER = 256
_TRUNCATE_AFTER = 64  # queries between emptyings of an idle instance's log
# the file operations one connection logged (the log's own tables: its view is slower)
_FILE_LOG = """
SELECT message FROM duckdb_logs(denormalized_table = false)
WHERE type = 'FileSystem'
  AND context_id IN (SELECT context_id FROM duckdb_log_contexts() WHERE connection_id = ?)
"""
_READ_BYTES = re.compile(r'"op":"READ","bytes":"(\d+)"')


@dataclass(frozen=True)
class Plan:
    """What a guarded query will read: one view per table over the files it may need."""

    views: dict[str, str]  # database.table -> its SELECT, as the caller may read it
    paths: list[str]  # every file the views read
    copies: list[str]  # the lake keys of the derived copies among them
    bytes_estimated: int  # their size, checked against limits before it runs
    files: int  # how many files of its tables' were kept (the rest pruned)
    files_total: int
    # whose views these are ("*": everything as it is; None: unknown) and whether the query lists
    # tables (information_schema): only then may an engine instance holding others serve it
    audience: str | None = None
    lists_tables: bool = True
    # a table read through a row or cell filter: the figures the caller is told are the grant's
    # (bytes_estimated from the files the grant itself can reach; bytes scanned reported the same)
    charged_by_grant: bool = False


@dataclass
class Result:
    table: pa.Table
    elapsed_ms: float
    tables: list[str] = field(default_factory=list)  # the catalog tables it read, database.table
    bytes_scanned: int = 0  # bytes it read from files (Parquet: only the columns and row groups needed)
    bytes_estimated: int = 0  # the size of its tables' files, checked against limits before it ran
    reused: bool = False  # the result of an earlier run of the same query over the same files


@dataclass(frozen=True)
class _Prepared:
    """A guarded, planned query."""

    plan: Plan
    settings: QuerySettings
    key: str  # what it reads: its views and their files (results are kept under it)
    text: str

    @property
    def tables(self) -> list[str]:
        return sorted(self.plan.views)


class Stream:
    """A result arriving batch by batch: ``schema`` (waits for the query to start), then iterate.
    ``close()`` early stops the query."""

    def __init__(self, tables: list[str], bytes_estimated: int, charged_by_grant: bool = False) -> None:
        self.tables = tables
        self.bytes_estimated = bytes_estimated
        self.charged_by_grant = charged_by_grant  # bytes scanned are reported as estimated (Plan)
        self.bytes_scanned = 0  # what it read from files, known once it is done
        self.reused = False  # the result of an earlier run, replayed
        self.rows = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=4)
        self._closed = threading.Event()
        self._schema: pa.Schema | None = None
        self.types: list[str] = []  # the engine's type of each column, known with the schema
        self._schema_ready = threading.Event()
        self._error: BaseException | None = None
        # given a failure before the first batch: starts the query again (True) or not
        self._retry: Callable[[BaseException], bool] | None = None
        self._interrupt: Callable[[], None] | None = None

    def _started(self, schema: pa.Schema, types: list[str]) -> None:
        self._schema = schema
        self.types = types
        self._schema_ready.set()

    def _put(self, item: pa.RecordBatch | None) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise QueryError("the query was cancelled", code="query.cancelled")

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self._schema_ready.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    @property
    def schema(self) -> pa.Schema:
        """Raises: the query's error, when it failed before its first batch."""
        self._schema_ready.wait()
        retry, self._retry = self._retry, None  # once
        if self._schema is None and retry is not None and self._error is not None:
            error = self._error
            self._error = None
            self._schema_ready.clear()
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            if retry(error):
                self._schema_ready.wait()
            else:
                self._fail(error)
        if self._schema is None:
            assert self._error is not None
            raise self._error
        return self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        self.schema  # noqa: B018 - waits for the start: a failure before it raises (or is retried) here
        while True:
            if self._error is not None and self._queue.empty():
                raise self._error
            item = self._queue.get()
            if item is None:
                if self._error is not None:
                    raise self._error
                return
            self.rows += item.num_rows
            yield item

    def close(self) -> None:
        self._closed.set()
        if self._interrupt is not None:
            with contextlib.suppress(Exception):
                self._interrupt()  # a query busy before its next batch stops too
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()


def _failure(exc: BaseException, settings: QuerySettings, *, cancelled: bool) -> LakegateError:
    """The error to report for the engine's ``exc``."""
    said = engine_message(exc)
    if isinstance(exc, duckdb.InterruptException) or said.startswith("INTERRUPT Error"):
        if cancelled:
            return QueryError("the query was cancelled", code="query.cancelled")
        return QueryError(
            f"the query ran longer than {settings.timeout_seconds:g} s and was stopped",
            code="query.timeout",
            hint="narrow it, or raise query.timeout_seconds",
        )
    if isinstance(exc, duckdb.OutOfMemoryException) or said.startswith("Out of Memory Error"):
        return QueryError(
            f"the query needs more than {settings.memory_limit} of memory: {said}",
            code="query.memory",
            hint="aggregate or filter more, or raise query.memory_limit",
        )
    if isinstance(exc, duckdb.ParserException):
        return GuardError(f"syntax error: {said}", code="guard.syntax")
    return QueryError(said, code="query.failed")


class _Instance:
    """One sandboxed DuckDB instance. It logs its file reads, so that each query's bytes are
    known: the log is emptied whenever no query runs; under constant load, an instance that has
    served ``_RETIRE_AFTER`` queries since is retired (new queries get a fresh one, its own
    finish and read their bytes), so reading the log stays cheap."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, views: dict[str, str], paths: list[str], shape: tuple[Any, ...]
    ) -> None:
        self.conn = conn
        self.views = views
        self.paths = paths
        self.shape = shape  # (audience, memory limit, threads): who may share it, and how it runs
        self.lock = threading.Lock()
        self.running = 0
        self.served = 0  # queries since the log was last emptied
        self.retiring = False

    def began(self) -> None:
        with self.lock:
            self.running += 1
            self.served += 1
            if self.served > _RETIRE_AFTER:
                self.retiring = True

    def bytes_read(self, connection_id: int) -> int:
        """What the query on connection ``connection_id`` read from files."""
        reader = self.conn.cursor()
        read = 0
        try:
            for (message,) in reader.execute(_FILE_LOG, [connection_id]).fetchall():
                found = _READ_BYTES.search(message)
                read += int(found[1]) if found else 0
        except duckdb.Error as exc:  # a statistic: never the query's failure
            logger.warning("could not tell the bytes a query read: %s", exc)
        finally:
            with self.lock:
                self.running -= 1
                empty = self.running == 0 and self.served >= _TRUNCATE_AFTER
                if empty and not self.retiring:
                    self.served = 0
            if empty:
                with contextlib.suppress(duckdb.Error):
                    reader.execute("CALL truncate_duckdb_logs()")
            reader.close()
        return read


class Engine(Protocol):
    """What the gateway and the servers use of an engine: a ``QueryEngine`` in this process, or
    an ``IsolatedEngine`` running each query in an engine process (``isolated.py``)."""

    settings: QuerySettings
    executor: ReadOnlyExecutor

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        access: AccessFor | None = None,
        limits: QuerySettings | None = None,
        max_bytes: int | None = None,
        dialect: str = "duckdb",
        reuse_seconds: float | None = None,
    ) -> Result: ...

    def stream(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        access: AccessFor | None = None,
        limits: QuerySettings | None = None,
        max_bytes: int | None = None,
        dialect: str = "duckdb",
        reuse_seconds: float | None = None,
    ) -> Stream: ...

    def describe(
        self, sql: str, param_count: int = 0, *, access: AccessFor | None = None, dialect: str = "duckdb"
    ) -> tuple[pa.Schema, list[str]]: ...

    def answer_catalog(
        self, catalog: PgCatalog, sql: str, params: list[Any], snapshot: Snapshot, settings: dict[str, str]
    ) -> CatalogAnswer: ...

    def close(self) -> None: ...


class QueryEngine:
    """Guard, sandbox and run queries against one catalog and one lake store."""

    def __init__(
        self,
        catalog: Catalog,
        lake: ObjectStore,
        settings: QuerySettings,
        *,
        guard_enabled: bool = True,
    ) -> None:
        self.catalog = catalog
        self.lake = lake
        self.settings = settings
        self.guard_enabled = guard_enabled  # switched off only by tests proving the sandbox alone holds
        self.executor = ReadOnlyExecutor(workers=4, allow_tcp_ports=duck.store_ports(lake))
        self._instances: OrderedDict[str, _Instance] = OrderedDict()
        self._indexes: OrderedDict[tuple[str, str], FileIndex] = OrderedDict()
        self.results = ResultCache(settings.result_cache_mb * 2**20)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._instances.clear()
        self.executor.shutdown()

    def answer_catalog(
        self, catalog: PgCatalog, sql: str, params: list[Any], snapshot: Snapshot, settings: dict[str, str]
    ) -> CatalogAnswer:
        """A PostgreSQL client's catalog query, answered on the engine's read-only threads."""
        return self.executor.run(lambda: catalog.answer(sql, params, snapshot, settings))

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        access: AccessFor | None = None,
        limits: QuerySettings | None = None,
        max_bytes: int | None = None,
        dialect: str = "duckdb",
        reuse_seconds: float | None = None,
    ) -> Result:
        """Run one read-only statement and return its whole result as Arrow.

        ``access`` says how the caller may read each table (``None``: as it is, an admin): a
        table it may not read is unknown, exactly like one that does not exist. ``limits`` (a
        workgroup's) replace the engine's timeout, row cap, memory limit and threads;
        ``max_bytes`` refuses a query whose tables' files are larger, before it runs.
        ``reuse_seconds``: the result of an identical query over the same files at most this
        old may answer it (``result_cache.py``); it reads nothing then.

        Raises:
            GuardError: the statement was refused.
            QueryError: it failed while running (``query.timeout``, ``query.memory``, ``query.failed``).
        """
        started = time.perf_counter()
        sql = self.translate(sql, dialect, access)
        prepared = self._prepare(sql, access, limits, max_bytes)
        if reuse_seconds:
            hit = self.results.get(
                result_key(prepared.key, prepared.text, params), reuse_seconds, prepared.settings.max_rows
            )
            if hit is not None:
                elapsed = (time.perf_counter() - started) * 1000
                return Result(hit[0], elapsed, prepared.tables, 0, prepared.plan.bytes_estimated, reused=True)

        def attempt(p: _Prepared) -> tuple[pa.Table, int, list[str]]:
            instance = self._instance(p)
            return self.executor.run(lambda: self._run(instance, p.text, params, p.settings))

        try:
            table, read, types = attempt(prepared)
        except QueryError as exc:
            if not self._copies_lost(prepared, exc):
                raise
            prepared = self._prepare(sql, access, limits, max_bytes)  # the files themselves now
            table, read, types = attempt(prepared)
        if reuse_seconds:
            self.results.put(result_key(prepared.key, prepared.text, params), table, types)
        elapsed = (time.perf_counter() - started) * 1000
        if prepared.plan.charged_by_grant:
            read = prepared.plan.bytes_estimated
        return Result(table, elapsed, prepared.tables, read, prepared.plan.bytes_estimated)

    def stream(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        access: AccessFor | None = None,
        limits: QuerySettings | None = None,
        max_bytes: int | None = None,
        dialect: str = "duckdb",
        reuse_seconds: float | None = None,
    ) -> Stream:
        """Run one read-only statement, its result delivered batch by batch (a few batches are
        held at a time, so memory stays bounded whatever its size). Refusals raise here; errors
        while it runs raise from the stream. Closing the stream early stops the query.
        ``reuse_seconds`` as for ``execute`` (a result too large to keep is not kept)."""
        sql = self.translate(sql, dialect, access)
        # Streamed rows cost no memory here: only a row cap given with the limits applies.
        limits = limits or self.settings.model_copy(update={"max_rows": _UNCAPPED})
        prepared = self._prepare(sql, access, limits, max_bytes)
        stream = Stream(prepared.tables, prepared.plan.bytes_estimated, prepared.plan.charged_by_grant)
        keep = bool(reuse_seconds)
        if reuse_seconds:
            key = result_key(prepared.key, prepared.text, params)
            hit = self.results.get(key, reuse_seconds, prepared.settings.max_rows)
            if hit is not None:
                stream.reused = True
                self.executor.submit(lambda: _replay(hit[0], hit[1], stream))
                return stream
        try:
            self._start_feed(prepared, params, stream, keep)
        except QueryError as exc:
            if not self._copies_lost(prepared, exc):
                raise
            prepared = self._prepare(sql, access, limits, max_bytes)
            self._start_feed(prepared, params, stream, keep)

        def again(exc: BaseException) -> bool:
            """A failure before the first row: if copies it read were deleted by hand, run it
            again over the files themselves (on the reader's thread, which may read the catalog)."""
            if not isinstance(exc, QueryError) or not self._copies_lost(prepared, exc):
                return False
            self._start_feed(self._prepare(sql, access, limits, max_bytes), params, stream, keep)
            return True

        stream._retry = again
        return stream

    def _start_feed(
        self, prepared: _Prepared, params: Sequence[Any] | None, stream: Stream, keep: bool
    ) -> None:
        """Run ``prepared`` into ``stream``; ``keep``: its result is kept for reuse, under its plan."""
        instance = self._instance(prepared)
        reuse = result_key(prepared.key, prepared.text, params) if keep else None
        self.executor.submit(
            lambda: self._feed(instance, prepared.text, params, prepared.settings, stream, reuse=reuse)
        )

    def _copies_lost(self, prepared: _Prepared, exc: QueryError) -> bool:
        """After a failure: whether acceleration copies the query read are gone from the lake
        (deleted by hand). Those are forgotten — their files are read in place again, and the
        accelerator makes new ones — and the query may run again."""
        if exc.code != "query.failed" or not prepared.plan.copies:
            return False
        missing = [key for key in prepared.plan.copies if self.lake.stat(key) is None]
        forgotten = acceleration.forget_missing(self.catalog, missing) if missing else 0
        if forgotten:
            logger.warning(
                "%d acceleration copies were gone from the lake (first: %s); their files are read "
                "in place until they are copied again",
                forgotten,
                missing[0],
            )
        return forgotten > 0

    def describe(
        self, sql: str, param_count: int = 0, *, access: AccessFor | None = None, dialect: str = "duckdb"
    ) -> tuple[pa.Schema, list[str]]:
        """The columns ``sql`` would return (Arrow schema, engine types), found without reading a
        row and before its parameters are known (for clients that ask first). Refusals raise."""
        body = self.translate(sql, dialect, access).strip().rstrip(";")
        wrapped = f"SELECT * FROM ({body}\n) AS lakegate_described LIMIT 0"
        prepared = self._prepare(wrapped, access, None, None)
        stream = Stream(prepared.tables, prepared.plan.bytes_estimated, prepared.plan.charged_by_grant)
        instance = self._instance(prepared)
        params = [None] * param_count
        self.executor.submit(lambda: self._feed(instance, prepared.text, params, prepared.settings, stream))
        for _batch in stream:
            pass
        return stream.schema, stream.types

    def translate(self, sql: str, dialect: str, access: AccessFor | None = None) -> str:
        """``sql`` in ``dialect`` (duckdb, athena, trino) as DuckDB SQL with the same meaning,
        typed against the tables the caller may read; SHOW and DESCRIBE as queries over what
        it may read. Raises: GuardError ``guard.dialect``, or ``guard.table_unknown`` for a
        DESCRIBE of a table it may not read."""
        if self.guard_enabled:  # before any parser sees it
            guard.bound(sql, self.settings.max_statement_kb * 1024, self.settings.max_nesting)
        shown = show.rewrite(sql)
        if shown is not None:
            if shown.table is not None and self.guard_enabled:  # the same answer as a query of it
                database, table = shown.table
                self._tables_for(f"SELECT * FROM {quote_ident(database)}.{quote_ident(table)}", access)
            return shown.sql
        if dialect == "duckdb":
            return sql

        def schemas_for(names: set[tuple[str, str]]) -> Schemas:
            out: Schemas = {}
            for database in {d for d, _ in names}:
                for info in self.catalog.tables(database):
                    if (database, info.name) not in names:
                        continue
                    columns = {c.name: c.type for c in info.columns} | dict.fromkeys(
                        info.partition_keys, "VARCHAR"
                    )
                    allowed = access(database, info.name, list(columns)) if access is not None else None
                    if access is not None and allowed is None:
                        continue  # not the caller's: refused later as unknown
                    if allowed is not None:
                        columns = {k: v for k, v in columns.items() if k in allowed.columns}
                    out.setdefault(database, {})[info.name] = columns
            return out

        return to_duckdb(sql, dialect, schemas_for)

    def plan(self, sql: str, access: AccessFor | None = None, max_bytes: int | None = None) -> Plan:
        """Guard ``sql`` and decide which files of its tables it may read (``pruning.py``).

        Raises:
            GuardError: the statement was refused.
            QueryError: ``query.bytes_limit``, its files are larger than ``max_bytes``.
        """
        tables, tree = self._tables_for(sql, access)
        allowed = {}
        columns = {}
        for t in tables:
            names = [c.name for c in t.columns] + list(t.partition_keys)
            grant = access(t.database, t.name, names) if access is not None else None
            allowed[t.qualified] = (grant, names)
            # only columns the caller sees judge files: what it may not see never shapes its plan
            columns[(t.database, t.name)] = {n for n in names if grant is None or n in grant.columns}
        refs = references(tree, columns) if tree is not None else {}
        views: dict[str, str] = {}
        paths: set[str] = set()
        copies: set[str] = set()
        scanned = kept_files = 0
        by_grant = False
        for t in tables:
            grant, names = allowed[t.qualified]
            if grant is not None and filtered(grant):
                # Pruned by the query's predicates, its files would follow the hidden rows'
                # statistics, and its charge and its time would tell them (bisect a hidden
                # amount on bytes_estimated): it reads — and is charged — what the grant's own
                # filter reaches, whatever the query asks.
                by_grant = True
                kept = self._index(t).select(filter_references(t, grant.rows))
            else:
                kept = self._index(t).select(refs.get((t.database, t.name)))
            view = table_sql(t if kept is t.files else replace(t, files=kept), self.lake.url)
            if access is not None:
                assert grant is not None  # the guard let only readable tables through
                view = restrict(view, grant, names)
            views[t.qualified] = view
            paths.update(self.lake.url(f.derived_key or f.key) for f in kept)
            copies.update(f.derived_key for f in kept if f.derived_key)
            scanned += sum(f.size for f in kept)
            kept_files += len(kept)
        if max_bytes is not None and scanned > max_bytes:
            raise QueryError(
                f"the query would read {scanned:,} bytes of files, more than its workgroup's {max_bytes:,}",
                code="query.bytes_limit",
                hint="filter on partition columns, read fewer tables, or ask for a larger limit",
            )
        lists = tree is None or any(t.db.lower() == "information_schema" for t in tree.find_all(exp.Table))
        audience = "*" if access is None else getattr(access, "audience", None)
        total = sum(len(t.files) for t in tables)
        return Plan(
            views, sorted(paths), sorted(copies), scanned, kept_files, total, audience, lists, by_grant
        )

    def _index(self, table: TableInfo) -> FileIndex:
        """The pruning index of this version of ``table`` (built once, shared by queries)."""
        name = (table.database, table.name)
        with self._lock:
            index = self._indexes.get(name)
            if index is not None and index.table is table:
                self._indexes.move_to_end(name)
                return index
        index = FileIndex(table, earlier=index)  # built on the last version's when files only arrived
        with self._lock:
            self._indexes[name] = index
            while len(self._indexes) > 4 * _CACHE_SIZE:
                self._indexes.popitem(last=False)
        return index

    def _prepare(
        self, sql: str, access: AccessFor | None, limits: QuerySettings | None, max_bytes: int | None
    ) -> _Prepared:
        """Guard and plan ``sql``."""
        plan = self.plan(sql, access, max_bytes)
        key = _instance_key(plan.views, plan.paths, ())
        return _Prepared(plan, limits or self.settings, key, sql.strip().rstrip(";"))

    def _tables_for(
        self, sql: str, access: AccessFor | None = None
    ) -> tuple[list[TableInfo], exp.Expr | None]:
        """The catalog tables ``sql`` reads, as the guard found them, and its parsed tree."""
        found: dict[tuple[str, str], TableInfo] = {}

        probes: set[tuple[str, str]] = set()

        def exists(database: str, name: str) -> bool:
            """A catalog table the caller may read (the same answer for one it may not see), or
            one of the information_schema views that list them."""
            if (database, name) in CATALOG_VIEWS:
                probes.add((database, name))
                return True
            if (database, name) not in found:
                table = self.catalog.table(database, name)
                if table is None:
                    return False
                if access is not None:
                    names = [c.name for c in table.columns] + list(table.partition_keys)
                    if access(database, name, names) is None:
                        return False
                found[(database, name)] = table
            return True

        if self.guard_enabled:
            checked = guard.check(
                sql,
                exists,
                max_bytes=self.settings.max_statement_kb * 1024,
                max_nesting=self.settings.max_nesting,
            )
            if probes:  # the caller lists tables: every table it may read is there to list
                for info in self.catalog.tables():
                    exists(info.database, info.name)
                return [found[t] for t in sorted(found)], checked.tree
            return [found[t] for t in sorted(checked.tables)], checked.tree
        # Test-only mode: no refusals, but the sandbox still sees only the tables named.
        for database, name in guard.referenced_tables(sql):
            exists(database, name)
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except (SqlglotError, ValueError):
            tree = None
        return list(found.values()), tree

    def _instance(self, prepared: _Prepared) -> _Instance:
        """An engine instance with ``prepared``'s views: kept from an earlier query, or opened.

        Queries of one audience share instances: one holding the same views among others serves
        (they read only the tables they name: the guard saw to it), unless the query lists
        tables. A new instance takes over the views of the last one that agree with its own, so
        a workload over a few tables soon runs on one instance instead of opening one per set."""
        plan, settings = prepared.plan, prepared.settings
        shape = (plan.audience, settings.memory_limit, settings.threads)
        shared = plan.audience is not None and not plan.lists_tables
        views, paths = plan.views, plan.paths
        exact = _instance_key(views, paths, shape)
        with self._lock:
            instance = self._instances.get(exact)
            if instance is not None and not instance.retiring:
                self._instances.move_to_end(exact)
                return instance
            for key, other in reversed(self._instances.items()) if shared else ():
                if other.shape == shape and not other.retiring and _holds(other.views, views):
                    self._instances.move_to_end(key)
                    return other
            for other in reversed(self._instances.values()) if shared else ():
                if other.shape == shape and len(other.views) < _MAX_SHARED_VIEWS:
                    views = {**{n: v for n, v in other.views.items() if views.get(n, v) == v}, **views}
                    paths = sorted(set(paths) | set(other.paths))
                    break
        try:
            try:
                instance = self.executor.run(lambda: self._open(views, paths, settings, shape))
            except duckdb.Error:
                if views is plan.views:
                    raise
                # a view taken over cannot be read any more: this query's own views alone
                views, paths = plan.views, plan.paths
                instance = self.executor.run(lambda: self._open(views, paths, settings, shape))
        except duckdb.Error as exc:  # a view's files cannot be read (a copy deleted by hand …)
            raise _failure(exc, settings, cancelled=False) from None
        with self._lock:  # under the views it has
            self._instances[_instance_key(instance.views, instance.paths, shape)] = instance
            while len(self._instances) > _CACHE_SIZE:
                self._instances.popitem(last=False)
        return instance

    def _open(
        self, views: dict[str, str], paths: list[str], settings: QuerySettings, shape: tuple[Any, ...]
    ) -> _Instance:
        conn = duck.connect(threads=settings.threads, memory_limit=settings.memory_limit)
        conn.execute("SET temp_directory=''")  # no spilling: nothing to write, nowhere to write it
        conn.execute("SET max_temp_directory_size='0B'")
        duck.attach_store(conn, self.lake, paths)  # on S3: httpfs with the read-only query identity
        if paths:
            conn.execute(f"SET allowed_paths=[{', '.join(sql_literal(p) for p in paths)}]")
        conn.execute("SET enable_external_access=false")
        schemas = {name.split(".", 1)[0] for name in views}
        for schema in sorted(schemas):
            conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
        for name, body in views.items():
            database, table = name.split(".", 1)
            conn.execute(f"CREATE VIEW {quote_ident(database)}.{quote_ident(table)} AS {body}")
        conn.execute("CALL enable_logging('FileSystem')")  # each query's bytes read: _Instance
        conn.execute("SET lock_configuration=true")
        return _Instance(conn, views, paths, shape)

    def _run(
        self, instance: _Instance, sql: str, params: Sequence[Any] | None, settings: QuerySettings
    ) -> tuple[pa.Table, int, list[str]]:
        batches: list[pa.RecordBatch] = []
        schema, read, types = self._produce(instance, sql, params, settings, emit=batches.append)
        return pa.Table.from_batches(batches, schema=schema), read, types

    def _feed(
        self,
        instance: _Instance,
        sql: str,
        params: Sequence[Any] | None,
        settings: QuerySettings,
        stream: Stream,
        *,
        reuse: str | None = None,
    ) -> None:
        """Run the query into ``stream``; under a ``reuse`` key, keep its result (when small
        enough) for later runs."""
        kept: list[pa.RecordBatch] | None = [] if reuse is not None else None
        size = 0

        def emit(batch: pa.RecordBatch) -> None:
            nonlocal kept, size
            if kept is not None:
                size += batch.nbytes
                if self.results.keeps(size):
                    kept.append(batch)
                else:
                    kept = None  # too large to keep
            stream._put(batch)

        try:
            schema, _read, types = self._produce(instance, sql, params, settings, emit=emit, stream=stream)
            if reuse is not None and kept is not None:
                self.results.put(reuse, pa.Table.from_batches(kept, schema=schema), types)
            stream._put(None)
        except BaseException as exc:  # to the reader, who raises it
            stream._fail(exc)

    def _produce(
        self,
        instance: _Instance,
        sql: str,
        params: Sequence[Any] | None,
        settings: QuerySettings,
        *,
        emit: Callable[[pa.RecordBatch], None],
        stream: Stream | None = None,
    ) -> tuple[pa.Schema, int, list[str]]:
        """Run ``sql``, handing each batch of its result to ``emit``; its schema, the bytes it
        read from files and the engine's type of each column. For a ``stream``: tells it the
        schema and, once done, the bytes; closing it interrupts the query."""
        stop = stream._closed if stream is not None else threading.Event()
        cursor = instance.conn.cursor()
        connection = cursor.execute("SELECT current_connection_id()").fetchone()
        instance.began()
        if stream is not None:
            stream._interrupt = cursor.interrupt
        timer = threading.Timer(settings.timeout_seconds, cursor.interrupt)
        if stop.is_set():  # closed before it could be interrupted: it does not start
            cursor.close()
            instance.bytes_read(connection[0] if connection else -1)
            raise QueryError("the query was cancelled", code="query.cancelled")
        timer.daemon = True
        timer.start()
        try:
            relation = cursor.execute(sql, list(params) if params else None)
            reader = relation.to_arrow_reader(batch_size=65536)
            types = [str(d[1]) for d in cursor.description or []]
            if stream is not None:
                stream._started(reader.schema, types)
            rows = 0
            for batch in reader:
                if stop.is_set():
                    raise QueryError("the query was cancelled", code="query.cancelled")
                rows += batch.num_rows
                if rows > settings.max_rows:
                    raise QueryError(
                        f"the result has more than {settings.max_rows} rows",
                        code="query.rows",
                        hint="add a LIMIT or aggregate; the cap is query.max_rows",
                    )
                emit(batch)
            schema = reader.schema
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            # while batches are read, DuckDB's errors arrive through Arrow, as OSError
            raise _failure(exc, settings, cancelled=stop.is_set()) from None
        finally:
            timer.cancel()
            cursor.close()
            read = instance.bytes_read(connection[0] if connection else -1)
            if stream is not None:
                stream.bytes_scanned = read if not stream.charged_by_grant else stream.bytes_estimated
        return schema, read, types


def _replay(table: pa.Table, types: list[str], stream: Stream) -> None:
    """Feed a kept result into ``stream`` as a run would."""
    try:
        stream._started(table.schema, types)
        for batch in table.to_batches(max_chunksize=65536):
            stream._put(batch)
        stream._put(None)
    except BaseException as exc:  # cancelled: to the reader
        stream._fail(exc)


def _holds(have: dict[str, str], need: dict[str, str]) -> bool:
    """Whether an instance with views ``have`` has every view of ``need``, exactly."""
    return all(have.get(name) == body for name, body in need.items())


def _instance_key(views: dict[str, str], paths: list[str], shape: tuple[Any, ...]) -> str:
    """The key of an engine instance: exactly the views and files it has, and its shape."""
    return hashlib.sha256(repr((sorted(views.items()), paths, shape)).encode()).hexdigest()
