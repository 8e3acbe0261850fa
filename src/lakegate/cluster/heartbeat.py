"""A node's heartbeat: every fifth of a lease it renews its registration, the leases of what it
holds (ledger claims, query slots), its bid to lead, and its view of the live nodes."""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace

from lakegate.catalog.records import Claimant
from lakegate.cluster.leader import Leadership
from lakegate.cluster.registry import Node, Registry
from lakegate.errors import LakegateError

logger = logging.getLogger(__name__)


class Heartbeat:
    """Keeps ``node`` alive in ``registry``; ``renewals`` are called on every beat (each renews
    leases of its own: query slots...)."""

    def __init__(self, registry: Registry, node: Node, claimant: Claimant) -> None:
        self.registry = registry
        self.node = node
        self.claimant = claimant
        self.leadership = Leadership(registry.catalog)
        self.renewals: list[Callable[[], None]] = []
        self.interval = claimant.lease_seconds / 5
        self._ingest_nodes: list[str] = [node.id]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None

    def start(self) -> None:
        self.registry.join(self.node)
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="lakegate-heartbeat", daemon=True)
        self._thread.start()

    def advertise(self, **urls: str) -> None:
        """Where this node serves (``http_url``, ``pg_url``), for ``lakegate nodes``."""
        self.node = replace(self.node, **urls)  # type: ignore[arg-type]
        self.registry.advertise(self.node)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.leadership.release()
        try:
            self.registry.catalog.release_claims(self.node.id)  # others take over now, not in a lease
            self.registry.leave(self.node.id)
        except LakegateError as exc:
            logger.warning("could not record that this node stopped: %s", exc.one_line())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def beat(self) -> None:
        try:
            if not self.registry.beat(self.node.id):
                self.registry.join(self.node)  # dropped while cut off: back in
            self.registry.catalog.renew_claims(self.claimant)
            for renew in self.renewals:
                renew()
            self.leadership.check()
            alive = [n.id for n in self.registry.alive("ingest")]
            self._ingest_nodes = alive if self.node.id in alive else sorted([*alive, self.node.id])
            if self._failing_since is not None:
                logger.warning("the catalog answers again: this node's leases are renewed")
            self._failing_since = None
        except LakegateError as exc:
            now = time.monotonic()
            if self._failing_since is None:
                self._failing_since = now
                logger.warning("cannot renew this node's leases: %s", exc.one_line())
            elif now - self._failing_since > self.claimant.lease_seconds:
                logger.warning(
                    "this node's leases ran out (%s): other nodes may take over what it holds",
                    exc.one_line(),
                )
                self._failing_since = now
        except Exception:  # a bug must not stop the heartbeat for good
            logger.exception("heartbeat failed")

    @property
    def leads(self) -> bool:
        return self.leadership.leads

    def in_shard(self, key: str) -> bool:
        """Whether listing should hand ``key`` to this node: keys are spread over the live
        ingest nodes by a hash, so each lists everything and takes its share."""
        members = self._ingest_nodes
        if len(members) <= 1:
            return True
        return members[zlib.crc32(key.encode()) % len(members)] == self.node.id
