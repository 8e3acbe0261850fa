"""The HTTP API of `lakegate up --http-port`.

Its routes, each group in a module of its own (``query_api``, ``catalog_api``, ``ingest_api``,
``access_api``, ``console_api``, ``node_api``):

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
    GET  /v1/health, /healthz                   liveness (no token); this node and the live nodes
    GET  /v1/nodes                              the node registry (admins)
    GET  /metrics                               Prometheus metrics (a token with http.metrics: token)

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from lakegate.auth.aws_keys import AwsKeys
from lakegate.auth.principals import Principal, Principals
from lakegate.auth.sessions import Sessions
from lakegate.catalog import Catalog
from lakegate.cluster.heartbeat import Heartbeat
from lakegate.config import HttpSettings
from lakegate.error_codes import http_status
from lakegate.errors import LakegateError
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.gateway import Gateway
from lakegate.query.history import History
from lakegate.query.liveness import AccessWatch
from lakegate.query.permissions import Grants
from lakegate.server.access_api import access_routes
from lakegate.server.api_docs import mount_api_docs
from lakegate.server.catalog_api import Visibility, catalog_routes
from lakegate.server.console import mount_console
from lakegate.server.console_api import console_routes
from lakegate.server.identity import authenticated
from lakegate.server.ingest_api import ingest_routes
from lakegate.server.jobs import Jobs
from lakegate.server.node_api import node_routes
from lakegate.server.query_api import query_routes
from lakegate.server.request_limits import BodyLimits
from lakegate.storage import ObjectStore

__all__ = ["make_app"]


def make_app(
    catalog: Catalog,
    store: ObjectStore,
    pipeline: Callable[[], Pipeline],
    gateway: Gateway | None = None,
    *,
    ingest_counts: Callable[[], dict[str, int]] | None = None,
    results: Path | None = None,
    shared_results: ObjectStore | None = None,
    http: HttpSettings | None = None,
    cluster: Heartbeat | None = None,
    jobs: Jobs | None = None,
    aws_keys: Callable[[], AwsKeys] | None = None,
) -> FastAPI:
    """``pipeline`` gives the pipeline replays run through (the daemon's, with its datasets);
    ``gateway`` runs queries, when this server serves them (the daemon's, shared with the
    PostgreSQL front end: one workgroup turn, one meter). ``shared_results``: where background
    queries' results are shared with the other nodes; ``cluster``: this node's heartbeat (its
    name in health and metrics, the node list); ``jobs``: the background queries, when another
    front end (the AWS endpoint) shares them; ``aws_keys``: where AWS keys are made."""
    app = FastAPI(title="lakegate", version="1", docs_url=None, redoc_url=None)  # /docs: api_docs.py
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
    watch = AccessWatch(people, Grants(catalog))  # background queries and downloads stop when access ends
    if jobs is None and gateway is not None:
        folder = results or Path(tempfile.mkdtemp(prefix="lakegate-results-"))
        jobs = Jobs(gateway, folder=folder, watch=watch, shared=shared_results)
    app.state.jobs = jobs  # for the daemon to cancel what still runs when it stops
    seen = Visibility(catalog)

    @app.exception_handler(LakegateError)
    async def lakegate_error(_request: Request, exc: LakegateError) -> JSONResponse:
        status = http_status(exc.code, transient=exc.transient)
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        if exc.details.get("position"):  # where in the statement (a name it did not know)
            body["position"] = exc.details["position"]
        elif exc.details.get("line"):  # where in the statement (a syntax error)
            body["position"] = {"line": exc.details["line"], "column": exc.details.get("column")}
        headers = {"WWW-Authenticate": 'Bearer realm="lakegate"'} if status == 401 else None
        return JSONResponse({"error": body}, status_code=status, headers=headers)

    app.include_router(access_routes(catalog, who, aws_keys))
    app.include_router(console_routes(catalog, sessions, who, seen.whole_tables))
    mount_console(app)
    mount_api_docs(app)
    history = gateway.history if gateway else History(catalog)
    app.include_router(query_routes(gateway, jobs, watch, history, who))
    app.include_router(catalog_routes(catalog, seen, who))
    app.include_router(ingest_routes(catalog, store, pipeline, who))

    @app.get("/v1/whoami")
    def whoami(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        return {
            "name": principal.name,
            "kind": principal.kind,
            "role": principal.role,
            "workgroup": principal.workgroup,
        }

    meter = gateway.meter if gateway else None
    app.include_router(node_routes(cluster, ingest_counts, meter, who, metrics_open=http.metrics == "open"))

    return app
