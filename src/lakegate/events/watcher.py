"""Filesystem events: the fast path that tells the ingest service a landing file changed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

logger = logging.getLogger(__name__)


class Watcher:
    """Calls ``notify(prefix + relative path)`` for every file added or changed under ``folder``."""

    def __init__(self, folder: Path, prefix: str, notify: Callable[[str], None]) -> None:
        self.folder = folder
        self.prefix = prefix
        self.notify = notify
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lakegate-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        while not self._stop.is_set():
            try:
                for changes in watch(
                    folder, stop_event=self._stop, debounce=30, step=10, yield_on_timeout=False
                ):
                    for _change, path in changes:
                        try:
                            key = self.prefix + Path(path).relative_to(folder).as_posix()
                        except ValueError:
                            continue
                        self.notify(key)
            except Exception:
                # Events are an accelerator; the reconciler still finds every file.
                logger.exception("file watcher failed; restarting it in 1 s")
                self._stop.wait(1)
