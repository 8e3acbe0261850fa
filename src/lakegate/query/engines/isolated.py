"""Queries in engine processes: a query that crashes the engine or exhausts its memory costs
that query, never the server.

An analyst's SQL is untrusted input to DuckDB. Some statements crash the process they run in
(``json_structure`` of a document nested 100,000 levels deep overflows the stack), and some
allocate outside DuckDB's memory limit (``repeat('x', 2000000000)``). So ``lakegate up`` runs
queries in engine processes — each a full ``QueryEngine`` on the same catalog and store, running
one query at a time — under an address-space cap of the query memory limit plus a margin
(``query.process_memory_margin_mb``). When one dies, its query fails with
``query.engine_crashed``; a new process takes the next query; nothing else notices.

``IsolatedEngine`` offers what the gateway uses of an engine (``execute``, ``stream``,
``describe``, ``settings``, ``executor``) and sends each call to an idle engine process, started
when none is idle (up to ``query.processes``; beyond, a query waits for one to be free).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakegate.child_process import Child, Died, Pipe, child_pipe, die_with_parent
from lakegate.config import QuerySettings
from lakegate.errors import AuthError, GuardError, LakegateError, QueryError
from lakegate.query.engines import Result, Stream
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import AccessFor
from lakegate.query.sandbox import ReadOnlyExecutor

if TYPE_CHECKING:
    from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, Snapshot

logger = logging.getLogger(__name__)

_START_SECONDS = 120.0
_STOP_SECONDS = 10.0  # a cancelled query's engine process has this long to stop it
_ERRORS: dict[str, type[LakegateError]] = {
    "GuardError": GuardError,
    "QueryError": QueryError,
    "AuthError": AuthError,
}


def _error_fields(exc: BaseException) -> tuple[str, str, str, str | None, bool, dict[str, Any]]:
    if isinstance(exc, LakegateError):
        return (type(exc).__name__, exc.message, exc.code, exc.hint, exc.transient, exc.details)
    return ("QueryError", f"{type(exc).__name__}: {exc}", "query.failed", None, False, {})


def _error(fields: tuple[str, str, str, str | None, bool, dict[str, Any]]) -> LakegateError:
    kind, message, code, hint, transient, details = fields
    cls = _ERRORS.get(kind, LakegateError)
    return cls(message, code=code, hint=hint, transient=transient, details=details)


def _memory_bytes(limit: str) -> int:
    number, unit = limit.strip().upper().replace(" ", "").rstrip("B").rstrip("I") or "0", ""
    for suffix in ("K", "M", "G", "T"):
        if number.endswith(suffix):
            number, unit = number[:-1], suffix
    scale = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[unit]
    return int(float(number) * scale)


# -- the engine process --------------------------------------------------------------------------


def main() -> None:
    """``python -m lakegate.query.engines.isolated <server pid> <address-space cap>``: an engine process."""
    pipe = child_pipe()
    die_with_parent(int(sys.argv[1]))
    home, settings_dump = pipe.recv()
    from lakegate.app import open_store
    from lakegate.catalog import Catalog
    from lakegate.config import Settings
    from lakegate.home import resolve_home

    resolved = resolve_home(home)
    settings = Settings.model_validate(settings_dump)
    store = open_store(resolved, settings.storage, query=True)
    engine = QueryEngine(Catalog(settings.catalog_url(resolved)), store, settings.query)
    cap = int(sys.argv[2])
    if cap:  # once the catalog and the engine are open: the cap is for queries
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _Served(pipe, engine).serve()


class _Served:
    """The engine process's side: requests in order; an interrupt may arrive while one runs."""

    def __init__(self, pipe: Pipe, engine: QueryEngine) -> None:
        self.pipe = pipe
        self.engine = engine
        self.requests: list[Any] = []
        self.arrived = threading.Condition()
        self.current: Stream | None = None
        # Streams are numbered in the order they are asked for; an interrupt names the one it is
        # for, so one that arrives late (its query ended, the next one running) stops nothing.
        self.number = 0  # the current (or last) stream's
        self.interrupted = 0  # the last stream an interrupt was for
        self.send_lock = threading.Lock()
        self.catalogs: dict[tuple[str, int], Any] = {}  # sessions' pg_catalog, recently used last

    def send(self, message: Any) -> None:
        with self.send_lock:
            self.pipe.send(message)

    def serve(self) -> None:
        threading.Thread(target=self._listen, name="lakegate-engine-listen", daemon=True).start()
        self.send("ready")
        while True:
            with self.arrived:
                while not self.requests:
                    self.arrived.wait()
                request = self.requests.pop(0)
            if request is None:
                return
            self._handle(request)

    def _listen(self) -> None:
        while True:
            try:
                message = self.pipe.recv()
            except (EOFError, OSError):
                message = None
            if message is not None and message[0] == "interrupt":
                self.interrupted = message[1]
                current = self.current
                if current is not None and self.number == message[1]:
                    threading.Thread(target=self._stop, args=(current,), daemon=True).start()
                continue
            with self.arrived:
                self.requests.append(message)
                self.arrived.notify()
            if message is None:
                return

    def _stop(self, stream: Stream) -> None:
        """Stop the query of ``stream``: closed now, and interrupted again until it has ended (an
        interrupt that came while the engine was still starting it would be lost)."""
        stream.close()
        while self.current is stream:
            interrupt = stream._interrupt
            if interrupt is not None:
                with contextlib.suppress(Exception):
                    interrupt()
            time.sleep(0.1)

    def _handle(self, request: tuple[Any, ...]) -> None:
        op, sql, params, options = request
        try:
            if op == "execute":
                result = self.engine.execute(sql, params, **options)
                self.send(("result", _table_bytes(result.table), result.elapsed_ms, result.tables,
                           result.bytes_scanned, result.bytes_estimated, result.reused))  # fmt: skip
            elif op == "describe":
                schema, types = self.engine.describe(sql, params, **options)
                self.send(("described", schema.serialize().to_pybytes(), types))
            elif op == "catalog":
                answer = self._catalog_answer(sql, params, **options)
                self.send(("answered", _table_bytes(answer.table), answer.types))
            else:
                self._stream(sql, params, options)
        except MemoryError:
            self.send(("error", _error_fields(_out_of_memory())))
        except BaseException as exc:
            self.send(("error", _error_fields(exc)))

    def _catalog_answer(
        self,
        sql: str,
        params: list[Any],
        *,
        user: str,
        process_id: int,
        snapshot: Any,
        settings: dict[str, str],
    ) -> Any:
        from lakegate.query.pg_catalog import PgCatalog

        key = (user, process_id)
        catalog = self.catalogs.pop(key, None) or PgCatalog(self.engine.catalog, user, process_id)
        self.catalogs[key] = catalog  # the most recent last
        while len(self.catalogs) > 16:
            self.catalogs.pop(next(iter(self.catalogs)))
        return self.engine.answer_catalog(catalog, sql, params, snapshot, settings)

    def _stream(self, sql: str, params: Any, options: dict[str, Any]) -> None:
        self.number += 1
        stream = self.engine.stream(sql, params, **options)
        self.current = stream
        if self.interrupted == self.number:  # cancelled before it started
            threading.Thread(target=self._stop, args=(stream,), daemon=True).start()
        self.send(("opened", stream.tables, stream.bytes_estimated, stream.charged_by_grant))
        try:
            schema = stream.schema
            self.send(("started", schema.serialize().to_pybytes(), stream.types, stream.reused))
            for batch in stream:
                self.send(("batch", batch.serialize().to_pybytes()))
            self.send(("end", stream.bytes_scanned, stream.rows))
        except MemoryError:
            self.send(("failed", _error_fields(_out_of_memory())))
        except BaseException as exc:
            self.send(("failed", _error_fields(exc)))
        finally:
            self.current = None
            stream.close()


