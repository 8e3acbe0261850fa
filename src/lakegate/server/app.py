"""The HTTP API of `lakegate up --http-port`.

For now it serves the operations on quarantined objects, for the web console and scripts:

    GET  /v1/quarantine[?reason=CODE&limit=N]   quarantined objects, newest first
    GET  /v1/quarantine/{id}                    one, with its reason's details
    POST /v1/quarantine/{id}/replay             back to landing, taken again as a new delivery
    POST /v1/quarantine/{id}/purge              delete its quarantined copy for good
    POST /v1/query {"sql", "limit"}            a read-only query over what the token may read
    POST /v1/query/download {"sql", "format"}  its whole result streamed: csv, json, parquet, arrow
    POST /v1/queries {"sql", "params", "wait"} a query run in the background: its id and state
    POST /v1/queries/{id}/cancel                stop it
    GET  /v1/queries/{id}/results[?offset&limit|format=csv...]  its rows, a page or a file
    GET  /v1/queries[?principal=NAME&limit=N]   past queries: one's own (admins: everyone's)
    GET  /v1/queries/{id}                       one of them
    GET  /v1/databases, /v1/tables[?database=]  what the caller may read (columns it may see)
    GET  /v1/tables/{db}/{t}[/partitions|/versions|/files]  one table, its partitions, its schema
                                                versions (with readable changes), its files and
                                                the deliveries they came from
    PUT  /v1/tables/{db}/{t}/description       admins describe a table or a column
    POST /v1/upload/{path}                      a file into landing (providers: their prefix)
    GET  /v1/whoami                             the principal a token belongs to
    /v1/principals, /v1/tokens, /v1/grants, /v1/workgroups   who may read what (server/access_api.py)
    /v1/session, /v1/saved-queries, /v1/arrivals[/timeline]  for the console (server/console_api.py)
    GET  /                                      the web console (server/console.py)
    GET  /v1/health, /healthz                   liveness (no token)
    GET  /metrics                               Prometheus metrics (no token)

Every request but ``/v1/health`` carries a token (``Authorization: Bearer lg_...``) or the
console's session cookie (then a change also carries its ``X-CSRF-Token``); the
quarantine is for admins; queries see what the principal was granted (admins: everything).
Errors are JSON, ``{"error": {"code", "message", "hint"}}``, with the status a client expects
(401 no or a bad token, 403 not allowed, 404 unknown id, 409 a state conflict, 408 a query
past its time, 429 its workgroup's queue is full, 400 a query refused or failed). A principal's
workgroup sets its queries' timeout, rows, memory, bytes of files and how many run at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal, cast

import pydantic_core
from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principal, Principals
from lakegate.auth.sessions import COOKIE, CSRF_HEADER, Sessions
from lakegate.catalog import Catalog, TableInfo
from lakegate.catalog.lineage import table_files
from lakegate.config import HttpSettings
from lakegate.error_codes import http_status
from lakegate.errors import AuthError, LakegateError, QueryError
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.quarantine import Quarantine, describe
from lakegate.query.gateway import Gateway
from lakegate.query.history import History
from lakegate.query.liveness import AccessWatch
from lakegate.query.permissions import Access, Grants, filtered
from lakegate.query.results import json_rows
from lakegate.schema import describe_diff
from lakegate.server.access_api import Id, access_routes, admin
from lakegate.server.console import mount_console
from lakegate.server.console_api import console_routes
from lakegate.server.downloads import MEDIA, attachment, encode
from lakegate.server.jobs import Jobs
from lakegate.server.metrics import metrics_text
from lakegate.server.request_limits import BodyLimits
from lakegate.storage import ObjectStore


class RowsResponse(JSONResponse):
    """JSON rendered by pydantic-core in one pass: FastAPI's own encoder walks every value in
    Python (100,000 rows: ~2 s, against ~0.1 s). NaN and ±Infinity become null, as before."""

    def render(self, content: Any) -> bytes:
        return pydantic_core.to_json(content, inf_nan_mode="null")


class _Statement(BaseModel):
    """What every query request carries."""

    sql: str = Field(..., description="One read-only statement, DuckDB dialect.")
    params: list[Any] | None = Field(None, description="Values for its ? placeholders.")
    dialect: Literal["duckdb", "athena", "trino"] = Field(
        "duckdb", description="The SQL's dialect: duckdb, or athena/trino (translated with the same meaning)."
    )
    reuse_max_age_minutes: float | None = Field(
        None,
        gt=0,
        le=10_080,
        description="Answer with the kept result of an identical query over the same files, if it is at "
        "most this many minutes old (like Athena's result reuse); unset: always run.",
    )

    @property
    def reuse_seconds(self) -> float | None:
        return None if self.reuse_max_age_minutes is None else self.reuse_max_age_minutes * 60


class QueryRequest(_Statement):
    limit: int = Field(10_000, ge=0, le=1_000_000, description="At most this many rows in the answer.")


class SubmitRequest(_Statement):
    wait: float = Field(0.0, ge=0, le=300, description="Seconds to wait for it to finish before answering.")


class DownloadRequest(_Statement):
    format: Literal["csv", "json", "parquet", "arrow"] = Field(
        "csv", description="csv, json (one object per line), parquet or arrow (an IPC stream)."
    )


class DescriptionRequest(BaseModel):
    text: str = Field(..., description="The description; empty removes it.")
    column: str | None = Field(None, description="A column of the table; unset: the table itself.")


def _upload_key(principal: Principal, path: str) -> str:
    """Where an upload goes in landing.

    Raises: AuthError ``auth.forbidden`` for analysts, and for a provider outside its prefix.
    """
    clean = path.strip("/")
    if principal.is_admin:
        return f"landing/{clean}"
    prefix = (principal.landing_prefix or "").strip("/")
    if principal.role != "provider" or not prefix:
        raise AuthError(
            f"{principal.name} may not upload", code="auth.forbidden", hint="uploads are for providers"
        )
    if not (clean == prefix or clean.startswith(prefix + "/")) or ".." in clean.split("/"):
        raise AuthError(
            f"{principal.name} uploads into landing/{prefix}/ only, not landing/{clean}",
            code="auth.forbidden",
            hint=f"POST /v1/upload/{prefix}/<name>",
        )
    return f"landing/{clean}"


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _visible_diff(diff: dict[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
    """A schema diff without the columns the caller may not see."""
    return {
        "added": [n for n in diff.get("added", []) if n in shown],
        "widened": [w for w in diff.get("widened", []) if w.get("column") in shown],
        "removed": [n for n in diff.get("removed", []) if n in shown],
        "partition_keys_added": [k for k in diff.get("partition_keys_added", []) if k in shown],
    }


def _whole(info: TableInfo, access: Access) -> bool:
    """Whether ``access`` reads all of the table's rows, its partition keys, no column masked."""
    shown = access.columns
    unmasked = access.rows is None and all(v is None for v in shown.values())
    return unmasked and set(info.partition_keys) <= set(shown)


