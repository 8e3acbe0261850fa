"""Athena's query API over lakegate's gateway: StartQueryExecution runs a background query (the
HTTP API's ``Jobs``, so workgroups, grants, history and metrics apply unchanged), and
Get/Stop/BatchGet/ListQueryExecutions, GetQueryResults and GetQueryRuntimeStatistics read it
back, each principal only its own queries (admins: all).

Query execution ids are the history's ids written as UUIDs. A ClientRequestToken already used
by the principal answers the first query's id. Utility statements are answered from the catalog
at once and kept like any result; statements that write are recorded as FAILED
(``guard.not_read_only``), as Athena fails a query it may not run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from lakegate.auth.aws_keys import SIGNED_BY
from lakegate.auth.principals import Principal
from lakegate.errors import LakegateError, QueryError
from lakegate.query.gateway import Gateway
from lakegate.query.history import ACTIVE, QueryRecord
from lakegate.server.aws import athena_sql
from lakegate.server.aws.athena_meta import ENGINE, AthenaCatalog, bad_request, check_catalog, page_bounds
from lakegate.server.aws.athena_values import column_info, text_rows
from lakegate.server.aws.prepared import PreparedStatements, batch
from lakegate.server.jobs import Jobs

Params = dict[str, Any]
Answer = Callable[[], pa.Table]
MAX_QUERY_CHARS = 262_144
_USER = {"guard", "aws", "catalog"}  # error areas that are the caller's doing (ErrorCategory 2)
_ERROR_TYPES = {
    "query.timeout": 206, "query.memory": 0, "query.rows": 0, "query.bytes_limit": 1000,
    "query.node_lost": 100, "query.internal": 100, "query.engine_crashed": 200,
    "query.engine_unavailable": 200, "query.result_not_kept": 401,
}  # fmt: skip
_RETRYABLE = {"query.node_lost", "query.engine_unavailable", "query.result_not_kept", "query.too_many"}


def execution_id(query_id: str) -> str:
    """A history id as Athena writes ids (a UUID with dashes)."""
    try:
        return str(uuid.UUID(hex=query_id))
    except ValueError:
        return query_id


def history_id(execution: str) -> str:
    try:
        return uuid.UUID(execution).hex
    except ValueError:
        return execution


def athena_error(code: str | None, message: str | None) -> dict[str, Any]:
    area = (code or "").split(".")[0]
    category = 2 if area in _USER or code in ("query.failed", "query.bytes_limit", "query.rows") else 1
    return {
        "ErrorCategory": category,
        "ErrorType": _ERROR_TYPES.get(code or "", 1000 if category == 2 else 100),
        "Retryable": code in _RETRYABLE,
        "ErrorMessage": f"{code}: {message}" if code else (message or ""),
    }


def _ms(start: float | None, end: float | None) -> int:
    return 0 if start is None or end is None else max(0, round((end - start) * 1000))


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} is required", f"give {name} as a non-empty string")
    return value


class AthenaApi:
    def __init__(
        self, gateway: Gateway, jobs: Jobs, meta: AthenaCatalog, prepared: PreparedStatements
    ) -> None:
        self.gateway = gateway
        self.history = gateway.history
        self.jobs = jobs
        self.meta = meta
        self.prepared = prepared

    @property
    def operations(self) -> dict[str, Callable[[Principal, Params], Params]]:
        return {
            "StartQueryExecution": self.start, "GetQueryExecution": self.get,
            "BatchGetQueryExecution": self.batch_get, "ListQueryExecutions": self.list,
            "StopQueryExecution": self.stop, "GetQueryResults": self.results,
            "GetQueryRuntimeStatistics": self.runtime_statistics,
        }  # fmt: skip

    # -- starting -------------------------------------------------------------------------------

    def start(self, principal: Principal, params: Params) -> Params:
        sql = _required(params, "QueryString")
        if len(sql) > MAX_QUERY_CHARS:
            raise bad_request(f"QueryString is longer than {MAX_QUERY_CHARS} characters")
        token = params.get("ClientRequestToken")
        if token is not None and not (isinstance(token, str) and 1 <= len(token) <= 128):
            raise bad_request("ClientRequestToken is 1 to 128 characters")
        if token is not None:
            earlier = self.history.by_request_token(principal, token)
            if earlier is not None:
                return {"QueryExecutionId": execution_id(earlier.id)}
        context = params.get("QueryExecutionContext") or {}
        check_catalog(context.get("Catalog"))
        database = context.get("Database")
        group_name, group = self.meta.workgroup(principal, params.get("WorkGroup"))
        parameters = params.get("ExecutionParameters") or []
        if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
            raise bad_request("ExecutionParameters is a list of strings, each one SQL literal")
        reuse = (params.get("ResultReuseConfiguration") or {}).get("ResultReuseByAgeConfiguration") or {}
        reuse_minutes = reuse.get("MaxAgeInMinutes", 60) if reuse.get("Enabled") else None
        details = {
            "query": sql, "database": database, "workgroup": group_name, "parameters": parameters,
            "statement_type": athena_sql.statement_type(sql), "reuse_minutes": reuse_minutes,
        }  # fmt: skip
        try:
            query_id = self._start(principal, sql, details, token, group)
        except QueryError as exc:
            if exc.code != "query.repeated_request" or token is None:
                raise
            earlier = self.history.by_request_token(principal, token)
            assert earlier is not None
            query_id = earlier.id
        return {"QueryExecutionId": execution_id(query_id)}

    def _start(self, principal: Principal, sql: str, details: Params, token: str | None, group: Any) -> str:
        kind = athena_sql.kind(sql)
        parameters, database = details["parameters"], details["database"]
        if kind == "prepared":
            try:
                action = self.prepared.statement(principal, details["workgroup"], sql, parameters)
            except LakegateError as exc:  # recorded as the statement's failure, as any other
                return self._answer_now(principal, sql, details, token, _failing(exc))
            if action.run is None:
                return self._answer_now(principal, sql, details, token, action.answer)
            sql, parameters, kind = action.run, [], "query"
            details["statement_type"] = "DML"  # EXECUTE runs a query: its result is one
        if kind == "utility":
            return self._answer_now(
                principal, sql, details, token, lambda: self.meta.utility(principal, sql, database)
            )
        if kind == "write":
            return self._answer_now(principal, sql, details, token, _failing(athena_sql.refuse_write(sql)))
        try:
            text = athena_sql.qualify(athena_sql.bind(sql, parameters) if parameters else sql, database)
        except LakegateError as exc:
            return self._answer_now(principal, sql, details, token, _failing(exc))
        self._check_queue(group)
        reuse = details["reuse_minutes"]
        return self.jobs.submit(
            principal, text, None, "athena", reuse_seconds=None if reuse is None else reuse * 60,
            via="athena", request_token=token, athena=details, token_id=SIGNED_BY.get(),
        )  # fmt: skip

    def _check_queue(self, group: Any) -> None:
        """Raises: QueryError ``query.too_many`` when the workgroup's queue is full."""
        if group is None:
            return
        if self.history.active_in(group.name) >= group.max_concurrent + group.max_queued:
            raise QueryError(
                f"workgroup {group.name!r} runs {group.max_concurrent} queries at once and "
                f"{group.max_queued} are waiting already",
                code="query.too_many",
                hint="retry in a moment, or ask an admin for a larger workgroup",
            )

    def _answer_now(
        self, principal: Principal, sql: str, details: Params, token: str | None, answer: Answer
    ) -> str:
        """A statement answered here and now (from the catalog, or refused): recorded and kept."""
        began = time.monotonic()
        query_id = self.history.start(principal, sql, "athena", request_token=token, athena=details)
        self.gateway.meter.started()
        try:
            table = answer()
            self.jobs.keep(query_id, table)
        except LakegateError as exc:
            self.history.finish(query_id, error=exc)
            self.gateway.meter.finished("FAILED", "athena", time.monotonic() - began)
        else:
            self.history.finish(query_id, rows=table.num_rows)
            self.gateway.meter.finished("SUCCEEDED", "athena", time.monotonic() - began)
        return query_id

    # -- reading back ---------------------------------------------------------------------------

    def _record(self, principal: Principal, execution: Any) -> QueryRecord:
        if not isinstance(execution, str) or not execution:
            raise bad_request("QueryExecutionId is required")
        try:
            return self.history.get(principal, history_id(execution))
        except LakegateError:
            raise LakegateError(
                f"QueryExecution {execution} was not found",
                code="query.unknown",
                hint="ListQueryExecutions lists yours",
            ) from None

    def execution(self, record: QueryRecord) -> Params:
        a = record.athena or {}
        statement = a.get("statement_type", "DML")
        status: Params = {"State": record.state, "SubmissionDateTime": record.submitted_at}
        if record.finished_at is not None:
            status["CompletionDateTime"] = record.finished_at
        if record.state in ("FAILED", "CANCELLED") and record.error:
            status["StateChangeReason"] = record.error
        if record.state == "FAILED":
            status["AthenaError"] = athena_error(record.error_code, record.error)
        suffix = "csv" if statement == "DML" else "txt"
        output = f"{self.meta.settings.results_location}{execution_id(record.id)}.{suffix}"
        context = {"Catalog": "awsdatacatalog", **({"Database": a["database"]} if a.get("database") else {})}
        managed = self.meta.settings.manages(a.get("workgroup", "primary"))
        out: Params = {
            "QueryExecutionId": execution_id(record.id), "Query": a.get("query", record.sql),
            "StatementType": statement, "ResultConfiguration": {} if managed else {"OutputLocation": output},
            "ManagedQueryResultsConfiguration": {"Enabled": managed},
            "QueryExecutionContext": context, "Status": status, "Statistics": self._statistics(record),
            "WorkGroup": a.get("workgroup", "primary"), "EngineVersion": ENGINE,
        }  # fmt: skip
        if a.get("parameters"):
            out["ExecutionParameters"] = a["parameters"]
        if a.get("reuse_minutes") is not None:
            out["ResultReuseConfiguration"] = {
                "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": a["reuse_minutes"]}
            }
        return out

    @staticmethod
    def _statistics(record: QueryRecord) -> Params:
        return {
            "EngineExecutionTimeInMillis": _ms(record.started_at, record.finished_at),
            "DataScannedInBytes": record.bytes_scanned or 0,
            "TotalExecutionTimeInMillis": _ms(record.submitted_at, record.finished_at),
            "QueryQueueTimeInMillis": _ms(record.submitted_at, record.started_at or record.finished_at),
            "ServicePreProcessingTimeInMillis": 0, "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": record.reused},
        }  # fmt: skip

    def get(self, principal: Principal, params: Params) -> Params:
        return {"QueryExecution": self.execution(self._record(principal, params.get("QueryExecutionId")))}

    def batch_get(self, principal: Principal, params: Params) -> Params:
        found, missing = batch(
            params.get("QueryExecutionIds"),
            "QueryExecutionId",
            lambda i: self.execution(self._record(principal, i)),
        )
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def list(self, principal: Principal, params: Params) -> Params:
        offset, limit = page_bounds(params, 50)
        group_name, _group = self.meta.workgroup(principal, params.get("WorkGroup"))
        records = self.history.of(principal, limit=min(10_000, offset + limit + 1))
        if group_name != "primary":
            records = [r for r in records if r.workgroup == group_name]
        page = records[offset : offset + limit]
        out: Params = {"QueryExecutionIds": [execution_id(r.id) for r in page]}
        if len(records) > offset + limit:
            out["NextToken"] = f"o{offset + limit}"
        return out

    def stop(self, principal: Principal, params: Params) -> Params:
        record = self._record(principal, params.get("QueryExecutionId"))
        if record.state in ACTIVE:
            self.jobs.cancel(record.id)
        return {}

    def results(self, principal: Principal, params: Params) -> Params:
        record = self._record(principal, params.get("QueryExecutionId"))
        if record.state != "SUCCEEDED":
            shown = (
                "has not yet finished. Current state"
                if record.state in ACTIVE
                else "did not finish successfully. Final query state"
            )
            raise LakegateError(
                f"Query {shown}: {record.state}", code="query.no_result", hint=record.error or ""
            )
        offset, limit = page_bounds(params, 1000)
        table = self.jobs.result(record.id)
        header = offset == 0 and (record.athena or {}).get("statement_type", "DML") == "DML"
        page = table.slice(offset, limit - 1 if header else limit)
        rows = [{"Data": [{"VarCharValue": n} for n in table.schema.names]}] if header else []
        rows += [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in text_rows(page)]
        out: Params = {
            "UpdateCount": 0,
            "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": column_info(table.schema)}},
        }
        following = offset + page.num_rows
        if following < table.num_rows:
            out["NextToken"] = f"o{following}"
        return out

    def runtime_statistics(self, principal: Principal, params: Params) -> Params:
        record = self._record(principal, params.get("QueryExecutionId"))
        s = self._statistics(record)
        timeline = {k: s[k] for k in s if k.endswith("Millis")}
        rows = {"InputBytes": record.bytes_scanned or 0, "OutputRows": record.rows or 0}
        return {"QueryRuntimeStatistics": {"Timeline": timeline, "Rows": rows}}


def _failing(error: LakegateError) -> Callable[[], pa.Table]:
    """An answer that is ``error``: the statement is recorded as FAILED with it."""

    def fail() -> pa.Table:
        raise error

    return fail