def _out_of_memory() -> QueryError:
    return QueryError(
        "the query needed more memory than its engine process may have",
        code="query.memory",
        hint="aggregate or filter more, or raise query.memory_limit",
    )


def _table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


# -- the server's side ---------------------------------------------------------------------------


class _Process(Child):
    def __init__(self, home: str, settings_dump: dict[str, Any], cap: int) -> None:
        super().__init__(__name__, str(cap))
        self.send((home, settings_dump))
        self.streams = 0  # streams asked of it: an interrupt names the one it is for

    def ask(self) -> Any:
        """The engine process's next message. Raises: QueryError ``query.engine_crashed``."""
        try:
            return self.receive()
        except Died as exc:
            raise _crashed(exc.how) from None


def _crashed(how: str) -> QueryError:
    return QueryError(
        f"the engine process running the query {how}; the server and other queries are unaffected",
        code="query.engine_crashed",
        hint="the statement (or data it reads) crashed the engine: simplify it; deeply nested JSON "
        "and huge strings or lists are the usual causes",
    )


class IsolatedEngine:
    """What the gateway uses of a ``QueryEngine``, each call run in an engine process."""

    def __init__(
        self,
        home: str,
        settings_dump: dict[str, Any],
        settings: QuerySettings,
        *,
        processes: int = 8,
        margin_mb: int = 1024,
        allow_tcp_ports: tuple[int, ...] = (),
    ) -> None:
        self.home = home
        self.settings_dump = settings_dump
        self.settings = settings
        self.most = max(1, processes)
        self.cap = _memory_bytes(settings.memory_limit) + margin_mb * 1024**2 if margin_mb else 0
        # pg_catalog answers run here, on kernel-restricted threads (their own small DuckDB)
        self.executor = ReadOnlyExecutor(workers=2, allow_tcp_ports=allow_tcp_ports)
        self._idle: list[_Process] = []
        self._count = 0
        self._free = threading.Condition()
        self._closed = False
        atexit.register(self.close)

    def warm_up(self) -> None:
        """Start one engine process now, so the first query does not wait for it."""
        try:
            self._give_back(self._take(), keep=True)
        except LakegateError as exc:  # the first query says it again, to whoever asked
            logger.warning("no engine process could start yet: %s", exc.one_line())

    # -- the engine's calls --------------------------------------------------------------------

    def _call(self, op: str, sql: str, params: Any, options: dict[str, Any]) -> Any:
        """Ask a free engine process ``op`` and wait for its answer (the process is free again
        after, or stopped when it died). Raises: the answer's error."""
        process = self._take()
        keep = False
        try:
            process.send((op, sql, params, options))
            answer = process.ask()
            keep = True
        finally:
            self._give_back(process, keep)
        if answer[0] == "error":
            raise _error(answer[1])
        return answer

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
        options = {"access": access, "limits": limits, "max_bytes": max_bytes, "dialect": dialect,
                   "reuse_seconds": reuse_seconds}  # fmt: skip
        answer = self._call("execute", sql, list(params) if params else None, options)
        _, data, elapsed, tables, scanned, estimated, reused = answer
        table = pa.ipc.open_stream(data).read_all()
        return Result(table, elapsed, tables, scanned, estimated, reused)

    def describe(
        self, sql: str, param_count: int = 0, *, access: AccessFor | None = None, dialect: str = "duckdb"
    ) -> tuple[pa.Schema, list[str]]:
        answer = self._call("describe", sql, param_count, {"access": access, "dialect": dialect})
        return pa.ipc.read_schema(pa.py_buffer(answer[1])), answer[2]

    def answer_catalog(
        self, catalog: PgCatalog, sql: str, params: list[Any], snapshot: Snapshot, settings: dict[str, str]
    ) -> CatalogAnswer:
        """A PostgreSQL client's catalog query, answered in an engine process (with the tables'
        descriptions, which that process may not have)."""
        from lakegate.query.pg_catalog import CatalogAnswer

        if snapshot.notes is None:
            notes = {
                (t.database, t.name): catalog.catalog.descriptions(t.database, t.name)
                for t, _ in snapshot.tables
            }
            snapshot = replace(snapshot, notes=notes)
        options = {
            "user": catalog.user,
            "process_id": catalog.process_id,
            "snapshot": snapshot,
            "settings": settings,
        }
        answer = self._call("catalog", sql, params, options)
        table = pa.ipc.open_stream(answer[1]).read_all()
        return CatalogAnswer(table.schema, answer[2], table)

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
        """Refusals raise here; failures while it runs, from the stream."""
        options = {"access": access, "limits": limits, "max_bytes": max_bytes, "dialect": dialect,
                   "reuse_seconds": reuse_seconds}  # fmt: skip
        process = self._take()
        process.streams += 1
        number = process.streams
        try:
            process.send(("stream", sql, list(params) if params else None, options))
            answer = process.ask()
        except QueryError:
            self._give_back(process, keep=False)
            raise
        if answer[0] == "error":
            self._give_back(process, keep=True)
            raise _error(answer[1])
        _, tables, estimated, by_grant = answer
        stream = Stream(tables, estimated, by_grant)
        stream._interrupt = lambda: _quietly(process.send, ("interrupt", number))
        threading.Thread(
            target=self._feed, args=(process, stream), name="lakegate-engine-feed", daemon=True
        ).start()
        return stream

    def _feed(self, process: _Process, stream: Stream) -> None:
        """Hand the engine process's batches to ``stream`` until the query ends; then the
        process is free again."""
        keep = False
        schema: pa.Schema | None = None
        try:
            while True:
                if stream._closed.is_set() and not process.pipe.poll(_STOP_SECONDS):
                    # cancelled, and the engine process does not stop its query: the process goes
                    stream._fail(QueryError("the query was cancelled", code="query.cancelled"))
                    return
                message = process.ask()
                kind = message[0]
                if kind == "started":
                    schema = pa.ipc.read_schema(pa.py_buffer(message[1]))
                    stream.reused = message[3]
                    stream._started(schema, message[2])
                elif kind == "batch":
                    assert schema is not None
                    batch = pa.ipc.read_record_batch(pa.py_buffer(message[1]), schema)
                    try:
                        stream._put(batch)
                    except QueryError:  # closed early: the engine process was told; wait for its end
                        continue
                elif kind == "end":
                    stream._interrupt = None  # its process is about to serve other queries
                    stream.bytes_scanned = message[1]
                    keep = True
                    with contextlib.suppress(QueryError):
                        stream._put(None)
                    return
                else:  # failed
                    keep = True
                    stream._interrupt = None
                    stream._fail(_error(message[1]))
                    return
        except QueryError as exc:  # the engine process died
            stream._fail(exc)
        finally:
            self._give_back(process, keep)

    # -- the processes ---------------------------------------------------------------------------

    def _take(self) -> _Process:
        with self._free:
            while True:
                if self._closed:
                    raise _unavailable("the server is stopping")
                while self._idle:
                    process = self._idle.pop()
                    if process.alive():
                        return process
                    self._count -= 1
                    process.stop()
                if self._count < self.most:
                    self._count += 1
                    break
                self._free.wait()
        try:
            process = _Process(self.home, self.settings_dump, self.cap)
            try:
                ready = process.wait_ready(_START_SECONDS)
            except Died as exc:
                raise QueryError(
                    f"no engine process could start: it {exc.how}",
                    code="query.engine_unavailable",
                    transient=True,
                ) from None
            if not ready:
                raise QueryError(
                    "no engine process started in time", code="query.engine_unavailable", transient=True
                )
        except BaseException:
            with self._free:
                self._count -= 1
                self._free.notify()
            raise
        return process

    def _give_back(self, process: _Process, keep: bool) -> None:
        with self._free:
            if keep and process.alive() and not self._closed:
                self._idle.append(process)
            else:
                self._count -= 1
                process.stop()
            self._free.notify()

    def processes(self) -> int:
        with self._free:
            return self._count

    def close(self) -> None:
        with self._free:
            self._closed = True
            idle, self._idle = self._idle, []
            self._free.notify_all()
        for process in idle:
            process.stop(gently=True)
        self.executor.shutdown()


def _unavailable(message: str) -> QueryError:
    return QueryError(message, code="query.engine_unavailable", transient=True)


def _quietly(call: Any, *args: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        call(*args)


if __name__ == "__main__":
    from lakegate.query.engines.isolated import main as _main

    _main()
