"""Fault injection for crash tests: kill the process right after a named point.

``LAKEGATE_TEST_CRASH_AT=copied`` (a state, or ``before_remove_source``) makes the ingest
process SIGKILL itself the first time it reaches that point, after the transition committed
(in a worker process, the daemon and so every worker die with it).
``LAKEGATE_TEST_CRASH_MARK=<file>`` makes it write the point's name there first, so a test can
tell which points were hit. Never set these outside tests.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def checkpoint(point: str) -> None:
    target = os.environ.get("LAKEGATE_TEST_CRASH_AT")
    if target and target == point:
        mark = os.environ.get("LAKEGATE_TEST_CRASH_MARK")
        if mark:
            with Path(mark).open("a", encoding="utf-8") as out:
                out.write(point + "\n")
                out.flush()
                os.fsync(out.fileno())
        daemon = os.environ.get("LAKEGATE_WORKER_OF")  # in a worker process: the daemon dies too
        if daemon:
            os.kill(int(daemon), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
