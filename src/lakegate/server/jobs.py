"""Asynchronous queries: submitted, run in the background, their results kept for paging.

    submit → QUEUED (waiting for its workgroup's turn) → RUNNING → SUCCEEDED | FAILED | CANCELLED

A query's result is written, batch by batch, to an Arrow IPC file in the home's ``results/``
folder (by the server, never by the query engine's sandboxed threads), and read back a page at a
time or whole, in any download format. Results are deleted after ``KEEP_SECONDS``; the query's
record stays in the history.

Several nodes behind one address: a query's state is its record in the catalog, and with a
``shared`` results area (the ``results`` storage area, on S3) each result is also put there
before the query counts as SUCCEEDED, so any node answers any query's status, pages and
downloads (fetching a result it did not make once, into its own ``results/`` folder). A cancel
sent to another node is recorded in the catalog; the node running the query sees it within the
gateway's ``CANCEL_LOOK_SECONDS``.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa

from lakegate.auth.principals import Principal
from lakegate.errors import LakegateError, QueryError, StorageError
from lakegate.query.gateway import CANCEL_LOOK_SECONDS, Gateway, Run
from lakegate.query.liveness import AccessWatch
from lakegate.storage import ObjectStore

KEEP_SECONDS = 24 * 3600
_KEPT = (".arrow", ".csv", ".txt", ".etag")
CANCEL_WAIT_SECONDS = 10.0
SHARED_SWEEP_SECONDS = 3600.0


def _not_kept(exc: OSError) -> QueryError:
    return QueryError(
        f"the result could not be kept: {exc}",
        code="query.result_not_kept",
        hint="free some disk space in the home's results/ folder",
        transient=True,
    )


@dataclass
class Job:
    id: str
    principal: str
    run: Run | None = None
    reuse_seconds: float | None = None  # an identical query's result this old may answer it
    engine: str | None = None  # an admin's choice of engine (else the workgroup's)
    via: str = "http"  # the front end: http, athena
    held: int = 0  # its handle in the access watch
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class Jobs:
    """Background queries, run through ``gateway`` (so counted, limited and recorded like any)."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        folder: Path,
        workers: int = 8,
        watch: AccessWatch | None = None,
        shared: ObjectStore | None = None,
    ) -> None:
        self.gateway = gateway
        self.watch = watch
        self.folder = folder
        self.shared = shared
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lakegate-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._swept_shared = 0.0

    def result_path(self, query_id: str) -> Path:
        return self.folder / f"{query_id}.arrow"

    def submit(
        self,
        principal: Principal,
        sql: str,
        params: list[Any] | None,
        dialect: str = "duckdb",
        *,
        reuse_seconds: float | None = None,
        token_id: str | None = None,
        engine: str | None = None,
        via: str = "http",
        request_token: str | None = None,
        athena: dict[str, Any] | None = None,
    ) -> str:
        """Start a query; its id (its state is QUEUED until its workgroup gives it a turn).
        With a ``watch``, it is cancelled when its principal's access (``token_id``) ends.
        ``request_token``, ``athena``: see ``History.start``.

        Raises: QueryError ``query.repeated_request`` (``History.start``)."""
        query_id = self.gateway.queue(principal, sql, via, request_token=request_token, athena=athena)
        job = Job(query_id, principal.name, reuse_seconds=reuse_seconds, engine=engine, via=via)
        self.gateway.hold(query_id, lambda: self._stop(job))  # a cancel asked on another node
        if self.watch is not None:
            job.held = self.watch.hold(principal, token_id, lambda: self._stop(job))
        with self._lock:
            self._jobs[query_id] = job
        self._pool.submit(self._run, job, principal, sql, params, dialect)
        self._sweep()
        return query_id

    def _run(self, job: Job, principal: Principal, sql: str, params: list[Any] | None, dialect: str) -> None:
        error: LakegateError | None = None
        try:
            job.run = self.gateway.stream(
                principal, sql, params, dialect=dialect, via=job.via, reuse_seconds=job.reuse_seconds,
                queued=job.id, cancelled=job.cancelled, engine=job.engine,
            )  # fmt: skip
            if job.cancelled.is_set():  # cancelled as it started: _stop saw no run to stop
                job.run.cancel()
            self._write(job, job.run)
        except LakegateError as exc:
            error = exc  # recorded by the gateway
        except Exception as exc:  # a bug must not leave the query RUNNING forever
            error = QueryError(
                f"lakegate failed on this query: {type(exc).__name__}: {exc}", code="query.internal"
            )
            if job.run is not None:
                job.run.finish(error)
            else:
                self.gateway.fail_queued(job.id, job.via, error)
        finally:
            self.result_path(job.id).with_suffix(".partial").unlink(missing_ok=True)
            if error is not None or (job.run is not None and job.run.error is not None):
                self.result_path(job.id).unlink(missing_ok=True)  # failed, or cancelled as it ended
            if self.watch is not None and job.held:
                self.watch.release(job.held)
            job.done.set()

    def _write(self, job: Job, run: Run) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.result_path(job.id).with_suffix(".partial")
        try:
            sink = pa.OSFile(str(partial), "wb")
            writer = pa.ipc.new_file(sink, run.schema)
        except OSError as exc:
            self._not_kept(run, exc)
        closed = False

        def keep() -> None:  # after the last batch, before the query is recorded as a success
            nonlocal closed
            try:
                writer.close()
                sink.close()
                closed = True
                partial.replace(self.result_path(job.id))
            except OSError as exc:
                self._not_kept(run, exc)
            self._share(job.id)

        run.on_end = keep
        try:
            for batch in run:
                writer.write_batch(batch)
        except OSError as exc:
            self._not_kept(run, exc)
        finally:
            if not closed:
                sink.close()

    @staticmethod
    def _not_kept(run: Run, exc: OSError) -> NoReturn:
        failed = _not_kept(exc)
        run.finish(failed)
        raise failed from None

    def keep(self, query_id: str, table: pa.Table) -> None:
        """Keep a result made without the engine (an answer from the catalog) as any result is.

        Raises: QueryError ``query.result_not_kept``; StorageError (not shared)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.result_path(query_id).with_suffix(".partial")
        try:
            with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            partial.replace(self.result_path(query_id))
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise _not_kept(exc) from None
        self._share(query_id)

    def _share(self, query_id: str) -> None:
        """Put the result where every node finds it. Raises: StorageError (the query fails)."""
        if self.shared is None:
            return
        key = f"{query_id}.arrow"
        with self.result_path(query_id).open("rb") as data:
            self.shared.write(key, data)
        self.gateway.history.kept(query_id, f"results/{key}")

    def cancel(self, query_id: str) -> None:
        """Cancel a query, wherever it runs: here at once; on another node through the catalog,
        waiting (up to ``CANCEL_WAIT_SECONDS``) for that node to stop it."""
        with self._lock:
            job = self._jobs.get(query_id)
        if job is not None:
            if not job.done.is_set():
                self._stop(job)
                job.done.wait(timeout=CANCEL_WAIT_SECONDS)
            return
        history = self.gateway.history
        if history.ask_cancel(query_id) is None:
            return  # finished already
        ends = time.monotonic() + CANCEL_WAIT_SECONDS
        while time.monotonic() < ends:
            history.finish_lost()  # its node is gone: nobody else would finish it
            if history.ask_cancel(query_id) is None:
                return
            time.sleep(CANCEL_LOOK_SECONDS / 2)

    @staticmethod
    def _stop(job: Job) -> None:
        job.cancelled.set()
        if job.run is not None:
            job.run.cancel()

    def wait(self, query_id: str, timeout: float) -> None:
        with self._lock:
            job = self._jobs.get(query_id)
        if job is not None:
            job.done.wait(timeout)

    def result(self, query_id: str) -> pa.Table:
        """The stored result (memory-mapped: pages read only what they show), fetched once from
        the shared results area when another node made it.

        Raises: QueryError ``query.no_result`` when there is none (not finished, failed, expired).
        """
        path = self.result_path(query_id)
        if not path.exists() and self.shared is not None:
            self._fetch(query_id, path)
        if not path.exists():
            raise QueryError(
                f"query {query_id} has no result to read",
                code="query.no_result",
                hint="GET /v1/queries/{id} says its state; results are kept for a day",
            )
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all()

    def _fetch(self, query_id: str, path: Path) -> None:
        assert self.shared is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{threading.get_ident()}.fetching")
        try:
            with self.shared.open(f"{query_id}.arrow") as source, partial.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            partial.replace(path)
        except StorageError as exc:
            if exc.code != "storage.not_found":
                raise
        finally:
            partial.unlink(missing_ok=True)

    def _sweep(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        if self.folder.is_dir():
            for path in self.folder.iterdir():  # results, and the files made from them (CSV for S3)
                with contextlib.suppress(FileNotFoundError):  # another sweep took it
                    if path.suffix in _KEPT and path.stat().st_mtime < cutoff:
                        path.unlink(missing_ok=True)
        with self._lock:
            for key in [
                k for k, j in self._jobs.items() if j.done.is_set() and not self.result_path(k).exists()
            ]:
                self._jobs.pop(key, None)
        if self.shared is not None and time.monotonic() - self._swept_shared > SHARED_SWEEP_SECONDS:
            self._swept_shared = time.monotonic()  # any node may sweep: deleting twice is harmless
            self._pool.submit(self._sweep_shared, self.shared, cutoff)

    @staticmethod
    def _sweep_shared(shared: ObjectStore, cutoff: float) -> None:
        try:
            for info in list(shared.list()):
                if info.mtime_ns / 1e9 < cutoff:
                    shared.delete(info.key)
        except LakegateError:
            pass  # swept next time

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self._stop(job)
        self._pool.shutdown(wait=False, cancel_futures=True)
