"""A local folder as an object store: temp file + fsync + rename for every write."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from lakegate.errors import StorageError
from lakegate.storage.base import (
    CHUNK,
    ObjectInfo,
    ObjectStore,
    Scan,
    Sink,
    not_found,
    scan_stream,
    validate_key,
)
from lakegate.storage.writers import PROBE

# Files a writer is still producing under a temporary name are not objects yet.
_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", "~")


def is_partial_name(name: str) -> bool:
    return name.startswith(".") or name.endswith(_PARTIAL_SUFFIXES)


class LocalStore(ObjectStore):
    """Objects are files under ``root``; keys are their relative paths."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where ``key`` is on disk.

        Raises:
            StorageError: ``storage.symlink`` when a folder on the way is a symbolic link: a link
                in a drop folder could otherwise make lakegate read or delete files elsewhere.
        """
        path = self.root / validate_key(key)
        parent = path.parent
        if parent != self.root and os.path.realpath(parent) != str(parent):
            raise _under_link(key, self.root, parent)
        return path

    def url(self, key: str) -> str:
        return str(self.path(key)) if key else f"{self.root}/"

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self.path(key).lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _error("stat", key, exc) from exc
        return _info(key, st)

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        base = self.root
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        try:
            start = self.path(f"{folder}/-").parent if folder else base
        except StorageError:
            return  # under a link: nothing there is an object of this store
        if start.is_symlink() or not start.is_dir():
            return
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start):  # never into linked folders
            here = Path(dirpath)
            links = [d for d in dirnames if (here / d).is_symlink()]
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in links)
            for name in [*filenames, *links]:
                if is_partial_name(name):
                    continue
                full = here / name
                key = full.relative_to(base).as_posix()
                if not key.startswith(prefix) or key <= start_after:
                    continue
                try:
                    info = _info(key, full.lstat())
                except FileNotFoundError:
                    continue  # removed while listing
                if info is not None:
                    found.append(info)
        yield from sorted(found, key=lambda info: info.key)

    def scan(self, key: str, head_bytes: int = 0, tail_bytes: int = 0, spool: Sink | None = None) -> Scan:
        """Read ``key`` once (see ``ObjectStore.scan``).

        Raises:
            StorageError: ``storage.not_found``; ``storage.changed_while_read`` (transient) when
                the file's size or modification time changed while it was read — a writer is
                still at work, and the read is not one version of it.
        """
        info = self.stat(key)
        if info is not None and info.link:
            with self.open(key) as where:  # what a link holds is where it points
                scan = scan_stream(where, head_bytes, tail_bytes, spool, mtime_ns=info.mtime_ns)
            return replace(scan, inode=info.inode, link=True)
        with self.open(key) as stream:
            before = os.fstat(stream.fileno())
            scan = scan_stream(
                stream, head_bytes, tail_bytes, spool, mtime_ns=before.st_mtime_ns, inode=before.st_ino
            )
            after = os.fstat(stream.fileno())
        same = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        if not same or scan.size != after.st_size:
            raise StorageError(
                f"{key} changed while it was read (a writer is still at work)",
                code="storage.changed_while_read",
                transient=True,
            )
        return scan

    def written_in_place(self, key: str) -> bool:
        return True

    def being_written(self, key: str) -> bool | None:
        return PROBE.writing(self.path(key))

    @contextlib.contextmanager
    def _folder(self, key: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
        """The folder of ``key``, opened one name at a time from the root without following a
        link (``O_NOFOLLOW``; with ``create``, made where missing), and ``key``'s own name: what
        is done through this descriptor cannot be sent elsewhere by a folder swapped for a link.

        Raises:
            StorageError: ``storage.symlink`` when a folder on the way is a link.
        """
        path = self.root / validate_key(key)  # its folders are checked as they are opened
        parts = path.relative_to(self.root).parts
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for depth, part in enumerate(parts[:-1], start=1):
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=fd)
                try:
                    inner = os.open(
                        part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
                    )
                except OSError as exc:
                    if (
                        exc.errno in (errno.ELOOP, errno.ENOTDIR)
                        and Path(self.root, *parts[:depth]).is_symlink()
                    ):
                        raise _under_link(key, self.root, path.parent) from None
                    raise
                os.close(fd)
                fd = inner
            yield fd, parts[-1]
        finally:
            os.close(fd)

    def hold(self, key: str, held: str) -> ObjectInfo | None:
        """Rename ``key`` to ``held`` (a hidden name in the same folder) unless that was done.

        A writer that opens ``key`` by its name from now on makes a new file there — a new
        delivery — instead of changing the one being taken.
        """
        held_path = self.path(held)
        try:
            info = self.stat(held)
            if info is None:
                with self._folder(key) as (folder, name):
                    os.rename(name, held_path.name, src_dir_fd=folder, dst_dir_fd=folder)
                    os.fsync(folder)
                info = self.stat(held)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _error("hold", key, exc) from exc
        return info

    def release(self, held: str, key: str) -> str:
        source = self.path(held)
        folder, name = key.rsplit("/", 1) if "/" in key else ("", key)
        stem, dot, ext = name.partition(".")
        if not source.exists():
            return key  # released before a crash
        for n in range(1000):
            target = key if n == 0 else f"{folder}/{stem} ({n + 1}){dot}{ext}".lstrip("/")
            try:
                self.path(target).parent.mkdir(parents=True, exist_ok=True)
                # never replaces (a new object there stays); a link is put back as itself
                os.link(source, self.path(target), follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _error("release", held, exc) from exc
            source.unlink()
            _fsync_dir(source.parent)
            return target
        raise StorageError(f"no free name beside {key} to put {held} back", code="storage.release")

    def open(self, key: str) -> BinaryIO:
        """The file's bytes; for a symbolic link, the path it points at (never what is there)."""
        try:
            with self._folder(key) as (folder, name):
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
                except OSError as exc:
                    if exc.errno != errno.ELOOP:
                        raise
                    return io.BytesIO(os.fsencode(os.readlink(name, dir_fd=folder)))
        except (FileNotFoundError, NotADirectoryError):
            raise not_found(key, str(self.root)) from None
        except OSError as exc:
            raise _error("open", key, exc) from exc
        return os.fdopen(fd, "rb")

    def write_link(self, key: str, points_to: str) -> ObjectInfo:
        """Atomically make ``key`` a symbolic link to ``points_to`` (a quarantined link, kept as one)."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".lakegate-{os.getpid()}-{threading.get_ident()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(points_to)
            tmp.replace(target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise _error("write", key, exc) from exc
        info = self.stat(key)
        assert info is not None
        return info

    def is_link(self, key: str) -> bool:
        info = self.stat(key)
        return info is not None and info.link

    def copy(self, src: str, dst: str, *, if_etag: str | None = None, size: int | None = None) -> ObjectInfo:
        if self.is_link(src):
            return self.write_link(dst, str(self.path(src).readlink()))
        return super().copy(src, dst, if_etag=if_etag, size=size)

    def write(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        """Write to a temporary name beside ``key``, sync, and rename over it — through folder
        descriptors (``_folder``), so no folder swapped for a link can send the write elsewhere."""
        try:
            with self._folder(key, create=True) as (folder, name):
                tmp = f".lakegate-{secrets.token_hex(8)}.tmp"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                             dir_fd=folder)  # fmt: skip
                try:
                    with os.fdopen(fd, "wb") as out:
                        if isinstance(data, bytes | bytearray | memoryview):
                            out.write(data)
                        else:
                            shutil.copyfileobj(data, out, CHUNK)
                        out.flush()
                        os.fsync(out.fileno())
                        # what was written, from the file itself: once renamed, the object may be
                        # taken at once (ingest holds a landing file as soon as it appears)
                        written = os.fstat(out.fileno())
                    os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp, dir_fd=folder)
                    raise
                os.fsync(folder)
        except OSError as exc:
            raise _error("write", key, exc) from exc
        return ObjectInfo(key, written.st_size, written.st_mtime_ns, inode=written.st_ino)

    def remove_stale_temp_files(self, prefix: str) -> int:
        """Remove temp files a killed writer left under ``prefix``; call only when no writer runs there."""
        removed = 0
        for path in (self.root / prefix).rglob(".lakegate-*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def delete(self, key: str) -> None:
        try:
            with self._folder(key) as (folder, name):
                os.unlink(name, dir_fd=folder)  # a link is removed itself, never what it points at
                os.fsync(folder)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise _error("delete", key, exc) from exc
        # Empty folders stay: a provider may be about to write into the folder it just made.


def _info(key: str, st: os.stat_result) -> ObjectInfo | None:
    """A file or a symbolic link is an object; folders and special files are not."""
    if stat.S_ISLNK(st.st_mode):
        return ObjectInfo(key, st.st_size, st.st_mtime_ns, inode=st.st_ino, link=True)
    if not stat.S_ISREG(st.st_mode):
        return None
    return ObjectInfo(key, st.st_size, st.st_mtime_ns, inode=st.st_ino)


def _under_link(key: str, root: Path, parent: Path) -> StorageError:
    return StorageError(
        f"{key!r} is under a symbolic link ({_first_link(root, parent)}); "
        "lakegate never reads, writes or deletes through links",
        code="storage.symlink",
        hint="deliver real folders and files; a link is quarantined, never followed",
    )


def _first_link(root: Path, path: Path) -> str:
    """The first folder from ``root`` down to ``path`` that is a symbolic link."""
    here = root
    for part in path.relative_to(root).parts:
        here = here / part
        if here.is_symlink():
            return str(here.relative_to(root))
    return str(path.relative_to(root))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _error(op: str, key: str, exc: OSError) -> StorageError:
    transient = exc.errno not in (13, 1, 21, 20, 36)  # EACCES, EPERM, EISDIR, ENOTDIR, ENAMETOOLONG
    return StorageError(
        f"local storage could not {op} {key!r}: {exc.strerror or exc}",
        code=f"storage.{op}",
        transient=transient,
    )
