"""The ingest service: events and the reconciler feed candidates; settled files go to workers.

A file in a landing folder is taken only once its writer is done (``settle.py``: no process has
it open for writing, or, where the kernel cannot tell, it stayed unchanged for a quiet period);
an S3 object appears whole, so it is taken at once. Work for one key never runs twice at once,
and a key is looked at again when its work ends (a new file may have landed under its name).
Transient failures (storage or catalog unavailable) are retried with exponential backoff and
jitter; the object stays in its committed state meanwhile, so nothing is lost. On S3 the
pipeline runs in worker processes (``ingest.processes``) so that ingest is not held to one core.
"""

from __future__ import annotations

import heapq
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lakegate.app import LANDING_PREFIX, App
from lakegate.catalog import ObjectRecord
from lakegate.catalog.records import Claimant
from lakegate.errors import LakegateError
from lakegate.events.inotify import InotifyWatcher, inotify_available
from lakegate.events.reconciler import Reconciler
from lakegate.events.watcher import Watcher
from lakegate.ingest import judge_worker
from lakegate.ingest.archive import Archive
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.ingest.settle import BUSY_RECHECK, Settling
from lakegate.ingest.workers import WorkerProcesses
from lakegate.keys import printable
from lakegate.storage import ObjectInfo
from lakegate.storage.local import is_partial_name
from lakegate.storage.writers import PROBE

if TYPE_CHECKING:
    from lakegate.cluster.heartbeat import Heartbeat

logger = logging.getLogger(__name__)

RETENTION_SECONDS = 3600.0
LEADER_LOOK_SECONDS = 30.0  # how soon a node that comes to lead runs the housekeeping
RESCUERS = 2  # threads taking over the deliveries of nodes that died
# A held file a process still writes to: taken once it is done, without a warning or a backoff.
WAITING_CODES = ("ingest.being_written", "storage.changed_while_read", "ingest.replaying")