def authenticated(principals: Principals, sessions: Sessions | None = None) -> Callable[[Request], Principal]:
    """A dependency: the principal of the request's bearer token, or of its console session
    cookie — whose requests that change anything must also carry the session's CSRF token.

    Raises: AuthError ``auth.invalid`` (401) without a valid token or session, ``auth.csrf``
    (403) for a change by cookie without the CSRF token.
    """

    def who(request: Request) -> Principal:
        header = request.headers.get("authorization")
        cookie = request.cookies.get(COOKIE)
        if header is None and cookie and sessions is not None:
            session = sessions.get(cookie)
            if request.method not in _SAFE_METHODS:
                sessions.check_csrf(session, request.headers.get(CSRF_HEADER))
            request.state.token_id = session.token_id
            return session.principal
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                "this needs a token",
                hint="send `Authorization: Bearer <token>`; `lakegate tokens create NAME` makes one",
            )
        principal = principals.authenticate(token)
        request.state.token_id = token_format.token_id(token.strip())  # work it begins is watched
        return principal

    return who


def make_app(
    catalog: Catalog,
    store: ObjectStore,
    pipeline: Callable[[], Pipeline],
    gateway: Gateway | None = None,
    *,
    ingest_counts: Callable[[], dict[str, int]] | None = None,
    results: Path | None = None,
    http: HttpSettings | None = None,
) -> FastAPI:
    """``pipeline`` gives the pipeline replays run through (the daemon's, with its datasets);
    ``gateway`` runs queries, when this server serves them (the daemon's, shared with the
    PostgreSQL front end: one workgroup turn, one meter)."""
    app = FastAPI(title="lakegate", version="1")
    quarantine = Quarantine(catalog, store)
    people = Principals(catalog)
    sessions = Sessions(people)
    who = authenticated(people, sessions)
    http = http or HttpSettings()
    app.add_middleware(
        BodyLimits,
        who=who,
        max_body_bytes=http.max_body_kb * 1024,
        max_upload_bytes=http.max_upload_mb * 1024**2,
    )
    grants = Grants(catalog)
    history = History(catalog)
    jobs = None
    runner = gateway
    watch = AccessWatch(people, grants)  # background queries and downloads stop when access ends
    if gateway is not None:
        folder = results or Path(tempfile.mkdtemp(prefix="lakegate-results-"))
        jobs = Jobs(gateway, folder=folder, watch=watch)
    app.state.jobs = jobs  # for the daemon to cancel what still runs when it stops

    def admin_only(request: Request) -> Principal:
        return admin(who(request))

    allowed = [Depends(admin_only)]
    app.include_router(access_routes(catalog, who))

    def whole_tables(principal: Principal) -> list[tuple[str, str]]:
        """The tables ``principal`` reads without row or column filters: their deliveries (rows,
        partitions) may be shown to it."""
        out = []
        for t in catalog.tables():
            access = visible(principal, t.database, t)
            if access is not None and _whole(t, access):
                out.append((t.database, t.name))
        return out

    app.include_router(console_routes(catalog, sessions, who, whole_tables))
    mount_console(app)

    @app.exception_handler(LakegateError)
    async def lakegate_error(_request: Request, exc: LakegateError) -> JSONResponse:
        status = http_status(exc.code, transient=exc.transient)
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        if exc.details.get("line"):  # where in the statement (a syntax error)
            body["position"] = {"line": exc.details["line"], "column": exc.details.get("column")}
        headers = {"WWW-Authenticate": 'Bearer realm="lakegate"'} if status == 401 else None
        return JSONResponse({"error": body}, status_code=status, headers=headers)

    def queries() -> Gateway:
        if runner is None:
            raise LakegateError("this server does not run queries", code="http.no_queries")
        return runner

    @app.post("/v1/query", response_model=dict[str, Any])
    def query(body: QueryRequest, principal: Principal = Depends(who)) -> Response:  # noqa: B008
        """Run one read-only statement as the token's principal, over what it was granted."""
        query_id, result, queued = queries().run(
            principal, body.sql, body.params, dialect=body.dialect, reuse_seconds=body.reuse_seconds
        )
        table = result.table
        shown = table.slice(0, body.limit)
        return RowsResponse({
            "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
            "rows": json_rows(shown),
            "row_count": table.num_rows,
            "truncated": table.num_rows > body.limit,
            "elapsed_ms": round(result.elapsed_ms, 1),
            "queued_ms": round(queued * 1000, 1),
            "bytes_scanned": result.bytes_scanned,
            "bytes_estimated": result.bytes_estimated,
            "reused": result.reused,
            "query_id": query_id,
        })  # fmt: skip

    @app.post("/v1/query/download")
    def query_download(
        body: DownloadRequest,
        request: Request,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> StreamingResponse:
        """Run a query as the token's principal and stream its whole result as a file (CSV,
        NDJSON, Parquet or Arrow IPC), batch by batch; a client that goes away stops the query,
        and so does the end of the principal's access."""
        run = queries().stream(
            principal, body.sql, body.params, dialect=body.dialect, reuse_seconds=body.reuse_seconds
        )
        run.schema  # noqa: B018 - a query that fails before its first row answers with its error
        ended = QueryError(
            "the query was stopped: its principal's access ended or changed", code="query.cancelled"
        )
        held = watch.hold(principal, getattr(request.state, "token_id", None), lambda: run.finish(ended))

        def pieces() -> Iterator[bytes]:
            try:
                # an error once rows are sent cuts the transfer; the history says why
                yield from encode(body.format, run.schema, run)
            except GeneratorExit:  # the client went away: the query stops
                run.finish(QueryError("the client stopped reading the result", code="query.cancelled"))
                raise
            finally:
                watch.release(held)
                run.finish()

        return StreamingResponse(
            pieces(), media_type=MEDIA[body.format],
            headers={**attachment(run.id, body.format), "X-Lakegate-Query": run.id},
        )  # fmt: skip

    def job_runner() -> Jobs:
        if jobs is None:
            raise LakegateError("this server does not run queries", code="http.no_queries")
        return jobs

    @app.post("/v1/queries", status_code=202)
    def query_submit(
        body: SubmitRequest,
        request: Request,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """Start a query in the background (its id; poll GET /v1/queries/{id}). With ``wait``,
        answer once it is done or that many seconds have passed. It is cancelled when the
        principal's access ends (its token revoked, its user disabled) before it is done."""
        runner = job_runner()
        query_id = runner.submit(
            principal, body.sql, body.params, body.dialect, reuse_seconds=body.reuse_seconds,
            token_id=getattr(request.state, "token_id", None),
        )  # fmt: skip
        if body.wait:
            runner.wait(query_id, body.wait)
        return history.get(principal, query_id).as_dict()

    @app.post("/v1/queries/{query_id}/cancel")
    def query_cancel(query_id: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        history.get(principal, query_id)  # the caller's own (an admin's: any)
        job_runner().cancel(query_id)
        return history.get(principal, query_id).as_dict()

    @app.get("/v1/queries/{query_id}/results", response_model=dict[str, Any])
    def query_results(
        query_id: str,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
        format: Literal["page", "csv", "json", "parquet", "arrow"] = "page",
        principal: Principal = Depends(who),  # noqa: B008
    ) -> Response:
        """A page of a finished query's rows (JSON), or its whole result as a file."""
        record = history.get(principal, query_id)
        table = job_runner().result(record.id)
        if format != "page":
            return StreamingResponse(
                encode(format, table.schema, table.to_batches(max_chunksize=65536)), media_type=MEDIA[format],
                headers=attachment(record.id, format),
            )  # fmt: skip
        start = offset
        page = table.slice(start, limit)
        following = start + page.num_rows
        return RowsResponse({
            "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
            "rows": json_rows(page),
            "offset": start,
            "row_count": table.num_rows,
            "next_offset": following if following < table.num_rows else None,
        })  # fmt: skip

    @app.get("/v1/queries")
    def query_history(
        principal: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
        viewer: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """Past queries, newest first: the caller's own (an admin's: everyone's, or ``principal``'s)."""
        return {"queries": [q.as_dict() for q in history.of(viewer, principal=principal, limit=limit)]}

    @app.get("/v1/queries/{query_id}")
    def query_show(query_id: str, viewer: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        return history.get(viewer, query_id).as_dict()

    def visible(principal: Principal, database: str, table: TableInfo) -> Access | None:
        """How ``principal`` reads ``table`` (``None``: not at all)."""
        names = [c.name for c in table.columns] + list(table.partition_keys)
        access = grants.access_for(principal)
        if access is None:
            return Access(dict.fromkeys(names), None)
        return access(database, table.name, names)

    def readable(principal: Principal, database: str, name: str) -> tuple[TableInfo, Access]:
        """Raises: LakegateError ``catalog.unknown_table`` (404), the same for a table not granted."""
        info = catalog.table(database, name)
        access = visible(principal, database, info) if info is not None else None
        if info is None or access is None:
            raise LakegateError(
                f"unknown table {database}.{name!r}",
                code="catalog.unknown_table",
                hint="GET /v1/tables lists yours",
            )
        return info, access

    def table_json(info: TableInfo, access: Access, notes: dict[str, str]) -> dict[str, Any]:
        shown = access.columns
        return {
            "database": info.database,
            "name": info.name,
            "description": notes.get(""),
            "schema_version": info.schema_version,
            "columns": [
                {"name": c.name, "type": c.type, "original": c.original, "since": c.added_in,
                 "description": notes.get(c.name), "filtered": shown[c.name] is not None}
                for c in info.columns
                if c.name in shown
            ]
            + [
                {"name": k, "type": "VARCHAR", "original": k, "partition": True, "description": notes.get(k)}
                for k in info.partition_keys
                if k in shown
            ],
            # counted over rows a filter hides, they would say what it hides: not shown then
            **dict.fromkeys(("files", "rows", "bytes")),
            **({} if filtered(access) else
               {"files": info.file_count, "rows": info.row_count, "bytes": info.total_bytes}),
        }  # fmt: skip

    @app.get("/v1/tables")
    def table_list(database: str | None = None, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        """The tables the caller may read, with their visible columns."""
        out = []
        for info in catalog.tables(database):
            shown = visible(principal, info.database, info)
            if shown is not None:
                out.append(table_json(info, shown, catalog.descriptions(info.database, info.name)))
        return {"tables": out}

    @app.get("/v1/databases")
    def database_list(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        # only whether each table is visible: no JSON of its columns, no read of its descriptions
        names = sorted(
            {t.database for t in catalog.tables() if visible(principal, t.database, t) is not None}
        )
        return {"databases": names}

    @app.get("/v1/tables/{database}/{name}")
    def table_show(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        info, shown = readable(principal, database, name)
        return table_json(info, shown, catalog.descriptions(database, name))

    def unfiltered(principal: Principal, database: str, name: str, what: str) -> None:
        """Raises: LakegateError ``auth.forbidden`` to a principal with row or column filters on
        the table: its partition values and row counts would say what it may not see."""
        info, access = readable(principal, database, name)
        if not _whole(info, access):
            raise LakegateError(
                f"the {what} of {database}.{name} are not shown to principals with row or column filters",
                code="auth.forbidden",
                hint="query the table instead",
            )

    @app.get("/v1/tables/{database}/{name}/partitions")
    def table_partitions(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        unfiltered(principal, database, name, "partitions")
        return {
            "partitions": [
                {"path": p.path, "values": p.values, "files": p.file_count, "rows": p.row_count,
                 "bytes": p.total_bytes}
                for p in catalog.partitions(database, name)
            ]
        }  # fmt: skip

    @app.get("/v1/tables/{database}/{name}/files")
    def table_file_list(
        database: str,
        name: str,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """The table's files, newest first, each with the delivery it came from (key, landing
        time, dataset rule) — its lineage."""
        unfiltered(principal, database, name, "files")
        return {"files": table_files(catalog, database, name, limit=limit)}

    @app.get("/v1/tables/{database}/{name}/versions")
    def table_versions(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        _info, access = readable(principal, database, name)
        shown = access.columns
        hidden_files = filtered(access)  # the file behind a version may hold only hidden rows
        out = []
        for v in catalog.versions(database, name):
            out.append({
                "version": v.version, "created_at": v.created_at,
                "columns": [{"name": c.name, "type": c.type} for c in v.columns if c.name in shown],
                "partition_keys": [k for k in v.partition_keys if k in shown],
                "changes": describe_diff(_visible_diff(v.diff, shown), {c.name: c.type for c in v.columns}),
                "cause": None if hidden_files else v.cause,
            })  # fmt: skip
        return {"versions": out}

    @app.put("/v1/tables/{database}/{name}/description")
    def table_describe(
        database: str,
        name: str,
        body: DescriptionRequest,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        admin(principal)
        catalog.describe_table(database, name, body.text, column=body.column or "", by=principal.name)
        return {"described": True}

    @app.post("/v1/upload/{path:path}")
    async def upload(path: str, request: Request, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        """Put a file into landing, streamed: providers into their own prefix, admins anywhere."""
        key = _upload_key(principal, path)
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024**2)  # noqa: SIM115 - closed below
        try:
            async for chunk in request.stream():
                spool.write(chunk)
            spool.seek(0)
            info = await run_in_threadpool(store.write, key, cast(BinaryIO, spool))
        finally:
            spool.close()
        return {"key": key, "size": info.size}

    @app.get("/v1/whoami")
    def whoami(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        return {
            "name": principal.name,
            "kind": principal.kind,
            "role": principal.role,
            "workgroup": principal.workgroup,
        }

    @app.get("/v1/health")
    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus() -> str:
        """Prometheus metrics: ingest outcomes, queries by state and their durations."""
        return metrics_text(ingest_counts, runner.meter if runner else None)

    @app.get("/v1/quarantine", dependencies=allowed)
    def quarantine_list(
        reason: str | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
    ) -> dict[str, Any]:
        return {"objects": [describe(o) for o in quarantine.list(reason, limit=limit)]}

    @app.get("/v1/quarantine/{object_id}", dependencies=allowed)
    def quarantine_show(object_id: Id) -> dict[str, Any]:
        return describe(quarantine.get(object_id))

    @app.post("/v1/quarantine/{object_id}/replay", dependencies=allowed)
    def quarantine_replay(object_id: Id) -> dict[str, Any]:
        done = quarantine.replay(quarantine.get(object_id), pipeline())
        return {"replayed": done.state == "replayed", "object": describe(done)}

    @app.post("/v1/quarantine/{object_id}/purge", dependencies=allowed)
    def quarantine_purge(object_id: Id) -> dict[str, Any]:
        return {"purged": True, "object": describe(quarantine.purge(quarantine.get(object_id)))}

    return app
