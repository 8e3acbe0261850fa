"""Tables as queries read them, kept in memory while they are unchanged.

Every change to what a query reads from a table — a file registered, replaced, archived or
accelerated, a schema change — adds one to the table's ``generation`` in the same transaction.
A cached table is used only while its id, creation time and generation are those the catalog
has now, so another process's change is seen at the next read, and a table dropped and created
again (perhaps under the same id) is never mistaken for the old one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from lakegate.catalog.records import TableInfo

Stamp = tuple[int, float, int]  # (table id, created at, generation)


class TableCache:
    """The most recently read ``size`` tables, each with the stamp it was read at."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[Stamp, TableInfo]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, database: str, name: str, stamp: Stamp | None) -> TableInfo | None:
        """The table read at ``stamp``, if it is kept (``None``: the table is gone — forgotten)."""
        key = (database, name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            if stamp is None:
                self._entries.pop(key, None)
            self.misses += 1
            return None

    def put(self, stamp: Stamp, info: TableInfo) -> None:
        with self._lock:
            self._entries[(info.database, info.name)] = (stamp, info)
            self._entries.move_to_end((info.database, info.name))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