class IngestService:
    """``cluster``: the node's heartbeat, when other nodes may share the catalog: objects are
    claimed as this node, listing takes this node's share of the keys, expired claims of other
    nodes are taken over, and housekeeping runs on the leader only."""

    def __init__(
        self,
        app: App,
        on_outcome: Callable[[Outcome], None] | None = None,
        *,
        cluster: Heartbeat | None = None,
    ) -> None:
        self.app = app
        self.cluster = cluster
        self.settings = app.settings.ingest
        self.counts: dict[str, int] = {}
        self._user_outcome = on_outcome
        self.judges = judge_worker.from_settings(self.settings)
        self.pipeline = Pipeline(
            app.catalog,
            app.store,
            router=Router.from_settings(app.settings),
            on_outcome=self._outcome,
            judges=self.judges,
            claimant=cluster.claimant if cluster is not None else None,
        )
        self.claimant: Claimant = self.pipeline.claimant
        self._lock = threading.Lock()
        self.settling = Settling(app.store, self.settings.settle_seconds, self.settings.settle_max_seconds)
        self._busy: set[str] = set()
        self._again: set[str] = set()  # busy keys an event named meanwhile: looked at when done
        self._retry: list[tuple[float, str]] = []
        self._failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.workers, thread_name_prefix="lakegate-ingest"
        )
        # a dead node's deliveries are taken over at once, not behind this node's backlog
        self._rescue = ThreadPoolExecutor(max_workers=RESCUERS, thread_name_prefix="lakegate-takeover")
        self.reconciler = Reconciler(app.store, LANDING_PREFIX, self.settings.reconcile_seconds, self._listed)
        self.watcher: Watcher | InotifyWatcher | None = None
        self._landing_folder = app.store.local_folder("landing")
        if self._landing_folder is not None:
            if inotify_available():
                self.watcher = InotifyWatcher(
                    self._landing_folder.root, LANDING_PREFIX, self.notify, self.reconciler.kick
                )
            else:
                self.watcher = Watcher(self._landing_folder.root, LANDING_PREFIX, self.notify)
        self._ticker = threading.Thread(target=self._tick_loop, name="lakegate-settle", daemon=True)
        self._keeper = threading.Thread(target=self._housekeeping, name="lakegate-archive", daemon=True)
        self.processes = min(self._process_count(), self.settings.workers)  # one object each at a time
        self._processes: WorkerProcesses | None = None
        if self.processes:
            self._processes = WorkerProcesses(
                str(app.home.root), app.settings.model_dump(), self.processes, self.claimant
            )

    def _process_count(self) -> int:
        if self.settings.processes is not None:
            return self.settings.processes
        if not self.app.settings.storage.uses_s3():
            return 0
        return min(self.settings.workers, 2 * (os.cpu_count() or 1))

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        # Only this process (it holds the home lock) writes in lake/ and quarantine/.
        for area in ("lake", "quarantine"):
            folder = self.app.store.local_folder(area)
            removed = folder.remove_stale_temp_files("") if folder else 0
            if removed:
                logger.info("removed %d partial copies left in %s by an earlier stop", removed, area)
        if self._processes is not None:
            self._processes.start()  # from this thread, which lives as long as the daemon
        else:
            for _ in range(self.settings.workers):
                self._pool.submit(self._warm_up)
        for obj in self.app.catalog.claimable(self.claimant):  # its own, and those left by dead nodes
            self._submit_resume(obj)
        if self._landing_folder is not None:
            self._say_how_files_settle(self._landing_folder.root)
        if self.watcher:
            self.watcher.start()
        self.reconciler.start()
        self._ticker.start()
        self._keeper.start()

    def _say_how_files_settle(self, root: Path) -> None:
        """Warn when the kernel cannot say who writes landing files: they wait a quiet period."""
        try:
            local = PROBE.local(root.stat().st_dev)
        except OSError:
            return
        if not local:
            logger.warning(
                "landing/ (%s) is on a file system other machines may write to, or this is not Linux: "
                "a file is taken once unchanged for %.0f s (ingest.settle_seconds), longer while it "
                "keeps changing",
                root,
                self.settings.settle_seconds,
            )

    def stop(self) -> None:
        self._stop.set()
        if self.watcher:
            self.watcher.stop()
        self.reconciler.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._rescue.shutdown(wait=True, cancel_futures=True)
        if self._processes is not None:
            self._processes.stop()

    def reload(self) -> None:
        """Take the datasets and routing in ``app.settings`` for every object taken from now on."""
        self.pipeline.router = Router.from_settings(self.app.settings)
        if self._processes is not None:
            self._processes.reload(self.app.settings.model_dump())

    def _warm_up(self) -> None:
        try:
            self.pipeline.warm_up()
        except Exception:
            logger.exception("warming up an ingest worker failed")

    def _outcome(self, outcome: Outcome) -> None:
        with self._lock:
            self.counts[outcome.kind] = self.counts.get(outcome.kind, 0) + 1
        if self._user_outcome:
            self._user_outcome(outcome)

    # -- candidates -------------------------------------------------------------------------

    def notify(self, key: str, closed: bool = False) -> None:
        """An event says ``key`` may have changed; ``closed``: a writer just closed it, or it
        was renamed into place (the watcher's close and move events)."""
        if is_partial_name(key.rsplit("/", 1)[-1]):
            return
        if self._landing_folder is None:
            # S3 objects appear whole: no need to watch them settle, nor to look before taking
            # one (the pipeline's first step does, and a missing key is a no-op there).
            self._submit(key)
            return
        with self._lock:
            if key in self._busy:
                self._again.add(key)
                return
        if not closed and key in self.settling:
            return  # already watched: the next look sees the change
        self._look(key, time.monotonic())

    def _listed(self, info: ObjectInfo) -> None:
        if self._landing_folder is None:
            if self.cluster is None or self.cluster.in_shard(info.key):
                self._submit(info.key)
            return
        with self._lock:
            if info.key in self._busy:
                return
        self.settling.saw(info.key, time.monotonic())

    def _look(self, key: str, now: float) -> None:
        try:
            ready = self.settling.ready(key, now)
        except LakegateError:
            return  # the folder is unreadable now: the key stays a candidate, looked at again
        if ready:
            self._submit(key)

    def _housekeeping(self) -> None:
        """Finish archive moves a crash interrupted, then apply retention, at once and every hour
        — on the node that leads housekeeping (any node, once the leader is gone)."""
        archive = Archive(self.app.catalog, self.app.store)
        last = -RETENTION_SECONDS
        while True:
            if self.cluster is None or self.cluster.leads:
                if time.monotonic() - last >= RETENTION_SECONDS:
                    last = time.monotonic()
                    try:
                        archive.settle()
                        for table, count in archive.expire(self.pipeline.router).items():
                            logger.warning("retention: archived %d files of %s", count, table)
                    except Exception:
                        logger.exception("archive housekeeping failed; it runs again in an hour")
            else:
                last = -RETENTION_SECONDS  # should this node lead later, it runs at once
            if self._stop.wait(LEADER_LOOK_SECONDS):
                return

    def _take_over(self) -> None:
        """Resume what nodes whose lease ran out left unfinished."""
        for obj in self.app.catalog.claimable(self.claimant):
            if obj.claimed_by != self.claimant.node:  # its own are in hand, or waiting for a retry
                logger.info("taking over %s from node %s", printable(obj.source_key), obj.claimed_by)
                self._submit_resume(obj, self._rescue)

    def _tick_loop(self) -> None:
        step = min(0.05, max(self.settings.settle_seconds / 4, 0.01))
        looked = time.monotonic()
        while not self._stop.wait(step):
            try:
                self._tick()
                if self.cluster is not None and time.monotonic() - looked > self.claimant.lease_seconds / 5:
                    looked = time.monotonic()
                    self._take_over()
            except LakegateError as exc:
                logger.warning("ingest scheduler: %s", exc.one_line())
            except Exception:
                logger.exception("ingest scheduler tick failed")

    def _tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = []
            while self._retry and self._retry[0][0] <= now:
                due.append(heapq.heappop(self._retry)[1])
        for key in due:
            self._submit(key)
        for key in self.settling.due(now):
            self._look(key, now)

    def busy(self) -> bool:
        """Whether a delivery is being taken (not one still being written: that costs nothing)."""
        with self._lock:
            return bool(self._busy)

    def _submit(self, key: str) -> None:
        with self._lock:
            if key in self._busy:
                return
            self._busy.add(key)
        self._pool.submit(self._work, key, None)

    def _submit_resume(self, obj: ObjectRecord, pool: ThreadPoolExecutor | None = None) -> None:
        with self._lock:
            if obj.source_key in self._busy:
                return
            self._busy.add(obj.source_key)
        (pool or self._pool).submit(self._work, obj.source_key, obj)

    def _work(self, key: str, resume: ObjectRecord | None) -> None:
        try:
            if self._processes is not None:
                self._processes.run(key, resume is not None, self._outcome)
            elif resume is not None:
                self.pipeline.resume(resume)
            else:
                self.pipeline.process(key)
            self._failures.pop(key, None)
        except Exception as exc:
            self._schedule_retry(key, exc)
        finally:
            with self._lock:
                self._busy.discard(key)
                again = key in self._again
                self._again.discard(key)
            if self._landing_folder is not None and (again or resume is None):
                self.notify(key)  # a file landed under its name meanwhile, or one was put back

    def _schedule_retry(self, key: str, exc: Exception) -> None:
        if getattr(exc, "code", "") == "catalog.claim_lost":
            logger.warning("%s: %s", printable(key), exc)  # the node that took it over finishes it
            return
        if getattr(exc, "code", "") in WAITING_CODES:
            logger.debug("%s: %s", key, exc)
            with self._lock:
                heapq.heappush(self._retry, (time.monotonic() + BUSY_RECHECK, key))
            return
        n = self._failures.get(key, 0) + 1
        self._failures[key] = n
        delay = min(self.settings.retry_max_seconds, 0.25 * 2 ** min(n, 10)) * (0.5 + random.random() / 2)
        code = getattr(exc, "code", type(exc).__name__)
        if isinstance(exc, LakegateError):
            logger.warning("%s: %s (%s); retry %d in %.1f s", printable(key), exc.message, code, n, delay)
        else:
            logger.error("%s: %s; retry %d in %.1f s", printable(key), exc, n, delay, exc_info=exc)
        with self._lock:
            heapq.heappush(self._retry, (time.monotonic() + delay, key))
