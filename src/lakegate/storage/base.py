"""The ``ObjectStore`` interface every storage backend implements.

Keys are ``/``-separated relative names (``landing/sales/orders/a.csv``). Writes are atomic:
a reader sees the old object, the new one, or nothing, never half of one.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from lakegate.errors import StorageError

CHUNK = 1 << 20


class _Hashing(io.RawIOBase):
    """A stream that hashes what is read through it (a copy verified in the same read)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.hash.update(chunk)
        return chunk


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing or a stat says about one object."""

    key: str
    size: int
    mtime_ns: int
    etag: str | None = None  # S3's entity tag; None where a store has none
    inode: int = 0  # a local file's inode (0 elsewhere): with size and mtime, its identity
    link: bool = False  # a symbolic link in a local folder: never followed (its "content" is where it points)
    # The SHA-256 of the bytes a copy read from its source and wrote (None: not known this way)
    sha256: str | None = None


@dataclass(frozen=True)
class Scan:
    """One full read of an object: its SHA-256, first and last bytes, and S3's ETag if any."""

    size: int
    sha256: str
    head: bytes
    tail: bytes
    etag: str | None = None
    mtime_ns: int = 0  # of the version read
    inode: int = 0  # of the file read, in a local folder (0 elsewhere)
    link: bool = False  # a symbolic link, not followed: what was read is where it points


class Sink(Protocol):
    """Anything a scan can copy an object into (a file, a size-capped spool)."""

    def write(self, chunk: bytes, /) -> object: ...


