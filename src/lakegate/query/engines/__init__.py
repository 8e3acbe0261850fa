"""What a query engine is, for the gateway: the ``Engine`` protocol, and the ``Result`` and
``Stream`` it answers with. Engines live in this package, each in a module of its own:

    duck_engine.py   DuckDB in this process: sandboxed threads, instances kept and shared
    isolated.py      DuckDB in engine processes: a query that crashes or exhausts one costs
                     only itself
    spark_engine.py  Apache Spark through Spark Connect: each query in a session of its own,
                     its tables as ``spark_views.py`` builds them from the plan

Only the gateway (``query/gateway.py``) calls an engine; what it asks of one is planned by the
engine-neutral planner (``query/planner.py``), whose plan each engine turns into what it runs
(the DuckDB engines: one view per table, ``query/views.py``). ``tests/query/test_engines.py``
runs one behaviour suite against every engine.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from lakegate.config import QuerySettings
from lakegate.errors import QueryError
from lakegate.query.permissions import AccessFor

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, Snapshot


@dataclass
class Result:
    table: pa.Table
    elapsed_ms: float
    tables: list[str] = field(default_factory=list)  # the catalog tables it read, database.table
    bytes_scanned: int = 0  # bytes it read from files (Parquet: only the columns and row groups needed)
    bytes_estimated: int = 0  # the size of its tables' files, checked against limits before it ran
    reused: bool = False  # the result of an earlier run of the same query over the same files
    engine: str = "duckdb"  # the engine that ran it


class Stream:
    """A result arriving batch by batch: ``schema`` (waits for the query to start), then iterate.
    ``close()`` early stops the query."""

    def __init__(self, tables: list[str], bytes_estimated: int, charged_by_grant: bool = False) -> None:
        self.tables = tables
        self.bytes_estimated = bytes_estimated
        self.charged_by_grant = charged_by_grant  # bytes scanned are reported as estimated (Plan)
        self.bytes_scanned = 0  # what it read from files, known once it is done
        self.reused = False  # the result of an earlier run, replayed
        self.engine = "duckdb"  # the engine running it
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
        stopped = self._closed.is_set()
        if self._schema is None and retry is not None and self._error is not None and not stopped:
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
        """Stop it. A reader waiting for its start or its next batch wakes to "cancelled" — the
        engine, stopped, may never send the end it would have waited for."""
        self._closed.set()
        if self._interrupt is not None:
            with contextlib.suppress(Exception):
                self._interrupt()  # a query busy before its next batch stops too
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        if self._error is None:
            self._error = QueryError("the query was cancelled", code="query.cancelled")
        self._schema_ready.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)


class Engine(Protocol):
    """What the gateway asks of an engine. ``execute`` runs a statement to its end, ``stream``
    starts one whose result is read batch by batch (closing the stream cancels it),
    ``describe`` says the columns a statement would give without running it, and
    ``answer_catalog`` answers a PostgreSQL client's catalog question. ``access`` is the
    caller's grants (``None``: an admin's, everything as it is); ``limits`` its workgroup's
    settings; ``max_bytes`` refuses a statement whose files are larger, before it runs."""

    settings: QuerySettings  # the engine's own limits, which a workgroup's replace

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
