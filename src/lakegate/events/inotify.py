"""Linux's inotify, read directly: the kernel says when a writer closed a landing file.

``IN_CLOSE_WRITE`` (a writer closed the file) and ``IN_MOVED_TO`` (a file was renamed into
place) mean "maybe done": the ingest service then asks whether any process still has the file
open for writing. Creation, modification and attribute changes only make a file a candidate.
Every folder below the landing root is watched — new ones as they appear, with what they
already hold — without following symbolic links. A queue overflow (events lost) asks the
reconciler for a full listing at once.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import select
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from lakegate.events.watcher import FolderWatcher

logger = logging.getLogger(__name__)

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000

_MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
_MASK |= IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name
_CLOSED = IN_CLOSE_WRITE | IN_MOVED_TO


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


def inotify_available() -> bool:
    """Whether this machine has inotify (Linux) and lets this process use it."""
    libc = _libc()
    if libc is None:
        return False
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        return False
    os.close(fd)
    return True


class InotifyWatcher(FolderWatcher):
    """Calls ``notify(prefix + relative path, closed)`` for files changing under ``folder``.

    ``closed`` is true for a writer's close and a rename into place. ``lost`` is called when
    the kernel dropped events (its queue overflowed, or no more folders could be watched).
    """

    thread_name = "lakegate-inotify"

    def __init__(
        self,
        folder: Path,
        prefix: str,
        notify: Callable[[str, bool], None],
        lost: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(folder, prefix)
        self.notify = notify
        self.lost = lost
        self._folders: dict[int, Path] = {}  # watch descriptor → folder
        self._fd = -1
        self._warned_limit = False
        self.ready = threading.Event()  # set once every folder present at start is watched

    def _watch(self) -> None:
        try:
            self._read_events()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._folders.clear()

    def _read_events(self) -> None:
        libc = _libc()
        assert libc is not None
        self._fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._add_tree(libc, self.folder, announce=False)
        self.ready.set()
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(200):
                continue
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                continue
            self._dispatch(libc, data)

    def _dispatch(self, libc: ctypes.CDLL, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
            offset += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                logger.warning("the landing watcher lost events (queue overflow); listing landing/ now")
                self.lost()
                continue
            if mask & IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            parent = self._folders.get(wd)
            name = raw.rstrip(b"\0").decode(errors="surrogateescape")
            if parent is None or not name or name.startswith("."):
                continue
            path = parent / name
            if mask & IN_ISDIR:
                if mask & (IN_CREATE | IN_MOVED_TO):
                    self._add_tree(libc, path, announce=True)  # it may hold files already
                continue
            self._announce(path, bool(mask & _CLOSED))

    def _announce(self, path: Path, closed: bool) -> None:
        key = self.key_of(path)
        if key is None:
            return
        try:
            self.notify(key, closed)
        except Exception:
            logger.exception("handling an event for %s failed", key)

    def _add_tree(self, libc: ctypes.CDLL, top: Path, *, announce: bool) -> None:
        """Watch ``top`` and every folder below it; with ``announce``, report the files in them.

        Each folder is watched before it is listed, so a file made in between is never missed.
        """
        pending = [top]
        while pending:
            here = pending.pop()
            wd = libc.inotify_add_watch(self._fd, os.fsencode(here), _MASK)  # IN_DONT_FOLLOW: no links
            if wd < 0:
                code = ctypes.get_errno()
                if code == errno.ENOSPC and not self._warned_limit:
                    self._warned_limit = True
                    logger.warning(
                        "cannot watch more landing folders (fs.inotify.max_user_watches); files in "
                        "the rest are found by the reconciler's listing"
                    )
                    self.lost()
                continue
            self._folders[wd] = here
            try:
                entries = list(os.scandir(here))
            except OSError:
                continue  # gone already
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif announce:
                    self._announce(Path(entry.path), True)
