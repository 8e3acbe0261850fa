"""An in-memory object store, for tests and for trying lakegate without a disk."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

from lakegate.errors import StorageError
from lakegate.storage.base import ObjectInfo, ObjectStore, not_found, validate_key


class MemoryStore(ObjectStore):
    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, int]] = {}
        self._lock = threading.Lock()

    def stat(self, key: str) -> ObjectInfo | None:
        with self._lock:
            found = self._objects.get(validate_key(key))
        return None if found is None else ObjectInfo(key, len(found[0]), found[1])

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            items = sorted(
                (k, len(v), t)
                for k, (v, t) in self._objects.items()
                if k.startswith(prefix) and k > start_after
            )
        for key, size, mtime in items:
            yield ObjectInfo(key, size, mtime)

    def open(self, key: str) -> BinaryIO:
        with self._lock:
            found = self._objects.get(validate_key(key))
        if found is None:
            raise not_found(key, "memory")
        return io.BytesIO(found[0])

    def write(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        validate_key(key)
        payload = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.read()
        now = time.time_ns()
        with self._lock:
            self._objects[key] = (payload, now)
        return ObjectInfo(key, len(payload), now)

    def delete(self, key: str) -> None:
        with self._lock:
            self._objects.pop(validate_key(key), None)

    def url(self, key: str) -> str:
        raise StorageError(
            "the memory store has no address a query engine can read",
            code="storage.no_url",
            hint="use a local folder or S3 for a home that runs queries",
        )
