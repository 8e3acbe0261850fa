"""Queries on Apache Spark through Spark Connect (``engines.spark.url: sc://host:15002``).

The plan is DuckDB's: the same guard, translation, grants, pruning and byte estimate
(``planner.py``). From it each query gets a Spark session of its own holding only its tables,
as the caller may read them (``spark_views.py``): explicit file lists and schemas, grants inside
the views. Only the guarded SELECT, transpiled to Spark SQL, reaches Spark. Closing the stream,
or the workgroup's timeout, interrupts the session's operations; the session is released at
the end. Results come back as Arrow and stream on as batches.

The Spark Connect endpoint must be reachable from lakegate only (it runs any code a client
sends), and Spark should hold a read-only identity for the lake, as the DuckDB engine does.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lakegate.catalog import Catalog
from lakegate.config import QuerySettings, Settings
from lakegate.errors import LakegateError, QueryError
from lakegate.query.engines import Result, Stream
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_sessions import Session, SessionPool
from lakegate.query.engines.spark_views import SparkViews, query_sql, spark_views
from lakegate.query.permissions import AccessFor
from lakegate.query.planner import Planner
from lakegate.storage import ObjectStore

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, Snapshot

BATCH_ROWS = 65536
RETRIES = 3  # of a call the server did not answer (backing off 0.2, 0.8, 2 s)
INTERRUPT_EVERY_SECONDS = 0.5  # while a cancelled query's feed has not ended
SETTLE_SECONDS = 1.5  # an execution is not interrupted sooner (see _Stopper)


def spark_for(catalog: Catalog, store: ObjectStore, settings: Settings) -> dict[str, Any]:
    """The gateway's Spark engine and its ``auto`` threshold, as ``settings`` configure them
    (keyword arguments of ``Gateway``; no engine when ``engines.spark.url`` is unset)."""
    spark = settings.engines.spark
    engine = None
    if spark.url:
        engine = SparkEngine(
            catalog, store, settings.query, spark.url,
            s3_scheme=spark.s3_scheme, keep_sessions=spark.keep_sessions,
        )  # fmt: skip
    return {"spark": engine, "spark_above_bytes": spark.auto_above_mb * 1024**2}


def _engine_types(schema: pa.Schema) -> list[str]:
    """The DuckDB name of each column's type (what pgwire and the console show), from Arrow."""
    empty = pa.Table.from_batches([], schema=schema)
    return [str(t) for t in duckdb.connect().from_arrow(empty).types]


