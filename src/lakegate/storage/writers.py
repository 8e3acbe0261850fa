"""Is anybody still writing this local file? The kernel knows; ask it.

On Linux, a read lease (``fcntl(F_SETLEASE, F_RDLCK)``) cannot be taken on a file that any
process has open for writing, so trying to take one — and letting it go at once — answers the
question exactly, for every process on this machine, in a few microseconds. The kernel grants
the attempt to the file's owner and to processes with ``CAP_LEASE`` (root has it); for anyone
else, and on file systems another machine writes to (NFS, SMB, FUSE mounts), the answer is
"unknown" and the caller falls back to waiting until the file has stayed unchanged for a while.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import signal
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

# File systems only this machine writes to: a writer elsewhere is impossible, so the kernel's
# view of who has a file open is the whole truth. Anything else (nfs, cifs, smb3, fuse.*, 9p,
# ceph, glusterfs, virtiofs, …) may be written by another machine, unseen.
LOCAL_FILE_SYSTEMS = frozenset(
    {
        "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "overlay", "zfs", "f2fs", "jfs",
        "reiserfs", "bcachefs", "vfat", "exfat", "ntfs3", "hfsplus", "nilfs2", "shiftfs",
    }
)  # fmt: skip

_F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
_F_RDLCK = getattr(fcntl, "F_RDLCK", 0)
_F_UNLCK = getattr(fcntl, "F_UNLCK", 2)
_F_SETSIG = getattr(fcntl, "F_SETSIG", 10)
# A writer opening the file in the microseconds we hold the lease makes the kernel signal us
# (SIGIO by default, which would end the process): ask for SIGURG, whose default is to ignore it.
_BREAK_SIGNAL = int(getattr(signal, "SIGURG", 23))


def file_system_types() -> dict[int, str]:
    """Each mounted device (``st_dev``) and its file system type, from ``/proc/self/mountinfo``."""
    found: dict[int, str] = {}
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return found
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            major, minor = (int(n) for n in fields[2].split(":"))
            fstype = fields[fields.index("-") + 1]
        except (IndexError, ValueError):
            continue
        found[os.makedev(major, minor)] = fstype
    return found


class WriterProbe:
    """Tells whether a local file is open for writing, where the kernel can say.

    ``writing(path)`` is ``True`` (a process has it open for writing), ``False`` (nobody has),
    or ``None`` (this machine cannot tell: not Linux, a network file system, not permitted).
    """

    def __init__(self) -> None:
        self._types: dict[int, str] | None = None
        self._lock = threading.Lock()
        self._refused_once = False

    def local(self, st_dev: int) -> bool:
        """Whether the device holds a file system only this machine writes to."""
        if not sys.platform.startswith("linux"):
            return False
        with self._lock:
            if self._types is None or st_dev not in self._types:
                self._types = file_system_types()  # a mount made since the last look
                # a device mountinfo does not name (a btrfs subvolume): unknown, not looked up again
                self._types.setdefault(st_dev, "")
            fstype = self._types[st_dev]
        return fstype in LOCAL_FILE_SYSTEMS

    def writing(self, path: str | Path) -> bool | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError:
            return None
        try:
            return self.writing_fd(fd)
        finally:
            os.close(fd)

    def writing_fd(self, fd: int) -> bool | None:
        """Like ``writing``, for a file this process holds open read-only."""
        try:
            if not self.local(os.fstat(fd).st_dev):
                return None
            fcntl.fcntl(fd, _F_SETSIG, _BREAK_SIGNAL)
            fcntl.fcntl(fd, _F_SETLEASE, _F_RDLCK)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EBUSY):
                return True
            if exc.errno in (errno.EACCES, errno.EPERM) and not self._refused_once:
                self._refused_once = True
                logger.warning(
                    "the kernel does not let lakegate see who writes landing files (it is neither "
                    "their owner nor has CAP_LEASE): files are taken after a quiet period instead"
                )
            return None
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, _F_SETLEASE, _F_UNLCK)
        return False


PROBE = WriterProbe()
