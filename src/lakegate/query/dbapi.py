"""A DB-API 2.0 (PEP 249) connection over a lakegate home, with Arrow and pandas results.

import lakegate
con = lakegate.connect(home="lakegate-data")
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
from lakegate.query.engine import QueryEngine

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
        result = self.connection.engine.execute(sql, parameters)
        self._table, self._rows, self._pos = result.table, None, 0
        self.elapsed_ms = result.elapsed_ms
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
        return self.fetch_arrow().to_pandas()

    def close(self) -> None:
        self._table = self._rows = None

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass


class Connection:
    def __init__(self, app: App, engine: QueryEngine) -> None:
        self.app = app
        self.engine = engine

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        pass  # read-only: nothing to commit

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self.engine.close()
        self.app.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(home: str | Path | None = None) -> Connection:
    """Open a read-only connection to the lakegate home ``home`` (flag > $LAKEGATE_HOME > ./lakegate-data)."""
    app = open_app(home)
    engine = QueryEngine(app.catalog, app.query_store(), app.settings.query)
    return Connection(app, engine)
