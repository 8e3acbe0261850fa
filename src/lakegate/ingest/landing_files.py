"""A landing file as the pipeline reads it: what says it is still the version read, whether
its writer is done, when it arrived, and the local spool a remote object is read through."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import BinaryIO, cast

from lakegate.catalog import ObjectRecord
from lakegate.crawler.detect import Detected
from lakegate.errors import LakegateError, StorageError
from lakegate.storage import ObjectInfo, ObjectStore
from lakegate.storage.base import Scan


def unterminated(detected: Detected, scan: Scan) -> list[str]:
    """A warning for a text file whose lines end with line breaks but its last: perhaps its
    writer was stopped mid-write (its last row may be cut short; one without its fields is left
    out anyway)."""
    lines = detected.format == "csv" or detected.json_layout == "newline_delimited"
    plain = detected.compression == "none" and detected.encoding in ("utf-8", "latin-1", "cp1252")
    if lines and plain and b"\n" in scan.head and not scan.tail.endswith((b"\n", b"\r")):
        return [
            "the last line has no line break: if its writer stopped mid-write, the last row may be cut short"
        ]
    return []


def arrival_of(mtime_ns: int) -> dt.datetime:
    """When an object landed: its store's modification time."""
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC)


ABANDONED_REASON = (
    "the file changed while it was being taken (a writer was still at work): nothing of this "
    "attempt stays, and the file is taken again once its writer is done"
)


def identity(found: Scan | ObjectInfo) -> list[int]:
    """What says a landing file is still the version that was read: size, mtime, inode."""
    return [found.size, found.mtime_ns, found.inode]


def being_written(key: str) -> LakegateError:
    return LakegateError(
        f"{key} is open for writing by a process; it is taken once that process closes it",
        code="ingest.being_written",
        transient=True,
    )


class Spool:
    """Where a scan copies an object for the engine, until ``limit`` bytes."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self.file = file
        self.limit = limit
        self.size = 0
        self.overflow = False

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.limit:
            self.overflow = True
        if not self.overflow:
            self.file.write(chunk)
        return len(chunk)


def copy_verified(store: ObjectStore, obj: ObjectRecord, source: str, *, resumed: bool) -> bool:
    """Copy the validated ``source`` of ``obj`` to its target and verify it; False when the
    source is gone. ``resumed``: a copy made before a crash may be there already.

    The copy is conditional on the ETag read at validation (on S3), so a source replaced
    since then is never copied; the copy is verified by size and ETag, or by SHA-256 where
    ETags cannot be compared (stores without them, multipart copies).
    """
    assert obj.target_key and obj.sha256
    plan = obj.plan or {}
    etag, size = plan.get("etag"), int(plan.get("size", obj.size))

    def same(info: ObjectInfo) -> bool:
        if info.size != size:
            return False
        if etag is not None and info.etag == etag:
            return True
        return (info.sha256 or store.sha256(info.key)) == obj.sha256  # hashed as it was copied

    if resumed:
        target = store.stat(obj.target_key)
        if target is not None and same(target):
            return True  # copied before a crash
    try:
        if same(store.copy(source, obj.target_key, if_etag=etag, size=size)):
            return True
        store.delete(obj.target_key)
        if store.sha256(source) != obj.sha256:
            return False  # replaced since it was validated: the new version is a new delivery
    except StorageError as exc:
        if exc.code in ("storage.not_found", "storage.changed"):
            return False
        raise
    raise StorageError(
        f"the copy of {obj.source_key} at {obj.target_key} does not match the original",
        code="storage.verify",
        transient=True,
    )


SPOOL_LIMIT = 256 * 1024**2  # remote objects up to this size are inferred from a local copy


@contextmanager
def spooled(store: ObjectStore, key: str) -> Iterator[Spool | None]:
    """A local temporary copy, written while hashing, for an object not in a local folder.

    The engine then infers the schema from local disk instead of reading the object again over
    the network. Objects above ``SPOOL_LIMIT`` are read in place.
    """
    if "://" not in store.url(key):
        yield None
        return
    suffix = re.sub(r"[^A-Za-z0-9.]", "", "".join(PurePosixPath(key).suffixes))[-24:]
    with tempfile.NamedTemporaryFile("w+b", prefix="lakegate-", suffix=suffix) as file:
        yield Spool(cast(BinaryIO, file), SPOOL_LIMIT)
