"""Filesystem events: the fast path that tells the ingest service a landing file changed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

logger = logging.getLogger(__name__)


class FolderWatcher:
    """A thread watching ``folder`` until ``stop()``; its ``_watch`` is started again 1 s after
    it fails (events are an accelerator: the reconciler still finds every file)."""

    thread_name = "lakegate-watcher"

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def key_of(self, path: str | Path) -> str | None:
        """The object key of a path under the folder (``None`` for one outside it)."""
        try:
            return self.prefix + Path(path).relative_to(self.folder).as_posix()
        except ValueError:
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch()
            except Exception:
                logger.exception("%s failed; restarting it in 1 s", self.thread_name)
                self._stop.wait(1)

    def _watch(self) -> None:
        raise NotImplementedError


class Watcher(FolderWatcher):
    """Calls ``notify(prefix + relative path)`` for every file added or changed under ``folder``
    (watchfiles: where Linux's inotify is not there to read directly)."""

    def __init__(self, folder: Path, prefix: str, notify: Callable[[str], None]) -> None:
        super().__init__(folder, prefix)
        self.notify = notify

    def _watch(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for changes in watch(
            self.folder, stop_event=self._stop, debounce=30, step=10, yield_on_timeout=False
        ):
            for _change, path in changes:
                key = self.key_of(path)
                if key is not None:
                    self.notify(key)
