"""The reconciler: lists the landing prefix periodically, because events get lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        self._thread.join(timeout=5)

    def run_once(self) -> int:
        count = 0
        for info in self.store.list(self.prefix):
            self.notify(info)
            count += 1
        return count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("listing %s failed; trying again in %.1f s", self.prefix, self.interval)
            self._kick.wait(self.interval)
            self._kick.clear()
