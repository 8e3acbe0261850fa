"""Work that outlives the request that began it stops when its principal's access changes.

A background query or a download in progress was authorised when it started; revoking its
token, disabling its user, changing its role or its grants must stop it too, not only apply to
the next request. Each such piece of work is ``hold``-en with a way to stop it and the access it
began with (``access_print``); once a second the holders' access is looked at again (once per
principal and token) and work whose access ended or changed is stopped.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from lakegate.auth.principals import Principal, Principals
from lakegate.errors import LakegateError
from lakegate.query.permissions import Grants, access_print

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


class AccessWatch:
    """Stops held work within ``interval`` seconds of its principal's access ending."""

    def __init__(self, principals: Principals, grants: Grants, interval: float = CHECK_SECONDS) -> None:
        self.principals = principals
        self.grants = grants
        self.interval = interval
        self._held: dict[int, tuple[str, str | None, Callable[[], None], tuple[Any, ...] | None]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def print_of(self, principal: Principal) -> tuple[Any, ...]:
        return access_print(principal, self.grants)

    def hold(self, principal: Principal, token_id: str | None, stop: Callable[[], None]) -> int:
        """Watch work of ``principal`` (begun with ``token_id``, if known); ``stop`` ends it."""
        began = self.print_of(principal)
        with self._lock:
            handle = next(self._ids)
            self._held[handle] = (principal.name, token_id, stop, began)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lakegate-access", daemon=True)
                self._thread.start()
        return handle

    def release(self, handle: int) -> None:
        with self._lock:
            self._held.pop(handle, None)

    def check(self) -> int:
        """Stop what lost its access now; how many pieces of work were stopped."""
        with self._lock:
            held = dict(self._held)
        verdicts: dict[tuple[str, str | None], tuple[Any, ...] | None] = {}
        stopped = 0
        for handle, (name, token_id, stop, began) in held.items():
            key = (name, token_id)
            if key not in verdicts:
                try:
                    now = self.principals.still_allowed(name, token_id)
                    ok = now is not None and now.role != "provider"
                    verdicts[key] = self.print_of(now) if ok and now is not None else None
                except LakegateError:
                    continue  # the catalog is unreachable: try again at the next look
            if verdicts[key] is None or verdicts[key] != began:
                self.release(handle)
                logger.info("stopping work of %s: its access ended or changed", name)
                try:
                    stop()
                except Exception:
                    logger.exception("stopping work of %s failed", name)
                stopped += 1
        return stopped

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                logger.exception("checking access of running work failed")

    def close(self) -> None:
        self._stop.set()
