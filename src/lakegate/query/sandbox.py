"""Query threads that cannot write files or open network connections, enforced by the kernel.

DuckDB's own sandbox (``allowed_paths``) grants write access to what it lets a query read, so
on its own it is not read-only (REFERENCE.md). Queries therefore run on threads restricted with
Linux Landlock: no file may be created, written, truncated, renamed or removed, and (kernel ABI
4 and newer) no TCP connection opened except to the ports given. A DuckDB instance created on
such a thread starts its worker threads there, and they inherit the restriction.

Where Landlock is unavailable the threads run unrestricted and ``landlock_abi()`` returns 0;
the statement guard and DuckDB's sandbox still apply, and ``lakegate up`` says so once.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

logger = logging.getLogger(__name__)

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # same numbers on x86_64 and aarch64
_CREATE_RULESET_VERSION = 1
_PR_SET_NO_NEW_PRIVS = 38
_RULE_NET_PORT = 2
_NET_CONNECT_TCP = 1 << 1
_NET_BIND_TCP = 1 << 0

# Every right that changes the file system. Reading stays with DuckDB's allowed_paths.
_FS_WRITE_V1 = sum(1 << bit for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
_FS_REFER = 1 << 13  # ABI 2: link or rename across folders
_FS_TRUNCATE = 1 << 14  # ABI 3

T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)
_abi: int | None = None


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when it has none."""
    global _abi
    if _abi is None:
        _abi = 0
        if platform.system() == "Linux":
            result = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
            _abi = max(int(result), 0)
    return _abi


def restrict_current_thread(allow_tcp_ports: tuple[int, ...] = ()) -> bool:
    """Forbid this thread (and threads it starts later) any file write and any other TCP connection.

    Returns:
        True when the kernel enforces it, False when Landlock is unavailable.
    """
    abi = landlock_abi()
    if abi < 1:
        return False
    fs = _FS_WRITE_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    net = _NET_CONNECT_TCP | _NET_BIND_TCP
    attr = struct.pack("=QQ", fs, net) if abi >= 4 else struct.pack("=Q", fs)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), 0)
    if fd < 0:
        logger.warning("landlock: cannot create a ruleset: %s", os.strerror(ctypes.get_errno()))
        return False
    try:
        if abi >= 4:
            for port in allow_tcp_ports:
                rule = ctypes.create_string_buffer(struct.pack("=QQ", _NET_CONNECT_TCP, port), 16)
                if _libc.syscall(_ADD_RULE, fd, _RULE_NET_PORT, rule, 0) != 0:
                    raise OSError(ctypes.get_errno(), "landlock_add_rule")
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if _libc.syscall(_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(fd)
    return True


class ReadOnlyExecutor:
    """A pool of Landlock-restricted threads that run query work."""

    def __init__(self, workers: int = 4, allow_tcp_ports: tuple[int, ...] = ()) -> None:
        self._ports = allow_tcp_ports
        self._restricted = threading.local()
        self.enforced = landlock_abi() > 0
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="lakegate-query", initializer=self._init
        )

    def _init(self) -> None:
        self._restricted.on = restrict_current_thread(self._ports)

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a restricted thread and return its result (or raise its error)."""
        return self._pool.submit(fn).result()

    def submit(self, fn: Callable[[], object]) -> None:
        """Start ``fn`` on a restricted thread (its errors are its own to report)."""
        self._pool.submit(fn)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
