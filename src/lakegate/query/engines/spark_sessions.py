"""Spark Connect sessions kept between queries, with the sources and views each already holds.

A new session costs the Spark Connect server a few hundred milliseconds on its first statement,
and every source or view one more round trip: a query that reads the tables an earlier one read
(the usual dashboard) finds them ready in a kept session, and pays only for its own statement.

A session serves one query at a time. Its sources and views are named by a digest of their
whole definition (``spark_views.py``): files and their digests, schema, read options, grants.
A query reuses a view only where it would have created the same one, and a statement can only
name the views of its own plan, since every table it reads was planned from the catalog and
rewritten to its view; what another caller's query left in the session is unreachable.

A session is stopped instead of kept when it holds ``MAX_VIEWS``, has been idle for
``IDLE_SECONDS`` (the server drops idle sessions on its own clock) or failed in a way that may
have left it broken.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakegate.query.engines.spark_views import SparkViews

MAX_VIEWS = 2000
IDLE_SECONDS = 600.0


@dataclass
class Session:
    """A Spark Connect session and the names of the sources and views it holds."""

    spark: Any
    holds: set[str] = field(default_factory=set)
    last_used: float = field(default_factory=time.monotonic)
    reused: bool = False  # served an earlier query (a failure may be its server having dropped it)

    def load(self, views: SparkViews) -> None:
        """Create the sources and views of ``views`` this session lacks, in order."""
        for source in views.sources:
            if source.name in self.holds:
                continue
            frame = self.spark.read.format(source.format).schema(source.schema).options(**source.options)
            loaded = frame.load(source.paths)
            if source.where:
                loaded = loaded.where(source.where)
            loaded.createOrReplaceTempView(source.name)
            self.holds.add(source.name)
        for name, select in views.views.items():
            if name not in self.holds:
                self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS {select}")
                self.holds.add(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # the server drops an idle session anyway
            self.spark.stop()


class SessionPool:
    """Sessions made by ``connect`` and kept for the next query: at most ``keep`` idle ones."""

    def __init__(self, connect: Callable[[], Any], keep: int = 4) -> None:
        self._connect = connect
        self.keep = keep
        self._idle: list[Session] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> Session:
        """A kept session (the most recently used, whose views are likeliest wanted), or a new one."""
        with self._lock:
            now = time.monotonic()
            live = [s for s in self._idle if now - s.last_used < IDLE_SECONDS]
            stale = [s for s in self._idle if now - s.last_used >= IDLE_SECONDS]
            taken = live.pop() if live else None
            self._idle = live
        for session in stale:
            session.stop()
        if taken is not None:
            taken.reused = True
            return taken
        return Session(self._connect())

    def give(self, session: Session, *, healthy: bool) -> None:
        """Return ``session`` after its query: kept when ``healthy`` and there is room."""
        session.last_used = time.monotonic()
        if healthy and len(session.holds) < MAX_VIEWS:
            with self._lock:
                if not self._closed and len(self._idle) < self.keep:
                    self._idle.append(session)
                    return
        session.stop()

    def close(self) -> None:
        """Stop the kept sessions; those still running a query are stopped when it ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            session.stop()
