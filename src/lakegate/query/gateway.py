"""One way in for every front end (HTTP, PostgreSQL wire, background jobs): a principal's query
runs over its grants, within its workgroup's limits and turn, and is recorded in the history
from start to finish, whatever happens to it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import pyarrow as pa

from lakegate.auth.grants import Grants
from lakegate.auth.principals import Principal
from lakegate.auth.workgroups import Admission, Workgroup, Workgroups
from lakegate.catalog import Catalog
from lakegate.errors import LakegateError, QueryError
from lakegate.query.engine import Engine, Result, Stream
from lakegate.query.history import History


class Meter(Protocol):
    def started(self) -> None: ...

    def finished(self, state: str, seconds: float) -> None: ...


class _NoMeter:
    def started(self) -> None:
        pass

    def finished(self, state: str, seconds: float) -> None:
        pass


def _state(error: LakegateError | None) -> str:
    if error is None:
        return "SUCCEEDED"
    return "CANCELLED" if error.code == "query.cancelled" else "FAILED"


class Run:
    """A streamed query of a principal: its schema, then its batches. ``finish()`` (always
    called, also by iterating to the end) stops it if need be, gives back its workgroup turn and
    records the outcome."""

    def __init__(
        self, gateway: Gateway, query_id: str, stream: Stream, turn: contextlib.ExitStack, began: float
    ):
        self.id = query_id
        self.stream = stream
        self._gateway = gateway
        self._turn = turn
        self._began = began
        self._done = False
        self._lock = threading.Lock()  # a cancel (another thread) and the reader may finish at once

    @property
    def schema(self) -> pa.Schema:
        """Waits for the query's first batch. Raises: its error when it fails before (recorded)."""
        try:
            return self.stream.schema
        except LakegateError as exc:
            self.finish(exc)
            raise

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
        except LakegateError as exc:
            self.finish(exc)
            raise
        except Exception as exc:
            self.finish(QueryError(f"lakegate failed on this query: {exc}", code="query.internal"))
            raise
        self.finish()

    def finish(self, error: LakegateError | None = None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self.stream.close()
        self._turn.close()
        self._gateway._record(self.id, self._began, error, self.stream)


class Gateway:
    def __init__(
        self,
        catalog: Catalog,
        engine: Engine,
        *,
        meter: Meter | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.catalog = catalog
        self.engine = engine
        self.grants = Grants(catalog)
        self.workgroups = Workgroups(catalog)
        self.history = History(catalog)
        self.admission = admission or Admission()  # shared with whatever else runs this server's queries
        self.meter: Meter = meter or _NoMeter()

    def run(
        self,
        principal: Principal,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        dialect: str = "duckdb",
        via: str = "http",
        reuse_seconds: float | None = None,
    ) -> tuple[str, Result, float]:
        """Run a query to its end: its id, its result and the seconds it waited for a turn.
        ``reuse_seconds``: an identical query's result at most this old may answer it.

        Raises: the query's LakegateError (recorded as its outcome)."""
        group, query_id, began = self._begin(principal, sql, via)
        queued = 0.0
        try:
            access = self.grants.access_for(principal)
            if group is None:
                result = self.engine.execute(
                    sql, params, access=access, dialect=dialect, reuse_seconds=reuse_seconds
                )
            else:
                with self.admission.turn(group) as queued:
                    result = self.engine.execute(
                        sql, params, access=access, limits=group.limits(self.engine.settings),
                        max_bytes=group.max_bytes_scanned, dialect=dialect, reuse_seconds=reuse_seconds,
                    )  # fmt: skip
        except LakegateError as exc:
            self._record(query_id, began, exc, None)
            raise
        self.meter.finished("SUCCEEDED", time.monotonic() - began)
        self.history.finish(
            query_id, rows=result.table.num_rows, tables=result.tables, bytes_scanned=result.bytes_scanned,
            reused=result.reused,
        )  # fmt: skip
        return query_id, result, queued

    def stream(
        self,
        principal: Principal,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        dialect: str = "duckdb",
        via: str = "http",
        reuse_seconds: float | None = None,
    ) -> Run:
        """Start a query whose result is read batch by batch (no row cap but its workgroup's). It
        runs at once; ``schema`` waits for its first batch, so it can be cancelled before.

        Raises: the query's LakegateError when it is refused (recorded)."""
        group, query_id, began = self._begin(principal, sql, via)
        turn = contextlib.ExitStack()
        try:
            if group is not None:
                turn.enter_context(self.admission.turn(group))
            stream = self.engine.stream(
                sql, params, access=self.grants.access_for(principal), dialect=dialect,
                limits=group.limits(self.engine.settings, streamed=True) if group else None,
                max_bytes=group.max_bytes_scanned if group else None, reuse_seconds=reuse_seconds,
            )  # fmt: skip
        except LakegateError as exc:
            turn.close()
            self._record(query_id, began, exc, None)
            raise
        return Run(self, query_id, stream, turn, began)

    def _begin(self, principal: Principal, sql: str, via: str) -> tuple[Workgroup | None, str, float]:
        """The principal's workgroup, the query's id in the history, and when it began."""
        group = self.workgroups.get(principal.workgroup) if principal.workgroup else None
        query_id = self.history.start(principal, sql, via)
        self.meter.started()
        return group, query_id, time.monotonic()

    def _record(
        self, query_id: str, began: float, error: LakegateError | None, stream: Stream | None
    ) -> None:
        self.meter.finished(_state(error), time.monotonic() - began)
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
            )
