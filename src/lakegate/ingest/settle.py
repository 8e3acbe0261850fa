"""When is a file in a landing folder done being written? Only then is it taken.

Where the kernel can tell (Linux, a local file system, lakegate root or the file's owner), a
file is ready the moment no process has it open for writing — ``cp``, ``gzip -c >``, a program
that pauses between rows, ``rsync --inplace``, a Samba share all hold it open until they are
done — except an empty file, which must also stay empty for the quiet period (``touch`` now,
content later). The watcher's close events make this immediate.

Where it cannot (another OS, a network file system that other machines write to, files of
another user), a file is ready once it has stayed unchanged for a quiet period:
``ingest.settle_seconds``, growing for a file that keeps changing — a quarter of how long it
has been seen changing, up to ``ingest.settle_max_seconds`` — so a long copy with pauses is not
taken at its first pause. Whatever slips through anyway is caught when the file is taken: it
is held under a hidden name and checked unchanged before it is registered and removed
(``pipeline.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lakegate.storage import ObjectStore

BUSY_RECHECK = 0.25  # seconds between looks at a file a process still has open for writing
_UNSEEN = (-1, -1, -1)  # the identity of a candidate not looked at yet


@dataclass
class _Candidate:
    identity: tuple[int, int, int]  # size, mtime, inode as last seen
    first_seen: float
    last_change: float
    look_at: float


class Settling:
    """The landing files not yet taken, and when each is worth another look. Thread-safe.

    ``store`` holds the landing keys; ``settle`` and ``settle_max`` are the quiet periods.
    """

    def __init__(self, store: ObjectStore, settle: float, settle_max: float) -> None:
        self.store = store
        self.settle = settle
        self.settle_max = max(settle, settle_max)
        self._candidates: dict[str, _Candidate] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._candidates

    def __len__(self) -> int:
        with self._lock:
            return len(self._candidates)

    def saw(self, key: str, now: float) -> None:
        """A listing or event says ``key`` exists: look at it at the next ``due``."""
        with self._lock:
            self._candidate(key, now)

    def _candidate(self, key: str, now: float) -> _Candidate:
        """``key``'s candidate, new (not seen yet, to be looked at now) if it had none. Hold the lock."""
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = _Candidate(_UNSEEN, now, now, now)
        return found

    def forget(self, key: str) -> None:
        with self._lock:
            self._candidates.pop(key, None)

    def due(self, now: float) -> list[str]:
        """Keys worth a look now."""
        with self._lock:
            return [k for k, c in self._candidates.items() if c.look_at <= now]

    def ready(self, key: str, now: float) -> bool:
        """Look at ``key`` now: ``True`` when it is to be taken (and no longer a candidate).

        Raises:
            StorageError: when the folder cannot be read (the key stays a candidate).
        """
        info = self.store.stat(key)
        if info is None:
            self.forget(key)
            return False
        writing = self.store.being_written(key)
        with self._lock:
            c = self._candidate(key, now)
            current = (info.size, info.mtime_ns, info.inode)
            if current != c.identity:
                if c.identity != _UNSEEN:
                    c.last_change = now
                c.identity = current
            if writing:
                c.last_change = now  # an empty file's quiet period counts from its writer's close
                c.look_at = now + BUSY_RECHECK
                return False
            if info.link or (writing is False and info.size > 0):  # nobody writes into a link
                del self._candidates[key]
                return True
            quiet = self.settle if writing is False else self.quiet_period(c)
            if now - c.last_change >= quiet:
                del self._candidates[key]
                return True
            c.look_at = c.last_change + quiet
            return False

    def quiet_period(self, c: _Candidate) -> float:
        """``settle``, or a quarter of how long the file has been seen changing, up to ``settle_max``."""
        return min(max(self.settle, (c.last_change - c.first_seen) / 4), self.settle_max)
