"""Worker processes: the pipeline in several processes, so ingest uses every core.

Python runs one thread at a time per process, and an object on S3 costs about 25 ms of CPU in
botocore, SQLAlchemy and DuckDB, so threads alone stop near 40 objects/s whatever the machine.
Each worker process opens its own catalog connection and store clients from the same settings
and runs one object at a time; the ingest service keeps the scheduling (settling, retries, the
busy set) and receives every outcome. Workers die with the daemon (``PR_SET_PDEATHSIG``), so a
killed ``lakegate up`` never leaves a worker behind that could race a restarted one.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lakegate.catalog.records import Claimant
from lakegate.errors import LakegateError
from lakegate.ingest import judge_worker
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router

logger = logging.getLogger(__name__)

PARENT_ENV = "LAKEGATE_WORKER_OF"  # set in a worker: the daemon's pid (fault injection kills it too)
_PR_SET_PDEATHSIG = 1

_pipeline: Pipeline | None = None
_outcomes: list[Outcome] = []


def _die_with(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe to the parent still ends us on its exit
        pass
    if os.getppid() != parent:
        os._exit(1)  # the daemon died before we could ask to die with it


def _start(home: str, settings: dict[str, Any], parent: int, claimant: Claimant) -> None:
    """Runs once in each worker process."""
    _die_with(parent)
    os.environ[PARENT_ENV] = str(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the daemon, which stops us
    from lakegate.app import open_store
    from lakegate.catalog import Catalog
    from lakegate.config import Settings
    from lakegate.home import resolve_home

    resolved = resolve_home(home)
    loaded = Settings.model_validate(settings)
    store = open_store(resolved, loaded.storage)
    global _pipeline
    _pipeline = Pipeline(
        Catalog(loaded.catalog_url(resolved)),
        store,
        router=Router.from_settings(loaded),
        on_outcome=_outcomes.append,
        judges=judge_worker.from_settings(loaded.ingest),
        claimant=claimant,  # the node's: what a worker claims, its node holds
    )
    _pipeline.warm_up()


def _ready() -> int:
    return os.getpid()


def _run(key: str, resume: bool) -> tuple[list[Outcome], BaseException | None]:
    """Take ``key`` (or its active record, when resuming) to a final state, in a worker."""
    assert _pipeline is not None
    _outcomes.clear()
    error: BaseException | None = None
    try:
        if resume:
            active = _pipeline.catalog.active_for(key)
            if active is not None:
                _pipeline.resume(active)
        else:
            _pipeline.process(key)
    except Exception as exc:
        error = exc
        try:
            pickle.dumps(exc)
        except Exception:
            error = RuntimeError(f"{type(exc).__name__}: {exc}")
    return list(_outcomes), error


class WorkerProcesses:
    """``count`` worker processes; ``run`` blocks the calling thread until its object is done."""

    def __init__(self, home: str, settings: dict[str, Any], count: int, claimant: Claimant) -> None:
        self.home = home
        self.claimant = claimant
        self.settings = settings
        self.count = count
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.home, self.settings, os.getpid(), self.claimant),
        )

    def start(self) -> list[int]:
        """Start every worker now, from this (long-lived) thread; returns their pids."""
        futures = [self._pool.submit(_ready) for _ in range(self.count)]
        return [f.result() for f in futures]

    def reload(self, settings: dict[str, Any]) -> None:
        """New workers with ``settings`` take the next objects; the old ones finish theirs and exit.

        Call from the thread that called ``start`` (workers die with the thread that made them).
        """
        self.settings = settings
        old, self._pool = self._pool, self._new_pool()
        self.start()
        old.shutdown(wait=False)

    def run(self, key: str, resume: bool, on_outcome: Callable[[Outcome], None]) -> None:
        """Raises what the pipeline raised in the worker (a transient error when a worker died)."""
        while True:
            pool = self._pool
            try:
                outcomes, error = pool.submit(_run, key, resume).result()
                break
            except BrokenProcessPool:  # from submit or result: a worker died; the pool is unusable
                with self._lock:
                    if self._pool is pool:
                        logger.error("an ingest worker process died; starting new ones")
                        self._pool = self._new_pool()
                raise LakegateError(
                    f"the worker process taking {key} died; the object is taken again",
                    code="ingest.worker_died",
                    transient=True,
                ) from None
            except RuntimeError:
                if pool is self._pool:
                    raise
                # a reload shut this pool down between reading and submitting: use the new one
        for outcome in outcomes:
            on_outcome(outcome)
        if error is not None:
            raise error

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
