"""A DB-API 2.0 (PEP 249) connection over a lakegate home, with Arrow and pandas results.

import lakegate
con = lakegate.connect(home="lakegate-data")       # a local home, as its admin
con = lakegate.connect(home="lakegate-data", principal="ann")   # ... seeing only ann's grants
con = lakegate.connect(server="http://host:8086", token="lg_...")  # a remote lakegate, as a principal
cur = con.cursor()
cur.execute("SELECT region, sum(amount) FROM sales.orders GROUP BY 1")
cur.fetchall()          # list of tuples
cur.fetch_arrow()       # pyarrow.Table
cur.fetch_df()          # pandas.DataFrame (needs pandas)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakegate import errors
from lakegate.app import App, open_app
from lakegate.auth.principals import Principal, Principals, home_admin
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_engine import spark_for
from lakegate.query.gateway import Gateway

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"

Error = errors.LakegateError
DatabaseError = errors.QueryError
ProgrammingError = errors.GuardError


class Cursor:
    arraysize = 1000

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._table: pa.Table | None = None
        self._rows: list[tuple[Any, ...]] | None = None
        self._pos = 0
        self.elapsed_ms = 0.0

    @property
    def description(self) -> list[tuple[str, str, None, None, None, None, bool]] | None:
        if self._table is None:
            return None
        return [(f.name, str(f.type), None, None, None, None, f.nullable) for f in self._table.schema]

    @property
    def rowcount(self) -> int:
        return -1 if self._table is None else self._table.num_rows

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        self._table, self.elapsed_ms = self.connection._run(sql, parameters)
        self._rows, self._pos = None, 0
        return self

    def _all_rows(self) -> list[tuple[Any, ...]]:
        if self._table is None:
            raise errors.QueryError("no query has been executed on this cursor", code="query.no_result")
        if self._rows is None:
            columns = [col.to_pylist() for col in self._table.columns]
            self._rows = list(zip(*columns, strict=True)) if columns else []
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._all_rows()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        rows = self._all_rows()
        n = size or self.arraysize
        out = rows[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._all_rows()
        out = rows[self._pos :]
        self._pos = len(rows)
        return out

    def fetch_arrow(self) -> pa.Table:
        if self._table is None:
            raise errors.QueryError("no query has been executed on this cursor", code="query.no_result")
        return self._table

    def fetch_df(self) -> Any:
        """The result as a pandas DataFrame (pandas is an extra: ``pip install 'lakegate[pandas]'``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise ModuleNotFoundError(
                "fetch_df() needs pandas, which lakegate does not install by itself: "
                "pip install 'lakegate[pandas]' (or use fetch_arrow(), which needs nothing more)",
                name="pandas",
            ) from None
        return self.fetch_arrow().to_pandas()

    def close(self) -> None:
        self._table = self._rows = None

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass


class Connection:
    dialect = "duckdb"  # or athena/trino: queries are translated with the same meaning
    reuse_max_age_minutes: float | None = None  # answer from an identical query's result this old
    engine: str | None = None  # admins: duckdb or spark instead of the workgroup's

    def __init__(
        self,
        app: App,
        gateway: Gateway,
        principal: Principal,
        dialect: str = "duckdb",
        reuse_max_age_minutes: float | None = None,
        *,
        via: str = "python",
    ) -> None:
        self.app = app
        self.gateway = gateway
        self.principal = principal
        self.dialect = dialect
        self.reuse_max_age_minutes = reuse_max_age_minutes
        self.via = via

    def _run(self, sql: str, parameters: Sequence[Any] | None) -> tuple[pa.Table, float]:
        reuse = self.reuse_max_age_minutes * 60 if self.reuse_max_age_minutes else None
        _, result, _ = self.gateway.run(
            self.principal, sql, parameters, dialect=self.dialect, via=self.via, reuse_seconds=reuse,
            engine=self.engine,
        )  # fmt: skip
        return result.table, result.elapsed_ms

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        pass  # read-only: nothing to commit

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self.gateway.close()
        self.app.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteConnection(Connection):
    """A connection to a lakegate's HTTP API: queries run there, as the token's principal, and
    results arrive as Arrow IPC streams (exact types)."""

    def __init__(
        self, server: str, token: str, dialect: str = "duckdb", reuse_max_age_minutes: float | None = None
    ) -> None:
        import httpx

        self.dialect = dialect
        self.reuse_max_age_minutes = reuse_max_age_minutes
        self.server = server.rstrip("/")
        self._client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=None)

    def _run(self, sql: str, parameters: Sequence[Any] | None) -> tuple[pa.Table, float]:
        import time

        import httpx

        started = time.perf_counter()
        body = {
            "sql": sql,
            "format": "arrow",
            "params": list(parameters) if parameters else None,
            "dialect": self.dialect,
            "reuse_max_age_minutes": self.reuse_max_age_minutes,
            "engine": self.engine,
        }
        try:
            answer = self._client.post(f"{self.server}/v1/query/download", json=body)
        except httpx.HTTPError as exc:
            raise errors.QueryError(
                f"{self.server} did not answer: {exc}",
                code="query.server_unreachable",
                hint="check the URL and that lakegate up serves --http-port there",
                transient=True,
            ) from None
        if answer.status_code != 200:
            error = answer.json().get("error", {})
            kind = errors.GuardError if str(error.get("code", "")).startswith("guard.") else errors.QueryError
            raise kind(
                error.get("message", answer.text),
                code=error.get("code", "query.failed"),
                hint=error.get("hint"),
            )
        table = pa.ipc.open_stream(answer.content).read_all()
        return table, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._client.close()


def local(
    app: App,
    principal: str | None = None,
    *,
    dialect: str = "duckdb",
    reuse_max_age_minutes: float | None = None,
    via: str = "python",
) -> Connection:
    """A connection to an opened home, as ``principal`` (default: the home's admin); its queries
    go through a gateway of their own, recorded in the history ``via`` this front end."""
    who = Principals(app.catalog).require(principal) if principal is not None else home_admin()
    store = app.query_store()
    engine = QueryEngine(app.catalog, store, app.settings.query)
    gateway = Gateway(app.catalog, engine, **spark_for(app.catalog, store, app.settings))
    return Connection(app, gateway, who, dialect, reuse_max_age_minutes, via=via)


def connect(
    home: str | Path | None = None,
    *,
    principal: str | None = None,
    server: str | None = None,
    token: str | None = None,
    dialect: str = "duckdb",
    reuse_max_age_minutes: float | None = None,
) -> Connection:
    """Open a read-only connection: to the lakegate home ``home`` (flag > $LAKEGATE_HOME >
    ./lakegate-data), as its admin or as ``principal`` (seeing only its grants, within its
    workgroup's limits); or with ``server`` and ``token``, to a remote lakegate, as
    the token's principal (seeing only its grants). ``dialect`` ``athena`` (or ``trino``) takes
    Athena's SQL, translated with the same meaning. ``reuse_max_age_minutes``: a query may be
    answered by the result of an identical one over the same files at most this old."""
    if server is not None:
        if not token:
            raise errors.ConfigError(
                "a server needs a token", code="connect.no_token", hint="connect(server=..., token='lg_...')"
            )
        return RemoteConnection(server, token, dialect, reuse_max_age_minutes)
    app = open_app(home)
    try:
        return local(app, principal, dialect=dialect, reuse_max_age_minutes=reuse_max_age_minutes)
    except BaseException:
        app.close()
        raise
