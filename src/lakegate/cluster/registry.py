"""The node registry: which nodes share this catalog, what they do, whether they are alive.

A node is alive while its heartbeat is younger than a lease (``cluster.lease_seconds``). Several
nodes need what they share to be shared for real: a PostgreSQL catalog (SQLite is one machine's
file) and S3 storage (a node's folders are its own); a node that would break this refuses to
start (``cluster.needs_postgresql``, ``cluster.needs_shared_storage``).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog.model import nodes
from lakegate.errors import ConfigError

ROLES = ("all", "ingest", "query")
NODE_FILE = ".lakegate-node"  # in the home: the node's id, kept across restarts
FORGET_SECONDS = 7 * 24 * 3600.0  # a node stopped (or silent) this long is dropped from the list


@dataclass(frozen=True)
class Node:
    id: str
    host: str
    pid: int
    roles: str  # all | ingest | query
    version: str
    home: str
    storage: str  # s3 | local
    http_url: str | None = None
    pg_url: str | None = None
    started_at: float = 0.0
    heartbeat_at: float = 0.0
    stopped_at: float | None = None

    def alive(self, lease_seconds: float, now: float | None = None) -> bool:
        return self.stopped_at is None and self.heartbeat_at > (now or time.time()) - lease_seconds

    def takes(self, role: str) -> bool:
        """Whether the node does ``role``'s work (``ingest`` or ``query``)."""
        return self.roles in ("all", role)

    def as_dict(self, lease_seconds: float) -> dict[str, Any]:
        now = time.time()
        state = (
            "stopped" if self.stopped_at is not None else ("up" if self.alive(lease_seconds, now) else "gone")
        )
        return {
            "id": self.id, "host": self.host, "pid": self.pid, "roles": self.roles, "version": self.version,
            "storage": self.storage, "http_url": self.http_url, "pg_url": self.pg_url, "state": state,
            "started_at": self.started_at, "heartbeat_age_seconds": round(now - self.heartbeat_at, 1),
        }  # fmt: skip


def node_id(home: Path, configured: str | None = None) -> str:
    """This home's node id: ``configured``, else the one kept in the home, else a new one."""
    if configured:
        return configured
    path = home / NODE_FILE
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    made = f"{socket.gethostname().split('.')[0][:40]}-{secrets.token_hex(3)}"
    path.write_text(made + "\n")
    return made


def _node(row: Any) -> Node:
    return Node(**{c.name: getattr(row, c.name) for c in nodes.columns})


class Registry:
    """The nodes sharing ``catalog``; a node joins, beats and leaves."""

    def __init__(self, catalog: Catalog, lease_seconds: float) -> None:
        self.catalog = catalog
        self.lease_seconds = lease_seconds

    def join(self, node: Node) -> None:
        """Register ``node`` (again, after a restart), once the topology allows it.

        Raises: ConfigError ``cluster.needs_postgresql`` or ``cluster.needs_shared_storage``
        when another live node shares this catalog and the catalog or the storage cannot be
        shared."""
        now = time.time()
        with self.catalog.exclusively("registering this node", "nodes") as conn:
            others = [
                n for n in map(_node, conn.execute(sa.select(nodes)).all())
                if n.id != node.id and n.alive(self.lease_seconds, now)
            ]  # fmt: skip
            if others:
                _check_shareable(node, others[0], self.catalog.is_sqlite)
            conn.execute(nodes.delete().where(nodes.c.id == node.id))
            conn.execute(nodes.delete().where(nodes.c.heartbeat_at < now - FORGET_SECONDS))
            values = {c.name: getattr(node, c.name) for c in nodes.columns}
            conn.execute(
                nodes.insert().values({**values, "started_at": now, "heartbeat_at": now, "stopped_at": None})
            )

    def advertise(self, node: Node) -> None:
        with self.catalog.writing("recording where this node serves") as conn:
            conn.execute(
                nodes.update().where(nodes.c.id == node.id).values(http_url=node.http_url, pg_url=node.pg_url)
            )

    def beat(self, node_id: str) -> bool:
        """Renew ``node_id``'s heartbeat; False when it is no longer registered."""
        with self.catalog.writing("renewing this node's heartbeat", durable=False) as conn:
            done = conn.execute(
                nodes.update()
                .where(nodes.c.id == node_id, nodes.c.stopped_at.is_(None))
                .values(heartbeat_at=time.time())
            )
        return bool(done.rowcount)

    def leave(self, node_id: str) -> None:
        with self.catalog.writing("recording that this node stopped") as conn:
            conn.execute(nodes.update().where(nodes.c.id == node_id).values(stopped_at=time.time()))

    def all(self) -> list[Node]:
        with self.catalog.reading("reading the node registry") as conn:
            return [_node(row) for row in conn.execute(sa.select(nodes).order_by(nodes.c.id)).all()]

    def alive(self, role: str | None = None) -> list[Node]:
        """The live nodes (doing ``role``'s work), by id."""
        now = time.time()
        return [n for n in self.all() if n.alive(self.lease_seconds, now) and (role is None or n.takes(role))]


def _check_shareable(node: Node, other: Node, sqlite: bool) -> None:
    where = f"node {other.id} (pid {other.pid} on {other.host}, home {other.home})"
    if sqlite:
        raise ConfigError(
            f"{where} already uses this catalog, which is a SQLite file: one machine's, for one node",
            code="cluster.needs_postgresql",
            hint="several nodes need a PostgreSQL catalog and S3 storage (README: Running on many "
            "machines); or stop the other node, or give this one its own home",
        )
    if node.storage != "s3" or other.storage != "s3":
        mine = "this node's" if node.storage != "s3" else "that node's"
        raise ConfigError(
            f"{where} already uses this catalog, and {mine} landing, lake or quarantine area is a "
            "local folder, which other nodes cannot see",
            code="cluster.needs_shared_storage",
            hint="several nodes need S3 storage for landing, lake and quarantine (storage.* = "
            "s3://bucket/prefix/) and a PostgreSQL catalog (README: Running on many machines)",
        )


def this_node(home: Path, node: str, roles: str, storage_shared: bool) -> Node:
    try:
        version = metadata.version("lakegate")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return Node(
        id=node, host=socket.gethostname(), pid=os.getpid(), roles=roles, version=version,
        home=str(home), storage="s3" if storage_shared else "local",
    )  # fmt: skip
