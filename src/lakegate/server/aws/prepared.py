"""Athena's prepared statements and named queries, kept in the catalog: each principal's own
within a workgroup (Athena shares them within a workgroup; lakegate keeps tenants apart).

    PREPARE name FROM <query>          kept (the query is checked when it is executed)
    EXECUTE name [USING 1, 'x', ...]   runs it with each ? bound to one literal, in order
    DEALLOCATE PREPARE name            forgotten

and the API operations of the same (Create/Get/List/Update/Delete/BatchGetPreparedStatement)
and of named queries (Create/Get/List/Update/Delete/BatchGetNamedQuery).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
import sqlglot
from sqlglot.tokenizer_core import TokenType

from lakegate.auth.principals import Principal
from lakegate.catalog import Catalog
from lakegate.catalog.model import named_queries, prepared_statements
from lakegate.errors import GuardError, LakegateError
from lakegate.server.aws import athena_sql
from lakegate.server.aws.athena_meta import AthenaCatalog, bad_request, not_found

Params = dict[str, Any]
_PREPARE = re.compile(r"prepare\s+(?P<name>[\w]+)\s+from\s+(?P<sql>.+)", re.I | re.S)
_EXECUTE = re.compile(r"execute\s+(?P<name>[\w]+)(?:\s+using\s+(?P<values>.+))?", re.I | re.S)
_DEALLOCATE = re.compile(r"deallocate\s+prepare\s+(?P<name>[\w]+)", re.I | re.S)
_STATEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")


@dataclass(frozen=True)
class Action:
    """What a prepared-statement statement does: runs a query (``run``) or answers at once."""

    run: str | None
    answer: Callable[[], pa.Table]


def _done() -> pa.Table:
    return pa.table({"result": pa.array([], pa.string())})


def using_values(text: str) -> list[str]:
    """The literals of ``EXECUTE ... USING a, b``, split at the commas between them."""
    tokens = sqlglot.tokenize(text, read="athena")
    pieces, start, depth = [], 0, 0
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 0:
            pieces.append(text[start : token.start])
            start = token.end + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces]


def batch(names: Any, key: str, fetch: Callable[[Any], Params]) -> tuple[list[Params], list[Params]]:
    """A BatchGet...: what ``fetch`` found of ``names``, and the rest as Athena lists them."""
    if not isinstance(names, list) or not 1 <= len(names) <= 50:
        raise bad_request(f"give 1 to 50 of {key}")
    found, missing = [], []
    for name in names:
        try:
            found.append(fetch(name))
        except LakegateError as exc:
            missing.append({key: name, "ErrorCode": "INVALID_INPUT", "ErrorMessage": exc.message})
    return found, missing


class PreparedStatements:
    def __init__(self, catalog: Catalog, meta: AthenaCatalog) -> None:
        self.catalog = catalog
        self.meta = meta

    @property
    def operations(self) -> dict[str, Callable[[Principal, Params], Params]]:
        return {
            "CreatePreparedStatement": self.create, "UpdatePreparedStatement": self.create,
            "GetPreparedStatement": self.get, "ListPreparedStatements": self.list,
            "DeletePreparedStatement": self.delete, "BatchGetPreparedStatement": self.batch_get,
            "CreateNamedQuery": self.create_named, "GetNamedQuery": self.get_named,
            "ListNamedQueries": self.list_named, "DeleteNamedQuery": self.delete_named,
            "BatchGetNamedQuery": self.batch_get_named, "UpdateNamedQuery": self.update_named,
        }  # fmt: skip

    # -- statements in SQL ------------------------------------------------------------------------

    def statement(self, principal: Principal, workgroup: str, sql: str, parameters: list[str]) -> Action:
        """Raises: GuardError for a statement it cannot read; ``aws.not_found``; ``aws.bad_parameter``."""
        text = athena_sql.body(sql)
        prepare = _PREPARE.fullmatch(text)
        if prepare:
            inner = prepare["sql"]
            if athena_sql.kind(inner) != "query":
                raise athena_sql.refuse_write(inner)
            self._keep(principal, workgroup, prepare["name"], inner, "")
            return Action(None, _done)
        execute = _EXECUTE.fullmatch(text)
        if execute:
            kept = self._sql(principal, workgroup, execute["name"])
            values = using_values(execute["values"]) if execute["values"] else parameters
            return Action(athena_sql.bind(kept, values), _done)
        deallocate = _DEALLOCATE.fullmatch(text)
        if deallocate:
            self._forget(principal, workgroup, deallocate["name"])
            return Action(None, _done)
        raise GuardError(
            f"lakegate cannot read {text[:60]!r}",
            code="guard.syntax",
            hint="PREPARE name FROM query; EXECUTE name USING values; DEALLOCATE PREPARE name",
        )

    def _where(self, principal: Principal, workgroup: str, name: str) -> Any:
        c = prepared_statements.c
        return sa.and_(c.principal == principal.name, c.workgroup == workgroup, c.name == name)

    def _keep(self, principal: Principal, workgroup: str, name: str, sql: str, description: str) -> None:
        if not _STATEMENT_NAME.fullmatch(name):
            raise bad_request(f"StatementName {name[:80]!r} is letters, digits and _ (up to 256)")
        with self.catalog.writing(f"keeping prepared statement {name}") as conn:
            conn.execute(prepared_statements.delete().where(self._where(principal, workgroup, name)))
            conn.execute(
                prepared_statements.insert().values(
                    principal=principal.name, workgroup=workgroup, name=name, sql=sql,
                    description=description, updated_at=time.time(),
                )
            )  # fmt: skip

    def _row(self, principal: Principal, workgroup: str, name: str) -> Any:
        with self.catalog.reading(f"reading prepared statement {name}") as conn:
            row = conn.execute(
                sa.select(prepared_statements).where(self._where(principal, workgroup, name))
            ).first()
        if row is None:
            raise not_found(f"prepared statement {name!r}", "ListPreparedStatements lists yours")
        return row

    def _sql(self, principal: Principal, workgroup: str, name: str) -> str:
        return str(self._row(principal, workgroup, name).sql)

    def _forget(self, principal: Principal, workgroup: str, name: str) -> None:
        self._row(principal, workgroup, name)
        with self.catalog.writing(f"deleting prepared statement {name}") as conn:
            conn.execute(prepared_statements.delete().where(self._where(principal, workgroup, name)))

    # -- the API ----------------------------------------------------------------------------------

    def _group(self, principal: Principal, params: Params) -> str:
        return self.meta.workgroup(principal, params.get("WorkGroup"))[0]

    def create(self, principal: Principal, params: Params) -> Params:
        name, sql = params.get("StatementName"), params.get("QueryStatement")
        if not isinstance(name, str) or not isinstance(sql, str) or not sql.strip():
            raise bad_request("StatementName and QueryStatement are required")
        if athena_sql.kind(sql) != "query":
            raise athena_sql.refuse_write(sql)
        self._keep(principal, self._group(principal, params), name, sql, str(params.get("Description") or ""))
        return {}

    def _json(self, row: Any) -> Params:
        return {
            "StatementName": row.name, "QueryStatement": row.sql, "WorkGroupName": row.workgroup,
            "Description": row.description, "LastModifiedTime": row.updated_at,
        }  # fmt: skip

    def get(self, principal: Principal, params: Params) -> Params:
        name = params.get("StatementName")
        row = self._row(principal, self._group(principal, params), str(name))
        return {"PreparedStatement": self._json(row)}

    def batch_get(self, principal: Principal, params: Params) -> Params:
        group = self._group(principal, params)
        found, missing = batch(
            params.get("PreparedStatementNames"), "StatementName",
            lambda name: self._json(self._row(principal, group, str(name))),
        )  # fmt: skip
        return {"PreparedStatements": found, "UnprocessedPreparedStatementNames": missing}

    def list(self, principal: Principal, params: Params) -> Params:
        c = prepared_statements.c
        with self.catalog.reading("listing prepared statements") as conn:
            rows = conn.execute(
                sa.select(c.name, c.updated_at)
                .where(c.principal == principal.name, c.workgroup == self._group(principal, params))
                .order_by(c.name)
            ).all()
        return {
            "PreparedStatements": [{"StatementName": r.name, "LastModifiedTime": r.updated_at} for r in rows]
        }

    def delete(self, principal: Principal, params: Params) -> Params:
        self._forget(principal, self._group(principal, params), str(params.get("StatementName")))
        return {}

    # -- named queries ----------------------------------------------------------------------------

    def create_named(self, principal: Principal, params: Params) -> Params:
        name, database, sql = params.get("Name"), params.get("Database"), params.get("QueryString")
        if not all(isinstance(v, str) and v for v in (name, database, sql)):
            raise bad_request("Name, Database and QueryString are required")
        named_id = str(uuid.uuid4())
        with self.catalog.writing("saving a named query") as conn:
            conn.execute(
                named_queries.insert().values(
                    id=named_id, principal=principal.name, workgroup=self._group(principal, params),
                    name=name, description=str(params.get("Description") or ""), database=database,
                    sql=sql, created_at=time.time(),
                )
            )  # fmt: skip
        return {"NamedQueryId": named_id}

    def _named(self, principal: Principal, named_id: Any) -> Any:
        with self.catalog.reading("reading a named query") as conn:
            row = conn.execute(
                sa.select(named_queries).where(
                    named_queries.c.id == str(named_id), named_queries.c.principal == principal.name
                )
            ).first()
        if row is None:
            raise not_found(f"named query {named_id!r}", "ListNamedQueries lists yours")
        return row

    @staticmethod
    def _named_json(row: Any) -> Params:
        return {
            "NamedQueryId": row.id, "Name": row.name, "Description": row.description,
            "Database": row.database, "QueryString": row.sql, "WorkGroup": row.workgroup,
        }  # fmt: skip

    def get_named(self, principal: Principal, params: Params) -> Params:
        return {"NamedQuery": self._named_json(self._named(principal, params.get("NamedQueryId")))}

    def batch_get_named(self, principal: Principal, params: Params) -> Params:
        found, missing = batch(
            params.get("NamedQueryIds"), "NamedQueryId", lambda i: self._named_json(self._named(principal, i))
        )
        return {"NamedQueries": found, "UnprocessedNamedQueryIds": missing}

    def list_named(self, principal: Principal, params: Params) -> Params:
        c = named_queries.c
        with self.catalog.reading("listing named queries") as conn:
            ids = conn.execute(
                sa.select(c.id)
                .where(c.principal == principal.name, c.workgroup == self._group(principal, params))
                .order_by(c.created_at)
            ).scalars()
            return {"NamedQueryIds": list(ids)}

    def update_named(self, principal: Principal, params: Params) -> Params:
        row = self._named(principal, params.get("NamedQueryId"))
        changes = {
            "name": params.get("Name"),
            "sql": params.get("QueryString"),
            "description": params.get("Description"),
        }
        with self.catalog.writing("updating a named query") as conn:
            conn.execute(
                named_queries.update()
                .where(named_queries.c.id == row.id)
                .values(**{k: v for k, v in changes.items() if isinstance(v, str)})
            )
        return {}

    def delete_named(self, principal: Principal, params: Params) -> Params:
        row = self._named(principal, params.get("NamedQueryId"))
        with self.catalog.writing("deleting a named query") as conn:
            conn.execute(named_queries.delete().where(named_queries.c.id == row.id))
        return {}