def _as_described(table: pa.Table, described: pa.Schema) -> pa.Table:
    """Spark's result as DuckDB describes the statement: its column names (``count_star()``, not
    Spark's ``count(1)``) and types (``avg`` of a DECIMAL is a DOUBLE), a column whose values do
    not convert safely kept as Spark gave it."""
    if len(described) != table.num_columns:
        return table
    columns = []
    for column, wanted in zip(table.columns, described, strict=True):
        try:
            columns.append(column.cast(wanted.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            columns.append(column)
    return pa.Table.from_arrays(columns, names=described.names)


def _unavailable(exc: BaseException) -> bool:
    text = str(exc)
    lowered = text.lower()
    return "UNAVAILABLE" in text or "failed to connect" in lowered or "connection refused" in lowered


def _session_lost(exc: BaseException) -> bool:
    """The server no longer knows the session (it restarted, or dropped it as idle)."""
    text = str(exc)
    return _unavailable(exc) or any(
        mark in text for mark in ("SESSION_NOT_FOUND", "SESSION_CLOSED", "INVALID_HANDLE", "SESSION_CHANGED")
    )


def _failure(exc: BaseException, url: str, *, cancelled: bool, timed_out: float | None) -> LakegateError:
    if isinstance(exc, LakegateError):
        return exc
    if _unavailable(exc):
        where = url.split("/;", maxsplit=1)[0]  # not its token
        return QueryError(
            f"the Spark Connect server at {where} does not answer", code="query.engine_unavailable",
            hint="check engines.spark.url and that the server runs; DuckDB workgroups are not affected",
            transient=True,
        )  # fmt: skip
    if timed_out is not None:
        return QueryError(
            f"the query ran past its {timed_out:g} s and was stopped", code="query.timeout",
            hint="narrow it (fewer partitions, columns), or ask an admin for a longer timeout",
        )  # fmt: skip
    if cancelled:
        return QueryError("the query was cancelled", code="query.cancelled")
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return QueryError(f"Spark failed on the query: {message}", code="query.failed")


class _Stopper:
    """How one Spark query is stopped (closed, timed out, its engine closing). Its operations
    carry ``tag``; once stopped, they are interrupted — only they — until its feed has ended:
    a single interrupt misses an operation sent a moment later, which would then hold Spark's
    cores for as long as it runs.

    Its execution is not interrupted in its first ``SETTLE_SECONDS``: Spark's adaptive
    execution submits the first stages of a query from threads of its own, and a stage
    submitted just after the interrupt runs on, orphaned (nothing can stop it then)."""

    def __init__(self) -> None:
        self.tag = f"lakegate-{uuid.uuid4().hex}"
        self.stopped = threading.Event()
        self.finished = threading.Event()  # its feed has ended
        self.timed_out: float | None = None  # the limit it ran past, when that stopped it
        self.held: list[Session] = []  # the session running it, once it has one
        self.executing_since: float | None = None  # when its execution was asked for
        self._lock = threading.Lock()

    def stop(self, timed_out: float | None = None) -> None:
        with self._lock:
            if self.stopped.is_set():
                return
            self.timed_out = timed_out
            self.stopped.set()
        threading.Thread(target=self._interrupt, name="lakegate-spark-interrupt", daemon=True).start()

    def _interrupt(self) -> None:
        while True:
            since = self.executing_since
            if since is not None and self.finished.wait(max(0.0, since + SETTLE_SECONDS - time.monotonic())):
                return
            for session in list(self.held):
                with contextlib.suppress(Exception):
                    session.spark.interruptTag(self.tag)
            if self.finished.wait(INTERRUPT_EVERY_SECONDS):
                return


class SparkEngine:
    """The ``Engine`` for a Spark Connect server at ``url`` (``sc://host:port[/;token=...]``)."""

    def __init__(
        self, catalog: Catalog, store: ObjectStore, settings: QuerySettings, url: str, *,
        s3_scheme: str = "s3a", keep_sessions: int = 4,
    ) -> None:  # fmt: skip
        self.catalog = catalog
        self.store = store
        self.settings = settings
        self.url = url
        self.s3_scheme = s3_scheme
        self.planner = Planner(catalog, settings)
        self.sessions = SessionPool(self._session, keep=keep_sessions)
        self._lock = threading.Lock()
        self._running: dict[str, _Stopper] = {}  # how each running query is stopped, by its tag

    # -- sessions ------------------------------------------------------------------------------

    def _session(self) -> Any:
        """A new Spark Connect session (``spark_sessions.py`` keeps them between queries)."""
        # a failed query is reported once, as the stream's error, not also logged with Spark's trace
        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pyspark's note on the pandas version
            from pyspark.sql import SparkSession
            from pyspark.sql.connect.client.retries import DefaultPolicy

            session = SparkSession.builder.remote(self.url).create()  # its own, not the builder's shared one
        # a server that is down is reported within seconds, not after the client's ten minutes
        session.client.set_retry_policies(
            [DefaultPolicy(max_retries=RETRIES, initial_backoff=200, max_backoff=2000)]
        )
        return session

    def _address(self, key: str) -> str:
        """Where Spark reads a stored key: the lake's URL, ``s3://`` in the scheme Spark's
        filesystem for S3 answers to (``engines.spark.s3_scheme``)."""
        url = self.store.url(key)
        if url.startswith("s3://") and self.s3_scheme != "s3":
            return f"{self.s3_scheme}://{url.removeprefix('s3://')}"
        return url

    # -- queries -------------------------------------------------------------------------------

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
        """Run one read-only statement on Spark, its result delivered batch by batch. Refusals
        (the guard, grants, limits, a file Spark cannot read alike) raise here."""
        del reuse_seconds  # Spark keeps no results between sessions
        settings = limits or self.settings
        text = self.planner.translate(sql, dialect, access).strip().rstrip(";")
        plan = self.planner.plan(text, access, max_bytes)
        views = spark_views(plan, self._address)
        statement = query_sql(text, views.names)
        described = self.describe(sql, len(params or []), access=access, dialect=dialect)[0]
        stream = Stream(sorted(plan.tables), plan.bytes_estimated, plan.charged_by_grant)
        stream.engine = "spark"
        stopper = _Stopper()  # before the feed starts: a stream closed at once is stopped too
        stream._interrupt = stopper.stop
        with self._lock:
            self._running[stopper.tag] = stopper
        threading.Thread(
            target=self._feed, args=(views, statement, list(params or []), settings, stream),
            kwargs={"described": described, "stopper": stopper},
            name="lakegate-spark", daemon=True,
        ).start()  # fmt: skip
        return stream

    def _feed(
        self, views: SparkViews, statement: str, params: list[Any], settings: QuerySettings, stream: Stream,
        *, described: pa.Schema, stopper: _Stopper,
    ) -> None:  # fmt: skip
        timer = threading.Timer(settings.timeout_seconds, stopper.stop, args=(settings.timeout_seconds,))
        timer.daemon = True
        timer.start()
        try:
            session, frame = self._open(views, statement, params, settings=settings, stopper=stopper)
            healthy = False
            try:
                stopper.executing_since = time.monotonic()  # set before the last look (see _Stopper)
                if stopper.stopped.is_set():
                    raise QueryError("the query was cancelled", code="query.cancelled")
                self._deliver(session, frame, described, settings, stream)
                healthy = True
            except BaseException as exc:
                healthy = not _session_lost(exc)  # an unreachable server included
                raise
            finally:
                with contextlib.suppress(Exception):
                    session.spark.removeTag(stopper.tag)
                self.sessions.give(session, healthy=healthy)
        except BaseException as exc:
            cancelled = stopper.stopped.is_set()
            stream._fail(_failure(exc, self.url, cancelled=cancelled, timed_out=stopper.timed_out))
        finally:
            timer.cancel()
            stopper.finished.set()
            with self._lock:
                self._running.pop(stopper.tag, None)

    def _open(
        self, views: SparkViews, statement: str, params: list[Any], *, settings: QuerySettings,
        stopper: _Stopper,
    ) -> tuple[Session, Any]:  # fmt: skip
        """A session holding the query's views, and its statement analyzed there (a DataFrame to
        fetch), under ``stopper.tag`` (what cancel interrupts). A kept session the server dropped
        (restarted, idle) fails at its first call, and is replaced once by a new one."""
        capped = statement  # Spark's LIMIT is an INT: a larger cap is no cap
        if settings.max_rows < 2**31 - 2:
            capped = f"SELECT * FROM ({statement}) AS lakegate_result LIMIT {settings.max_rows + 1}"
        for attempt in (1, 2):
            session = self.sessions.take()
            stopper.held[:] = [session]
            session.spark.addTag(stopper.tag)
            try:
                if stopper.stopped.is_set():
                    raise QueryError("the query was cancelled", code="query.cancelled")
                session.load(views)
                return session, session.spark.sql(capped, args=params or None)
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    session.spark.removeTag(stopper.tag)
                lost = _session_lost(exc) and not stopper.stopped.is_set()
                self.sessions.give(session, healthy=not lost and not _unavailable(exc))
                if not (lost and session.reused and attempt == 1):
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _deliver(
        session: Session, frame: Any, described: pa.Schema, settings: QuerySettings, stream: Stream
    ) -> None:
        """Fetch the result chunk by chunk as Spark sends it (the iterator pyspark's own
        ``toLocalIterator`` reads, not ``toArrow``, which holds the whole result), each passed on
        as DuckDB describes it while the next arrives."""
        client = session.spark.client
        plan = frame._plan
        rows = 0
        for item in client.to_table_as_iterator(plan.to_proto(client), plan.observations):
            if not isinstance(item, pa.Table):
                continue  # the result's schema, sent before its rows
            rows += item.num_rows
            if rows > settings.max_rows:
                raise QueryError(
                    f"the query returns more than {settings.max_rows:,} rows", code="query.rows",
                    hint="add a LIMIT or an aggregation, or download the whole result",
                )  # fmt: skip
            chunk = _as_described(item, described)
            if stream._schema is None:
                stream._started(chunk.schema, _engine_types(chunk.schema))
            for batch in chunk.to_batches(max_chunksize=BATCH_ROWS):
                stream._put(batch)
        if stream._schema is None:  # no rows
            stream._started(described, _engine_types(described))
        stream.bytes_scanned = stream.bytes_estimated  # Spark does not say: the files' size
        stream._put(None)

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
        """Run one read-only statement on Spark to its end (see ``stream``)."""
        started = time.perf_counter()
        stream = self.stream(
            sql, params, access=access, limits=limits, max_bytes=max_bytes, dialect=dialect,
            reuse_seconds=reuse_seconds,
        )  # fmt: skip
        table = pa.Table.from_batches(list(stream), schema=stream.schema)
        elapsed = (time.perf_counter() - started) * 1000
        estimated = stream.bytes_estimated  # Spark does not say what it read: the files' size
        return Result(table, elapsed, stream.tables, estimated, estimated, engine="spark")

    @functools.cached_property
    def _duckdb(self) -> QueryEngine:
        """DuckDB over the same views, for what is answered without running the query: the
        columns a statement gives (and so the names Spark's result takes), catalog questions."""
        return QueryEngine(self.catalog, self.store, self.settings)

    def describe(
        self, sql: str, param_count: int = 0, *, access: AccessFor | None = None, dialect: str = "duckdb"
    ) -> tuple[pa.Schema, list[str]]:
        """The columns ``sql`` would return, as DuckDB describes them over the same tables."""
        return self._duckdb.describe(sql, param_count, access=access, dialect=dialect)

    def answer_catalog(
        self, catalog: PgCatalog, sql: str, params: list[Any], snapshot: Snapshot, settings: dict[str, str]
    ) -> CatalogAnswer:
        """A PostgreSQL client's catalog question, answered from the catalog as DuckDB does."""
        return self._duckdb.answer_catalog(catalog, sql, params, snapshot, settings)

    def close(self) -> None:
        """Stop the queries still running (their Spark work with them) and the kept sessions."""
        with self._lock:
            running = list(self._running.values())
        for stopper in running:
            stopper.stop()
        self.sessions.close()
        if "_duckdb" in self.__dict__:
            self._duckdb.close()
