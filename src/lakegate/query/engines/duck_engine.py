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

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lakegate import duck
from lakegate.catalog import Catalog, acceleration
from lakegate.config import QuerySettings
from lakegate.duck import engine_message
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.errors import GuardError, LakegateError, QueryError
from lakegate.query.engines import Result, Stream
from lakegate.query.engines.instances import Instance, holds, instance_key
from lakegate.query.permissions import AccessFor
from lakegate.query.planner import Plan, Planner
from lakegate.query.result_cache import ResultCache, result_key
from lakegate.query.sandbox import ReadOnlyExecutor
from lakegate.query.views import duckdb_views
from lakegate.storage import ObjectStore

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, Snapshot

logger = logging.getLogger(__name__)

_CACHE_SIZE = 16

_MAX_SHARED_VIEWS = 64  # an instance grown by sharing holds at most about this many views

_UNCAPPED = 2**62


@dataclass(frozen=True)
class _Prepared:
    """A guarded, planned query."""

    plan: Plan
    views: dict[str, str]  # database.table -> its SELECT, as the caller may read it
    paths: list[str]  # every file the views read
    settings: QuerySettings
    key: str  # what it reads: its views and their files (results are kept under it)
    text: str

    @property
    def tables(self) -> list[str]:
        return sorted(self.plan.tables)


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


class QueryEngine:
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
        self.planner = Planner(catalog, settings, guard_enabled=guard_enabled)
        self.executor = ReadOnlyExecutor(workers=4, allow_tcp_ports=duck.store_ports(lake))
        self._instances: OrderedDict[str, Instance] = OrderedDict()
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

    def _prepare(
        self, sql: str, access: AccessFor | None, limits: QuerySettings | None, max_bytes: int | None
    ) -> _Prepared:
        """Guard and plan ``sql``."""
        plan = self.planner.plan(sql, access, max_bytes)
        views = duckdb_views(plan, self.lake.url)
        paths = sorted({self.lake.url(key) for key in plan.keys})
        key = instance_key(views, paths, ())
        return _Prepared(plan, views, paths, limits or self.settings, key, sql.strip().rstrip(";"))

    def _instance(self, prepared: _Prepared) -> Instance:
        """An engine instance with ``prepared``'s views: kept from an earlier query, or opened.

        Queries of one audience share instances: one holding the same views among others serves
        (they read only the tables they name: the guard saw to it), unless the query lists
        tables. A new instance takes over the views of the last one that agree with its own, so
        a workload over a few tables soon runs on one instance instead of opening one per set."""
        plan, settings = prepared.plan, prepared.settings
        shape = (plan.audience, settings.memory_limit, settings.threads)
        shared = plan.audience is not None and not plan.lists_tables
        views, paths = prepared.views, prepared.paths
        exact = instance_key(views, paths, shape)
        with self._lock:
            instance = self._instances.get(exact)
            if instance is not None and not instance.retiring:
                self._instances.move_to_end(exact)
                return instance
            for key, other in reversed(self._instances.items()) if shared else ():
                if other.shape == shape and not other.retiring and holds(other.views, views):
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
                if views is prepared.views:
                    raise
                # a view taken over cannot be read any more: this query's own views alone
                views, paths = prepared.views, prepared.paths
                instance = self.executor.run(lambda: self._open(views, paths, settings, shape))
        except duckdb.Error as exc:  # a view's files cannot be read (a copy deleted by hand …)
            raise _failure(exc, settings, cancelled=False) from None
        with self._lock:  # under the views it has
            self._instances[instance_key(instance.views, instance.paths, shape)] = instance
            while len(self._instances) > _CACHE_SIZE:
                self._instances.popitem(last=False)
        return instance

    def _open(
        self, views: dict[str, str], paths: list[str], settings: QuerySettings, shape: tuple[Any, ...]
    ) -> Instance:
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
        conn.execute("CALL enable_logging('FileSystem')")  # each query's bytes read: Instance
        conn.execute("SET lock_configuration=true")
        return Instance(conn, views, paths, shape)

    def _run(
        self, instance: Instance, sql: str, params: Sequence[Any] | None, settings: QuerySettings
    ) -> tuple[pa.Table, int, list[str]]:
        batches: list[pa.RecordBatch] = []
        schema, read, types = self._produce(instance, sql, params, settings, emit=batches.append)
        return pa.Table.from_batches(batches, schema=schema), read, types

    def _feed(
        self,
        instance: Instance,
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
        instance: Instance,
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

    # -- planning (engine-neutral: the planner's) ----------------------------------------------

    def translate(self, sql: str, dialect: str, access: AccessFor | None = None) -> str:
        return self.planner.translate(sql, dialect, access)

    def plan(self, sql: str, access: AccessFor | None = None, max_bytes: int | None = None) -> Plan:
        return self.planner.plan(sql, access, max_bytes)


def _replay(table: pa.Table, types: list[str], stream: Stream) -> None:
    """Feed a kept result into ``stream`` as a run would."""
    try:
        stream._started(table.schema, types)
        for batch in table.to_batches(max_chunksize=65536):
            stream._put(batch)
        stream._put(None)
    except BaseException as exc:  # cancelled: to the reader
        stream._fail(exc)
