"""The reconciler: lists the landing prefix periodically, because events get lost.

A listing that breaks off (the store became unreachable on page 40 of 100) resumes after the
last key it reached instead of starting over, so a large landing prefix on a flaky store is
still covered in full.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from lakegate.errors import LakegateError
from lakegate.storage import ObjectInfo, ObjectStore

logger = logging.getLogger(__name__)


class Reconciler:
    """Calls ``notify(info)`` for every landing object, every ``interval`` seconds."""

    def __init__(
        self, store: ObjectStore, prefix: str, interval: float, notify: Callable[[ObjectInfo], None]
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.interval = interval
        self.notify = notify
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lakegate-reconciler", daemon=True)
        self.resume_after = ""  # where the next pass starts; empty: from the beginning
        self.passes = 0  # complete passes over the whole prefix

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        self._thread.join(timeout=5)

    def kick(self) -> None:
        """List again now (events were lost: the watcher's queue overflowed)."""
        self._kick.set()

    def run_once(self) -> int:
        """One pass: from where the last one broke off to the end. Returns the objects seen.

        Raises:
            StorageError: when listing fails; the next pass resumes after the last key seen.
        """
        count = 0
        for info in self.store.list(self.prefix, start_after=self.resume_after):
            self.notify(info)
            self.resume_after = info.key
            count += 1
        self.resume_after = ""
        self.passes += 1
        return count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except LakegateError as exc:
                where = f" after {self.resume_after}" if self.resume_after else ""
                logger.warning(
                    "listing %s failed (%s); resuming%s in %.1f s",
                    self.prefix,
                    exc.one_line(),
                    where,
                    self.interval,
                )
            except Exception:
                logger.exception("listing %s failed; trying again in %.1f s", self.prefix, self.interval)
            self._kick.wait(self.interval)
            self._kick.clear()
