"""Reusing the result of an identical query over unchanged files, when the caller asks for it.

Like Athena's result reuse, it is opt-in per query with a maximum age: a query that asks for it
gets the result of an earlier run if that run was within the age, of the same statement with
the same parameters, over the same plan — the same views (files, their copies, the table's
schema, the caller's grants) — and if it has no more rows than the query's cap. A new file
in a table the query reads, a schema change or another grant gives another plan, so another
key: such a result is never reused. A file added where pruning proves the query cannot read
it leaves the plan, and so the result, as they were.

Results are kept in memory, most recently used first, up to ``query.result_cache_mb``; one
larger than a quarter of that is not kept. Functions whose value changes between runs
(``now()``, ``random()``) are reused too, as Athena does: the caller asked for it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import pyarrow as pa


def result_key(plan_key: str, sql: str, params: Sequence[Any] | None) -> str:
    """The key of a query's result: its plan (``QueryEngine``'s instance key), text and
    parameters. Only whole results are kept, so any row cap they fit under may take them."""
    text = repr((plan_key, sql.strip().rstrip(";").strip(), list(params or [])))
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Results by key, each with when it was computed and the engine's type of each column."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, pa.Table, list[str]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def keeps(self, size: int) -> bool:
        """Whether a result of ``size`` bytes would be kept."""
        return size <= self.max_bytes // 4

    def get(self, key: str, max_age_seconds: float, max_rows: int) -> tuple[pa.Table, list[str]] | None:
        """The result kept under ``key`` if it is at most ``max_age_seconds`` old and has at
        most ``max_rows`` rows (a larger one: the query runs, and fails as it should)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            made, table, types = entry
            if time.monotonic() - made > max_age_seconds or table.num_rows > max_rows:
                return None
            self._entries.move_to_end(key)
            return table, types

    def put(self, key: str, table: pa.Table, types: list[str]) -> None:
        size = table.nbytes
        if not self.keeps(size):
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1].nbytes
            self._entries[key] = (time.monotonic(), table, types)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _key, (_made, dropped, _types) = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes
