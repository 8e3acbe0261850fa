"""Tables as queries read them, kept in memory while they are unchanged.

Every change to what a query reads from a table — a file registered, replaced, archived or
accelerated, a schema change — adds one to the table's ``generation`` in the same transaction.
A cached table is used only while its id, creation time and generation are those the catalog
has now, so another process's change is seen at the next read, and a table dropped and created
again (perhaps under the same id) is never mistaken for the old one. A table that changed is
read again incrementally (``Catalog.table``): only the files it did not hold are read in full.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from lakegate.catalog.records import TableInfo

Stamp = tuple[int, float, int]  # (table id, created at, generation)


class Entry(NamedTuple):
    stamp: Stamp
    table: TableInfo
    ids: list[int]  # the catalog id of each of the table's files, in order


class TableCache:
    """The most recently read ``size`` tables, each with the stamp it was read at."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, database: str, name: str, stamp: Stamp | None) -> TableInfo | None:
        """The table read at ``stamp``, if it is kept (``None``: the table is gone — forgotten)."""
        key = (database, name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.stamp == stamp:
                self._entries.move_to_end(key)
                return entry.table
            if stamp is None:
                self._entries.pop(key, None)
            return None

    def previous(self, database: str, name: str) -> Entry | None:
        """What is kept of the table, however old."""
        with self._lock:
            return self._entries.get((database, name))

    def put(self, entry: Entry) -> None:
        key = (entry.table.database, entry.table.name)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
