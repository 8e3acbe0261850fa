"""Workgroups: the limits shared by their principals' queries, as Athena workgroups have.

Per workgroup: a query timeout (default 30 minutes), the most bytes of files one query may read
(refused before it runs), the most rows it may return, how many of its queries run at once
(more wait in a queue up to a bound, then are refused with 429), each query's memory limit, and
the engine its queries run on (``duckdb``; ``spark``; ``auto``: Spark for large reads).
A principal without a workgroup, or with one not defined, gets the server's query settings.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog.model import workgroups
from lakegate.config import QuerySettings
from lakegate.errors import ConfigError, QueryError

DEFAULT_TIMEOUT = 1800.0
_MOST = 2**62  # what a catalog integer holds, with room
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class Workgroup:
    name: str
    timeout_seconds: float = DEFAULT_TIMEOUT
    max_bytes_scanned: int | None = None
    max_rows: int | None = None
    max_concurrent: int = 4
    max_queued: int = 16
    memory_limit: str | None = None
    description: str = ""
    engine: str = "duckdb"

    def limits(self, defaults: QuerySettings, *, streamed: bool = False) -> QuerySettings:
        """The server's query settings with this workgroup's limits. A ``streamed`` result (a
        download, a background query's file) has no row cap but the workgroup's own."""
        rows = self.max_rows if self.max_rows is not None else (2**62 if streamed else defaults.max_rows)
        return defaults.model_copy(
            update={
                "timeout_seconds": self.timeout_seconds,
                "max_rows": rows,
                "memory_limit": self.memory_limit or defaults.memory_limit,
            }
        )


_FIELDS = (
    "timeout_seconds", "max_bytes_scanned", "max_rows", "max_concurrent", "max_queued", "memory_limit",
    "engine",
)  # fmt: skip
ENGINES = ("duckdb", "spark", "auto")


class Workgroups:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def put(self, name: str, **limits: Any) -> Workgroup:
        """Create a workgroup, or change the limits given. Raises: ConfigError ``workgroups.bad``."""
        current = self.get(name)
        values = {k: v for k, v in limits.items() if v is not None and (k in _FIELDS or k == "description")}
        merged = Workgroup(**{**(current.__dict__ if current else {}), **values, "name": name})
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{name!r} is not a workgroup name",
                code="workgroups.bad",
                hint="use letters, digits and _ . - (up to 63 characters, starting with a letter or digit)",
            )
        counts = [merged.max_bytes_scanned, merged.max_rows, merged.max_concurrent, merged.max_queued]
        if any(n is not None and not 0 <= n <= _MOST for n in counts) or merged.timeout_seconds > _MOST:
            raise ConfigError(
                f"workgroup {name!r}: a limit is out of range (0 to {_MOST:,})",
                code="workgroups.bad",
                hint="leave a limit unset for none",
            )
        if merged.timeout_seconds <= 0 or merged.max_concurrent < 1 or merged.max_queued < 0:
            raise ConfigError(
                f"workgroup {name!r}: the timeout must be positive, at least one query must run at "
                "once, and the queue cannot be negative",
                code="workgroups.bad",
                hint="e.g. --timeout 30m --max-concurrent 4 --max-queued 16",
            )
        if merged.engine not in ENGINES:
            raise ConfigError(
                f"workgroup {name!r}: {merged.engine!r} is not an engine",
                code="workgroups.bad",
                hint="duckdb, spark (engines.spark.url) or auto (Spark above engines.spark.auto_above_mb)",
            )
        row = {k: getattr(merged, k) for k in (*_FIELDS, "description")}
        with self.catalog.writing(f"saving workgroup {name}") as conn:
            if current is None:
                conn.execute(workgroups.insert().values(name=name, created_at=time.time(), **row))
            else:
                conn.execute(workgroups.update().where(workgroups.c.name == name).values(**row))
        return merged

    def get(self, name: str) -> Workgroup | None:
        with self.catalog.reading(f"reading workgroup {name}") as conn:
            row = conn.execute(sa.select(workgroups).where(workgroups.c.name == name)).first()
        if row is None:
            return None
        return Workgroup(row.name, description=row.description, **{k: getattr(row, k) for k in _FIELDS})

    def all(self) -> list[Workgroup]:
        with self.catalog.reading("listing workgroups") as conn:
            names = conn.execute(sa.select(workgroups.c.name).order_by(workgroups.c.name)).scalars().all()
        found = [self.get(n) for n in names]
        return [w for w in found if w is not None]


def queue_full(group: Workgroup) -> QueryError:
    return QueryError(
        f"workgroup {group.name!r} runs {group.max_concurrent} queries at once and "
        f"{group.max_queued} are waiting already",
        code="query.too_many",
        hint="retry in a moment, or ask an admin for a larger workgroup",
    )


def waited_too_long(group: Workgroup) -> QueryError:
    return QueryError(
        f"the query waited {group.timeout_seconds:g} s for a turn in workgroup {group.name!r}",
        code="query.timeout",
        hint="retry later",
    )


class Admission:
    """How many queries of each workgroup run at once in this process; the rest wait, up to a
    bound, and get their turns in the order they came. (Several nodes on one catalog share turns
    through ``auth/slots.py`` instead.)

    Raises QueryError ``query.too_many`` (HTTP 429) when a workgroup's queue is full, and
    ``query.timeout`` when a query waited its whole timeout for a turn.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._running: dict[str, int] = {}
        self._waiting: dict[str, list[object]] = {}  # tickets, first come first

    def _may_run(self, group: Workgroup, ticket: object) -> bool:
        ahead = self._waiting[group.name].index(ticket)
        return self._running.get(group.name, 0) + ahead < group.max_concurrent

    @contextmanager
    def turn(self, group: Workgroup) -> Iterator[float]:
        """Wait for a turn for ``group``; yields the seconds spent queued."""
        name = group.name
        started = time.monotonic()
        ticket = object()
        with self._lock:
            queue = self._waiting.setdefault(name, [])
            busy = self._running.get(name, 0) + len(queue) >= group.max_concurrent
            if busy and len(queue) >= group.max_queued:
                raise queue_full(group)
            queue.append(ticket)
            try:
                deadline = started + group.timeout_seconds
                while not self._may_run(group, ticket):
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._lock.wait(left):
                        if self._may_run(group, ticket):
                            break
                        raise waited_too_long(group)
            finally:
                queue.remove(ticket)
                self._lock.notify_all()  # the ones behind move up
            self._running[name] = self._running.get(name, 0) + 1
        try:
            yield time.monotonic() - started
        finally:
            with self._lock:
                self._running[name] -= 1
                self._lock.notify_all()
