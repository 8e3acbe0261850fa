"""Sandboxed DuckDB instances the DuckDB engine keeps and shares between queries, and how it
tells what each query read from files (their file-system log)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

_RETIRE_AFTER = 256

_TRUNCATE_AFTER = 64  # queries between emptyings of an idle instance's log

# the file operations one connection logged (the log's own tables: its view is slower)
_FILE_LOG = """
SELECT message FROM duckdb_logs(denormalized_table = false)
WHERE type = 'FileSystem'
  AND context_id IN (SELECT context_id FROM duckdb_log_contexts() WHERE connection_id = ?)
"""

_READ_BYTES = re.compile(r'"op":"READ","bytes":"(\d+)"')


class Instance:
    """One sandboxed DuckDB instance. It logs its file reads, so that each query's bytes are
    known: the log is emptied whenever no query runs; under constant load, an instance that has
    served ``_RETIRE_AFTER`` queries since is retired (new queries get a fresh one, its own
    finish and read their bytes), so reading the log stays cheap."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, views: dict[str, str], paths: list[str], shape: tuple[Any, ...]
    ) -> None:
        self.conn = conn
        self.views = views
        self.paths = paths
        self.shape = shape  # (audience, memory limit, threads): who may share it, and how it runs
        self.lock = threading.Lock()
        self.running = 0
        self.served = 0  # queries since the log was last emptied
        self.retiring = False

    def began(self) -> None:
        with self.lock:
            self.running += 1
            self.served += 1
            if self.served > _RETIRE_AFTER:
                self.retiring = True

    def bytes_read(self, connection_id: int) -> int:
        """What the query on connection ``connection_id`` read from files."""
        reader = self.conn.cursor()
        read = 0
        try:
            for (message,) in reader.execute(_FILE_LOG, [connection_id]).fetchall():
                found = _READ_BYTES.search(message)
                read += int(found[1]) if found else 0
        except duckdb.Error as exc:  # a statistic: never the query's failure
            logger.warning("could not tell the bytes a query read: %s", exc)
        finally:
            with self.lock:
                self.running -= 1
                empty = self.running == 0 and self.served >= _TRUNCATE_AFTER
                if empty and not self.retiring:
                    self.served = 0
            if empty:
                with contextlib.suppress(duckdb.Error):
                    reader.execute("CALL truncate_duckdb_logs()")
            reader.close()
        return read


def holds(have: dict[str, str], need: dict[str, str]) -> bool:
    """Whether an instance with views ``have`` has every view of ``need``, exactly."""
    return all(have.get(name) == body for name, body in need.items())


def instance_key(views: dict[str, str], paths: list[str], shape: tuple[Any, ...]) -> str:
    """The key of an engine instance: exactly the views and files it has, and its shape."""
    return hashlib.sha256(repr((sorted(views.items()), paths, shape)).encode()).hexdigest()