def scan_stream(
    stream: BinaryIO,
    head_bytes: int,
    tail_bytes: int,
    spool: Sink | None,
    *,
    etag: str | None = None,
    mtime_ns: int = 0,
    inode: int = 0,
) -> Scan:
    """Hash ``stream`` in one pass, keeping its first and last bytes and copying it to ``spool``."""
    digest = hashlib.sha256()
    head = bytearray()
    tail = b""
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < head_bytes:
            head += chunk[: head_bytes - len(head)]
        if tail_bytes:
            tail = (tail + chunk)[-tail_bytes:]
        if spool is not None:
            spool.write(chunk)
    return Scan(size, digest.hexdigest(), bytes(head), tail, etag, mtime_ns, inode)


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object key.

    Raises:
        StorageError: ``storage.bad_key`` for empty, absolute, ``..`` or backslash keys.
    """
    problem = None
    if not key:
        problem = "it is empty"
    elif key.startswith("/"):
        problem = "it is absolute"
    elif "\\" in key or "\x00" in key:
        problem = "it contains a backslash or NUL"
    elif any(part in ("", ".", "..") for part in key.split("/")):
        problem = "it has an empty, `.` or `..` segment"
    if problem:
        raise StorageError(
            f"invalid object key {key!r}: {problem}",
            code="storage.bad_key",
            hint="keys are relative, `/`-separated names without `.` or `..` segments",
        )
    return key


class ObjectStore(ABC):
    """Where objects live. Implementations: ``LocalStore``, ``MemoryStore``."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo | None:
        """Size and modification time of ``key``, or ``None`` when it does not exist."""

    @abstractmethod
    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (a folder when it ends with ``/``), sorted.

        With ``start_after``, only keys sorting after it: a listing that broke off resumes there.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream over ``key``.

        Raises:
            StorageError: ``storage.not_found`` when it does not exist.
        """

    @abstractmethod
    def write(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        """Atomically create or replace ``key`` with ``data``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def url(self, key: str) -> str:
        """Where a query engine reads ``key`` (a local path, or an ``s3://`` URL)."""

    def check(self) -> None:  # noqa: B027 - a hook: most stores have nothing to check
        """Fail now, naming the failing call, if this store cannot be used (bad bucket, bad credentials)."""

    def read(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of ``key`` from offset ``start`` (a negative start counts from the end)."""
        with self.open(key) as stream:
            if start < 0:
                stream.seek(0, 2)
                start = max(stream.tell() + start, 0)
            stream.seek(start)
            return stream.read(length)

    def copy(self, src: str, dst: str, *, if_etag: str | None = None, size: int | None = None) -> ObjectInfo:
        """Copy ``src`` to ``dst`` atomically; backends may do it server-side.

        ``if_etag`` copies only if ``src`` still has that ETag (stores with ETags), so a source
        replaced since it was read is never copied; ``size``, its size then, may spare a lookup.

        Raises:
            StorageError: ``storage.not_found`` when ``src`` is gone, ``storage.changed`` when its
                ETag is no longer ``if_etag``.
        """
        with self.open(src) as stream:
            return write_hashed(self, dst, stream)

    def scan(self, key: str, head_bytes: int = 0, tail_bytes: int = 0, spool: Sink | None = None) -> Scan:
        """Read ``key`` once: its hash, first and last bytes, and a copy into ``spool`` if given.

        Raises:
            StorageError: ``storage.not_found`` when it does not exist.
        """
        with self.open(key) as stream:
            try:
                mtime_ns = os.fstat(stream.fileno()).st_mtime_ns
            except (OSError, AttributeError, io.UnsupportedOperation):
                info = self.stat(key)
                mtime_ns = info.mtime_ns if info else 0
            return scan_stream(stream, head_bytes, tail_bytes, spool, mtime_ns=mtime_ns)

    def sha256(self, key: str) -> str:
        return self.scan(key).sha256

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def written_in_place(self, key: str) -> bool:
        """Whether a writer may still be changing ``key`` after it appears (a local file), so it
        must be held (``hold``) before it is taken. S3 objects appear whole: no."""
        return False

    def being_written(self, key: str) -> bool | None:
        """Whether a process has ``key`` open for writing (``None``: this store cannot tell)."""
        return False

    def hold(self, key: str, held: str) -> ObjectInfo | None:
        """Take ``key`` out of its writers' reach, as ``held``, before it is read and taken.

        Returns what the held object is now (size, modification time, inode), or ``None`` when
        neither ``key`` nor ``held`` exists. Only for stores ``written_in_place``.
        """
        raise StorageError(f"{type(self).__name__} holds no objects", code="storage.no_hold")

    def release(self, held: str, key: str) -> str:
        """Put a held object back under ``key`` — or, when a new object took that name meanwhile,
        under a name of its own beside it — so it is taken again. Returns the key it is under."""
        raise StorageError(f"{type(self).__name__} holds no objects", code="storage.no_hold")


def not_found(key: str, where: str) -> StorageError:
    return StorageError(f"object {key!r} not found in {where}", code="storage.not_found")


def write_hashed(store: ObjectStore, key: str, stream: BinaryIO) -> ObjectInfo:
    """Write ``stream`` to ``key``, hashing it as it is written: its ``sha256`` is that of the
    bytes written, with no second read."""
    hashing = _Hashing(stream)
    written = store.write(key, cast(BinaryIO, hashing))
    return replace(written, sha256=hashing.hash.hexdigest())


def upload(store: ObjectStore, key: str, local: str) -> tuple[int, str]:
    """Write the local file ``local`` to ``key`` of ``store``; its size and SHA-256."""
    with open(local, "rb") as data:
        written = write_hashed(store, key, data)
    assert written.sha256 is not None
    return written.size, written.sha256


def local_path(store: ObjectStore, key: str, work: Path, name: str | None = None) -> str:
    """A path DuckDB reads the file at: the lake's own file, a file crawled in place, or a
    download of it (to ``name`` in ``work``) — converting connections have no bucket credentials."""
    if key.startswith("file://"):
        return key.removeprefix("file://")
    url = store.url(key)
    if "://" not in url:
        return url
    local = work / (name or Path(key).name)
    with store.open(key) as src, local.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return str(local)
