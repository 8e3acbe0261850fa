"""The query history: every query run for a principal, kept as the audit log of who read what.

A query is recorded before it runs and finished with its outcome (rows, the tables it read, or
the error's code and message). The records commit without waiting for the disk (a query costs
no fsync): a power cut may lose the last seconds of them, a crash of lakegate does not.
Principals see their own queries, admins everyone's; nobody deletes them through lakegate.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.auth.principals import Principal
from lakegate.catalog import Catalog
from lakegate.catalog.model import queries
from lakegate.errors import CatalogError, ConfigError, LakegateError, QueryError
from lakegate.query.locate import locate

STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class QueryRecord:
    id: str
    principal: str
    workgroup: str | None
    via: str
    sql: str
    state: str
    error_code: str | None
    error: str | None
    tables: list[str]
    rows: int | None
    bytes_scanned: int | None
    reused: bool
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    engine: str | None = None  # the engine that ran it (None: it did not run)
    athena: dict[str, Any] | None = None  # started through Athena's API: what it reports of it

    @property
    def elapsed_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at) * 1000

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "principal": self.principal, "workgroup": self.workgroup, "via": self.via,
            "sql": self.sql, "state": self.state, "error_code": self.error_code, "error": self.error,
            "tables": self.tables, "rows": self.rows, "bytes_scanned": self.bytes_scanned,
            "reused": self.reused, "submitted_at": self.submitted_at,
            "started_at": self.started_at, "finished_at": self.finished_at, "elapsed_ms": self.elapsed_ms,
            "error_position": locate(self.sql, self.error) if self.error else None,
            "engine": self.engine,
        }  # fmt: skip


def _record(row: Any) -> QueryRecord:
    return QueryRecord(
        row.id, row.principal, row.workgroup, row.via, row.sql, row.state, row.error_code, row.error,
        list(row.tables or []), row.rows, row.bytes_scanned, bool(row.reused), row.submitted_at,
        row.started_at, row.finished_at, row.engine, row.athena,
    )  # fmt: skip


ACTIVE = ("QUEUED", "RUNNING")


class History:
    """``node``: the node whose queries this records (several nodes on one catalog); its
    unfinished queries carry a lease it renews (``renew``), so that one whose node died is
    finished as ``query.node_lost`` by another (``finish_lost``)."""

    def __init__(self, catalog: Catalog, node: str | None = None, lease_seconds: float = 15.0) -> None:
        self.catalog = catalog
        self.node = node
        self.lease_seconds = lease_seconds

    def start(
        self,
        principal: Principal,
        sql: str,
        via: str,
        *,
        state: str = "RUNNING",
        cancel_key: str | None = None,
        request_token: str | None = None,
        athena: dict[str, Any] | None = None,
    ) -> str:
        """Record a query about to run (or, ``QUEUED``, waiting for its turn); its id.
        ``cancel_key``: what a PostgreSQL client's CancelRequest for it will carry (hashed);
        ``request_token``: an Athena client's ClientRequestToken, ``athena`` what Athena's API
        reports of the query.

        Raises: QueryError ``query.repeated_request`` when ``principal`` started a query with
        ``request_token`` already (``by_request_token`` finds it)."""
        query_id = uuid.uuid4().hex
        now = time.time()
        try:
            with self.catalog.writing("recording a query", durable=False) as conn:
                conn.execute(
                    queries.insert().values(
                        id=query_id, principal=principal.name, workgroup=principal.workgroup, via=via,
                        sql=sql, state=state, submitted_at=now,
                        started_at=now if state == "RUNNING" else None,
                        node=self.node, lease_until=now + self.lease_seconds if self.node else None,
                        cancel_key=cancel_key, request_token=request_token, athena=athena,
                    )
                )  # fmt: skip
        except CatalogError:
            if request_token is not None and self.by_request_token(principal, request_token) is not None:
                raise QueryError(
                    "a query was started with this request token already", code="query.repeated_request"
                ) from None
            raise
        return query_id

    def active_in(self, workgroup: str) -> int:
        """How many queries of ``workgroup`` are queued or running (on every node)."""
        with self.catalog.reading("counting a workgroup's queries") as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        queries.c.state.in_(ACTIVE), queries.c.workgroup == workgroup
                    )
                ).scalar_one()
            )

    def by_request_token(self, principal: Principal, request_token: str) -> QueryRecord | None:
        """The query ``principal`` started with an Athena ClientRequestToken, if any."""
        with self.catalog.reading("finding a query by its request token") as conn:
            row = conn.execute(
                sa.select(queries).where(
                    queries.c.principal == principal.name, queries.c.request_token == request_token
                )
            ).first()
        return None if row is None else _record(row)

    def running(self, query_id: str) -> None:
        """A queued query got its turn."""
        with self.catalog.writing("recording a query's start", durable=False) as conn:
            conn.execute(
                queries.update()
                .where(queries.c.id == query_id)
                .values(state="RUNNING", started_at=time.time())
            )

    def finish(
        self,
        query_id: str,
        *,
        rows: int | None = None,
        tables: list[str] | None = None,
        bytes_scanned: int | None = None,
        reused: bool = False,
        error: LakegateError | None = None,
        engine: str | None = None,
    ) -> None:
        state = (
            "SUCCEEDED" if error is None else ("CANCELLED" if error.code == "query.cancelled" else "FAILED")
        )
        with self.catalog.writing("recording a query's outcome", durable=False) as conn:
            conn.execute(
                queries.update()
                .where(queries.c.id == query_id, queries.c.state.in_(ACTIVE))
                .values(
                    state=state, rows=rows, tables=tables, bytes_scanned=bytes_scanned, reused=reused,
                    finished_at=time.time(), engine=engine,
                    error_code=error.code if error else None, error=error.message if error else None,
                )
            )  # fmt: skip

    def kept(self, query_id: str, key: str) -> None:
        """Where the query's result is kept (its key in the results area)."""
        with self.catalog.writing("recording where a result is kept", durable=False) as conn:
            conn.execute(queries.update().where(queries.c.id == query_id).values(result_key=key))

    def ask_cancel(self, query_id: str) -> str | None:
        """Ask the node running an unfinished query to cancel it; that node's name (None: it has
        finished, or it runs where no node sees requests)."""
        return self._ask_cancel(queries.c.id == query_id)

    def ask_cancel_keyed(self, cancel_key: str) -> str | None:
        """``ask_cancel`` for the unfinished query a PostgreSQL client's cancel key names."""
        return self._ask_cancel(queries.c.cancel_key == cancel_key)

    def _ask_cancel(self, which: Any) -> str | None:
        with self.catalog.writing("asking for a cancel", durable=False) as conn:
            row = conn.execute(
                queries.update()
                .where(which, queries.c.state.in_(ACTIVE))
                .values(cancel_requested=True)
                .returning(queries.c.node)
            ).first()
        return row.node if row is not None else None

    def cancels_asked(self) -> list[str]:
        """This node's unfinished queries that another node was asked to cancel."""
        if self.node is None:
            return []
        with self.catalog.reading("reading cancel requests") as conn:
            found = conn.execute(
                sa.select(queries.c.id).where(
                    queries.c.node == self.node, queries.c.cancel_requested.is_(True),
                    queries.c.state.in_(ACTIVE),
                )
            )  # fmt: skip
            return list(found.scalars())

    def renew(self) -> None:
        """Extend the lease of this node's unfinished queries (on every heartbeat)."""
        if self.node is None:
            return
        with self.catalog.writing("renewing queries", durable=False) as conn:
            conn.execute(
                queries.update()
                .where(queries.c.node == self.node, queries.c.state.in_(ACTIVE))
                .values(lease_until=time.time() + self.lease_seconds)
            )

    def finish_lost(self) -> int:
        """Finish, as FAILED ``query.node_lost``, the unfinished queries whose node stopped
        renewing them (it died); how many."""
        now = time.time()
        with self.catalog.writing("finishing the queries of a lost node", durable=False) as conn:
            done = conn.execute(
                queries.update()
                .where(
                    queries.c.state.in_(ACTIVE), queries.c.lease_until.is_not(None),
                    queries.c.lease_until < now,
                )
                .values(
                    state="FAILED", finished_at=now, error_code="query.node_lost",
                    error="the node running the query stopped (it died or lost the catalog) before the "
                    "query finished",
                )
            )  # fmt: skip
        return int(done.rowcount or 0)

    def of(self, viewer: Principal, *, principal: str | None = None, limit: int = 100) -> list[QueryRecord]:
        """Queries, newest first: ``viewer``'s own, or (for an admin) everyone's or ``principal``'s."""
        query = sa.select(queries).order_by(queries.c.submitted_at.desc()).limit(max(1, min(limit, 10_000)))
        if not viewer.is_admin:
            query = query.where(queries.c.principal == viewer.name)
        elif principal:
            query = query.where(queries.c.principal == principal)
        with self.catalog.reading("reading the query history") as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def get(self, viewer: Principal, query_id: str) -> QueryRecord:
        """One query, if ``viewer`` may see it (its own, or any for an admin).

        Raises: ConfigError ``query.unknown`` — also for another principal's query.
        """
        with self.catalog.reading("reading a query") as conn:
            row = conn.execute(sa.select(queries).where(queries.c.id == query_id)).first()
        if row is None or not (viewer.is_admin or row.principal == viewer.name):
            raise ConfigError(
                f"no query {query_id!r}", code="query.unknown", hint="GET /v1/queries lists yours"
            )
        return _record(row)
