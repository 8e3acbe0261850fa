"""The one way in to the query engine, for every front end: the HTTP API (its queries, queued
queries and downloads), the PostgreSQL wire (its queries, descriptions and catalog questions),
the DB-API ``connect()`` and ``lakegate sql``.

A principal's query runs over its grants, within its workgroup's limits and turn, is counted in
the meter (``/metrics``) and recorded in the history from start to finish, whatever happens to
it. Nothing else calls an engine (``tests/test_architecture.py`` fails if something does).

With many nodes, a cancel may be asked on any node (``History.ask_cancel``): the node running the
query looks for such requests every ``CANCEL_LOOK_SECONDS`` while it runs queries of its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakegate.auth.principals import Principal
from lakegate.auth.slots import SharedAdmission
from lakegate.auth.workgroups import Admission, Workgroup, Workgroups
from lakegate.catalog import Catalog
from lakegate.errors import AuthError, LakegateError, QueryError
from lakegate.query.engines import Engine, Result, Stream
from lakegate.query.explain import explained, visible_to
from lakegate.query.history import History
from lakegate.query.metrics import QueryMeter
from lakegate.query.permissions import Grants, access_print
from lakegate.query.planner import Planner

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog

CANCEL_LOOK_SECONDS = 0.5


def _state(error: LakegateError | None) -> str:
    if error is None:
        return "SUCCEEDED"
    return "CANCELLED" if error.code == "query.cancelled" else "FAILED"


def _cancelled() -> QueryError:
    return QueryError("the query was cancelled", code="query.cancelled")


class Run:
    """A streamed query of a principal: its schema, then its batches. ``finish()`` (always
    called, also by iterating to the end) stops it if need be, gives back its workgroup turn and
    records the outcome."""

    def __init__(
        self,
        gateway: Gateway,
        query_id: str,
        stream: Stream,
        turn: contextlib.ExitStack,
        *,
        via: str,
        began: float,
        explain: Callable[[LakegateError], LakegateError] = lambda e: e,
    ):
        self.id = query_id
        self._explain = explain
        self.stream = stream
        self._gateway = gateway
        self._via = via
        self._turn = turn
        self._began = began
        self._done = False
        self.error: LakegateError | None = None  # once finished: how it failed, if it did
        self.on_end: Callable[[], None] | None = None  # after the last batch, before it is recorded
        self._lock = threading.Lock()  # a cancel (another thread) and the reader may finish at once

    @property
    def schema(self) -> pa.Schema:
        """Waits for the query's first batch. Raises: its error when it fails before (recorded)."""
        try:
            return self.stream.schema
        except LakegateError as exc:
            said = self._explain(exc)
            self.finish(said)
            raise said from None

    @property
    def types(self) -> list[str]:
        """The engine's type of each column (``UUID``, ``JSON``, ``DECIMAL(10,2)``...)."""
        return self.stream.types

    @property
    def rows(self) -> int:
        return self.stream.rows

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.stream
            if self.on_end is not None:
                self.on_end()  # e.g. the result is kept: only then is the query a success
        except LakegateError as exc:
            said = self._explain(exc)
            self.finish(said)
            raise said from None
        except Exception as exc:
            self.finish(QueryError(f"lakegate failed on this query: {exc}", code="query.internal"))
            raise
        self.finish()

    def cancel(self) -> None:
        """Stop it from another thread, recorded as cancelled (unless it had finished)."""
        self.finish(_cancelled())

    def finish(self, error: LakegateError | None = None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            self.error = error
        self.stream.close()
        self._turn.close()
        self._gateway._record(self.id, self._via, self._began, error, self.stream)


class _Stop:
    """How a cancel asked on another node stops a query of this one: before its turn (its
    ``cancelled`` event) and while it runs (its Run, once there is one)."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled
        self.run: Run | None = None

    def __call__(self) -> None:
        self.cancelled.set()
        if self.run is not None:
            self.run.cancel()


class Gateway:
    """Runs principals' queries on ``engine``. ``admission`` gives workgroup turns (shared with
    every node on the catalog: ``SharedAdmission``); ``meter`` counts them; ``history`` records
    them (with this node's name, on many nodes)."""

    def __init__(
        self,
        catalog: Catalog,
        engine: Engine,
        *,
        meter: QueryMeter | None = None,
        admission: Admission | SharedAdmission | None = None,
        history: History | None = None,
        spark: Engine | None = None,
        spark_above_bytes: float = float("inf"),
    ) -> None:
        self.catalog = catalog
        self._engine = engine
        self._grants = Grants(catalog)
        self.workgroups = Workgroups(catalog)
        self.history = history or History(catalog)
        self.admission: Admission | SharedAdmission = admission or Admission()
        self.meter = meter or QueryMeter()
        self._spark = spark  # a second engine: workgroups with engine spark (or auto) run there
        self._spark_above = spark_above_bytes
        self._planner: Planner | None = None  # sizes a query for ``engine: auto``
        self._queued: dict[str, float] = {}  # queued queries: when each was queued
        self._queued_lock = threading.Lock()
        self._stops: dict[str, Callable[[], None]] = {}  # this node's unfinished queries: how to stop each
        self._closed = threading.Event()
        if self.history.node is not None:  # cancels asked on other nodes reach this one
            threading.Thread(target=self._look_for_cancels, name="lakegate-cancels", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._engine.close()
        if self._spark is not None:
            self._spark.close()

    def _pick(
        self, principal: Principal, group: Workgroup | None, sql: str, dialect: str, engine: str | None
    ) -> tuple[Engine, bool]:
        """The engine a query runs on, and whether DuckDB may answer when Spark cannot: the one an
        admin asked for, else its workgroup's (``auto``: Spark when the files it would read hold
        more than ``engines.spark.auto_above_mb``)."""
        if engine is not None and not principal.is_admin:
            raise AuthError(
                f"{principal.name} may not choose the engine: its workgroup does",
                code="auth.forbidden", hint="leave the engine out",
            )  # fmt: skip
        wanted = engine or (group.engine if group is not None else "duckdb")
        if wanted == "duckdb":
            return self._engine, False
        if self._spark is None:
            if wanted == "auto":
                return self._engine, False
            raise QueryError(
                "the query is to run on Spark, but no Spark engine is configured",
                code="query.engine_not_configured",
                hint="set engines.spark.url (sc://host:15002), or the workgroup's engine to duckdb",
            )  # fmt: skip
        if wanted == "spark":
            return self._spark, False
        if self._planner is None:
            self._planner = Planner(self.catalog, self._engine.settings)
        access = self._grants.access_for(principal)
        plan = self._planner.plan(self._planner.translate(sql, dialect, access), access)
        return (self._spark, True) if plan.bytes_estimated > self._spark_above else (self._engine, False)

    def hold(self, query_id: str, stop: Callable[[], None]) -> None:
        """``stop`` is how the unfinished query ``query_id`` is stopped when a cancel for it is
        asked on another node; forgotten when its outcome is recorded."""
        with self._queued_lock:
            self._stops[query_id] = stop

    def _look_for_cancels(self) -> None:
        while not self._closed.wait(CANCEL_LOOK_SECONDS):
            with self._queued_lock:
                if not self._stops:
                    continue  # nothing of ours runs: the catalog is not asked
            try:
                asked = self.history.cancels_asked()
            except LakegateError:
                continue  # the catalog is away: asked again next time
            for query_id in asked:
                with self._queued_lock:
                    stop = self._stops.get(query_id)
                if stop is not None:
                    stop()

    # -- queries ------------------------------------------------------------------------------

    def run(
        self,
        principal: Principal,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        dialect: str = "duckdb",
        via: str = "http",
        reuse_seconds: float | None = None,
        engine: str | None = None,
    ) -> tuple[str, Result, float]:
        """Run a query to its end: its id, its result and the seconds it waited for a turn.
        ``reuse_seconds``: an identical query's result at most this old may answer it;
        ``engine``: duckdb or spark, instead of the workgroup's (admins only).

        Raises: the query's LakegateError (recorded as its outcome)."""
        group = self._workgroup(principal)
        query_id, began = self._begin(principal, sql, via)
        queued = 0.0
        try:
            access = self._grants.access_for(principal)
            chosen, fallback = self._pick(principal, group, sql, dialect, engine)
            with self._turn(group) as queued:

                def execute(on: Engine) -> Result:
                    return on.execute(
                        sql, params, access=access, limits=self._limits(group, streamed=False),
                        max_bytes=group.max_bytes_scanned if group else None, dialect=dialect,
                        reuse_seconds=reuse_seconds,
                    )  # fmt: skip

                try:
                    result = execute(chosen)
                except QueryError as exc:
                    if not (fallback and exc.code == "query.engine_unsupported"):
                        raise
                    result = execute(self._engine)  # auto: DuckDB answers what Spark cannot
        except LakegateError as exc:
            said = self.explain(principal, sql, exc)
            self._record(query_id, via, began, said, None)
            raise said from None
        self.meter.finished("SUCCEEDED", via, time.monotonic() - began)
        self.history.finish(
            query_id, rows=result.table.num_rows, tables=result.tables, bytes_scanned=result.bytes_scanned,
            reused=result.reused, engine=result.engine,
        )  # fmt: skip
        return query_id, result, queued

    def queue(
        self,
        principal: Principal,
        sql: str,
        via: str = "http",
        *,
        request_token: str | None = None,
        athena: dict[str, Any] | None = None,
    ) -> str:
        """Record a query that will be started later (``stream(..., queued=id)``): its id, its
        state QUEUED meanwhile. ``request_token``, ``athena``: see ``History.start``."""
        query_id = self.history.start(
            principal, sql, via, state="QUEUED", request_token=request_token, athena=athena
        )
        self.meter.started()
        with self._queued_lock:
            self._queued[query_id] = time.monotonic()  # its time counts from now, as a run's does
        return query_id

    def _dequeued(self, query_id: str) -> float:
        with self._queued_lock:
            return self._queued.pop(query_id, time.monotonic())

    def stream(
        self,
        principal: Principal,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        dialect: str = "duckdb",
        via: str = "http",
        reuse_seconds: float | None = None,
        queued: str | None = None,
        cancelled: threading.Event | None = None,
        cancel_key: str | None = None,
        engine: str | None = None,
    ) -> Run:
        """Start a query whose result is read batch by batch (no row cap but its workgroup's). It
        runs once its workgroup gives it a turn; ``schema`` waits for its first batch, so it can
        be cancelled before. ``queued``: the id ``queue()`` gave it (its stop ``hold()`` by who
        queued it); ``cancelled``: set while it waited for its turn, it does not start;
        ``cancel_key``: what a PostgreSQL client's CancelRequest for it carries (any node takes it).

        Raises: the query's LakegateError when it is refused (recorded)."""
        stop: _Stop | None = None
        if queued is None:
            query_id, began = self._begin(principal, sql, via, cancel_key)
            stop = _Stop(cancelled or threading.Event())
            cancelled = stop.cancelled
            self.hold(query_id, stop)
        else:
            query_id, began = queued, self._dequeued(queued)
        turn = contextlib.ExitStack()
        try:
            group = self._workgroup(principal)  # the catalog may fail here too: recorded
            turn.enter_context(self._turn(group))
            if cancelled is not None and cancelled.is_set():
                raise _cancelled()
            if queued is not None:
                self.history.running(query_id)
            chosen, fallback = self._pick(principal, group, sql, dialect, engine)

            def start(on: Engine) -> Stream:
                return on.stream(
                    sql, params, access=self._grants.access_for(principal), dialect=dialect,
                    limits=self._limits(group, streamed=True),
                    max_bytes=group.max_bytes_scanned if group else None, reuse_seconds=reuse_seconds,
                )  # fmt: skip

            try:
                stream = start(chosen)
            except QueryError as exc:
                if not (fallback and exc.code == "query.engine_unsupported"):
                    raise
                stream = start(self._engine)  # auto: DuckDB answers what Spark cannot
        except LakegateError as exc:
            turn.close()
            said = self.explain(principal, sql, exc)
            self._record(query_id, via, began, said, None)
            raise said from None
        run = Run(
            self, query_id, stream, turn, via=via, began=began,
            explain=lambda error: self.explain(principal, sql, error),
        )  # fmt: skip
        if stop is not None:
            stop.run = run
            if stop.cancelled.is_set():
                run.cancel()
        return run

    def fail_queued(self, query_id: str, via: str, error: LakegateError) -> None:
        """A queued query that could not be started (a bug, or its access ended): recorded."""
        self._record(query_id, via, self._dequeued(query_id), error, None)

    # -- what a query would give, and metadata -----------------------------------------------

    def describe(
        self, principal: Principal, sql: str, param_count: int = 0, *, dialect: str = "duckdb"
    ) -> tuple[pa.Schema, list[str]]:
        """The columns ``sql`` would give ``principal`` (names, Arrow and engine types), without
        running it. Raises: its LakegateError (not recorded: nothing was read)."""
        access = self._grants.access_for(principal)
        try:
            return self._engine.describe(sql, param_count, access=access, dialect=dialect)
        except LakegateError as exc:
            raise self.explain(principal, sql, exc) from None

    def explain(self, principal: Principal, sql: str, error: LakegateError) -> LakegateError:
        """``error`` said again with its place in ``sql`` and what was probably meant, drawn only
        from what ``principal`` may read (``query/explain.py``)."""
        return explained(error, sql, visible_to(self.catalog, self._grants.access_for(principal)))

    def answer_catalog(
        self, principal: Principal, catalog: PgCatalog, sql: str, params: list[Any], settings: dict[str, str]
    ) -> CatalogAnswer:
        """A PostgreSQL client's question about the catalog (``pg_catalog``,
        ``information_schema``), answered from what ``principal`` may read. Not recorded in the
        history: it reads no table's rows."""
        snapshot = catalog.snapshot(self._grants.access_for(principal))  # read here, not by the engine
        return self._engine.answer_catalog(catalog, sql, params, snapshot, settings)

    def access_print(self, principal: Principal) -> tuple[Any, ...]:
        """What ``principal`` may read, as a fingerprint: a query started under one print runs
        under different rights when it changes."""
        return access_print(principal, self._grants)

    # -- the lifecycle --------------------------------------------------------------------------

    def _workgroup(self, principal: Principal) -> Workgroup | None:
        return self.workgroups.get(principal.workgroup) if principal.workgroup else None

    def _turn(self, group: Workgroup | None) -> contextlib.AbstractContextManager[float]:
        return self.admission.turn(group) if group is not None else contextlib.nullcontext(0.0)

    def _limits(self, group: Workgroup | None, *, streamed: bool) -> Any:
        return group.limits(self._engine.settings, streamed=streamed) if group is not None else None

    def _begin(
        self, principal: Principal, sql: str, via: str, cancel_key: str | None = None
    ) -> tuple[str, float]:
        """The query's id in the history, and when it began."""
        query_id = self.history.start(principal, sql, via, cancel_key=cancel_key)
        self.meter.started()
        return query_id, time.monotonic()

    def _record(
        self, query_id: str, via: str, began: float, error: LakegateError | None, stream: Stream | None
    ) -> None:
        with self._queued_lock:
            self._stops.pop(query_id, None)
        self.meter.finished(_state(error), via, time.monotonic() - began)
        if stream is None:
            self.history.finish(query_id, error=error)
        else:
            self.history.finish(
                query_id,
                rows=stream.rows,
                tables=stream.tables,
                bytes_scanned=stream.bytes_scanned,
                reused=stream.reused,
                error=error,
                engine=stream.engine,
            )
