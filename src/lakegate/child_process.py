"""Processes lakegate runs untrusted work in (judge processes for delivered files, engine
processes for queries): started as ``python -m <module>``, spoken to over a pipe of pickled
messages made of their standard input and output, and dead when their parent dies.

The child's side: ``child_pipe()`` first (it takes the pipe and sends what libraries print to
stderr), then ``die_with_parent``. The parent's side: ``Child``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1


class Pipe:
    """A two-way pipe made of two one-way connections (to and from another process)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._in = Connection(read_fd, writable=False)
        self._out = Connection(write_fd, readable=False)

    def send(self, item: object) -> None:
        self._out.send(item)

    def recv(self) -> Any:
        return self._in.recv()

    def poll(self, timeout: float) -> bool:
        return self._in.poll(timeout)

    def close(self) -> None:
        self._in.close()
        self._out.close()


def child_pipe() -> Pipe:
    """In a child: the pipe to its parent. What a library prints goes to stderr, not into it."""
    out = os.dup(1)
    os.dup2(2, 1)
    return Pipe(0, out)


def die_with_parent(parent: int, memory_bytes: int = 0) -> None:
    """In a child: be killed when ``parent`` dies, ignore Ctrl-C (the parent stops us), and cap
    the address space at ``memory_bytes`` (0: no cap)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the closed pipe ends us on the parent's exit
        pass
    if os.getppid() != parent:
        os._exit(1)  # the parent died before we could ask to die with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


class Died(Exception):
    """The child ended while it was asked something; ``how`` says how (a signal, an exit code)."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


class Child:
    """``python -m module *args`` (its first arguments: this process's pid), and the pipe to it."""

    def __init__(self, module: str, *args: str) -> None:
        argv = [sys.executable, "-m", module, str(os.getpid()), *args]
        # few malloc arenas: each reserves 64 MB of address space, which the cap counts
        env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=env
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.pipe = Pipe(os.dup(self.process.stdout.fileno()), os.dup(self.process.stdin.fileno()))
        self.process.stdin.close()
        self.process.stdout.close()
        self.ready = False
        self._send_lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, message: object) -> None:
        with self._send_lock:
            self.pipe.send(message)

    def receive(self) -> Any:
        """Raises: Died when the child ended instead of answering."""
        try:
            return self.pipe.recv()
        except (EOFError, OSError):
            raise Died(death(self._wait())) from None

    def wait_ready(self, seconds: float) -> bool:
        """Whether the child said ``ready`` within ``seconds`` (once; then it is known).

        Raises: Died when it ended first."""
        if not self.ready:
            self.ready = self.pipe.poll(seconds) and self.receive() == "ready"
        return self.ready

    def _wait(self) -> int | None:
        try:
            return self.process.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, gently: bool = False) -> None:
        """End it: asked to (``gently``, for 2 s), else killed."""
        if gently and self.alive():
            with contextlib.suppress(OSError, ValueError):
                self.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(2)
        if self.alive():
            self.process.kill()
        self._wait()
        with contextlib.suppress(OSError):
            self.pipe.close()


def death(exitcode: int | None) -> str:
    """How a child ended: ``died of SIGSEGV``, ``ended (exit code 1)``."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"died of {name}"
    return f"ended (exit code {exitcode})"
