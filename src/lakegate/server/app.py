"""The HTTP API of `lakegate up --http-port`.

For now it serves the operations on quarantined objects, for the web console and scripts:

    GET  /v1/quarantine[?reason=CODE&limit=N]   quarantined objects, newest first
    GET  /v1/quarantine/{id}                    one, with its reason's details
    POST /v1/quarantine/{id}/replay             back to landing, taken again as a new delivery
    POST /v1/quarantine/{id}/purge              delete its quarantined copy for good
    GET  /v1/health

Errors are JSON, ``{"error": {"code", "message", "hint"}}``, with the status a client expects
(404 unknown id, 409 a state conflict, 403 refused). Until principals and tokens exist, these
operations answer clients on the loopback interface only: anyone who can reach the port could
otherwise purge delivered data.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from lakegate.catalog import Catalog
from lakegate.errors import LakegateError
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.quarantine import Quarantine, describe
from lakegate.storage import ObjectStore

_STATUS = {
    "quarantine.unknown": 404,
    "quarantine.busy": 409,
    "quarantine.purged": 409,
    "catalog.state_conflict": 409,
    "http.forbidden": 403,
}


class Forbidden(LakegateError):
    code = "http.forbidden"


def loopback_only(request: Request) -> None:
    """Raises: Forbidden for a client that is not on this machine."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host in ("localhost", "testclient")
    if not local:
        raise Forbidden(
            f"quarantine operations answer clients on this machine only, not {host}",
            hint="run them on the lakegate host, or with `lakegate quarantine ...` there",
        )


def make_app(
    catalog: Catalog,
    store: ObjectStore,
    pipeline: Callable[[], Pipeline],
    authorize: Callable[[Request], None] = loopback_only,
) -> FastAPI:
    """``pipeline`` gives the pipeline replays run through (the daemon's, with its datasets)."""
    app = FastAPI(title="lakegate", version="1")
    quarantine = Quarantine(catalog, store)
    allowed = [Depends(authorize)]

    @app.exception_handler(LakegateError)
    async def lakegate_error(_request: Request, exc: LakegateError) -> JSONResponse:
        status = _STATUS.get(exc.code, 503 if exc.transient else 400)
        body = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        return JSONResponse({"error": body}, status_code=status)

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/quarantine", dependencies=allowed)
    def quarantine_list(reason: str | None = None, limit: int = 1000) -> dict[str, Any]:
        return {"objects": [describe(o) for o in quarantine.list(reason, limit=min(max(limit, 1), 10_000))]}

    @app.get("/v1/quarantine/{object_id}", dependencies=allowed)
    def quarantine_show(object_id: int) -> dict[str, Any]:
        return describe(quarantine.get(object_id))

    @app.post("/v1/quarantine/{object_id}/replay", dependencies=allowed)
    def quarantine_replay(object_id: int) -> dict[str, Any]:
        done = quarantine.replay(quarantine.get(object_id), pipeline())
        return {"replayed": done.state == "replayed", "object": describe(done)}

    @app.post("/v1/quarantine/{object_id}/purge", dependencies=allowed)
    def quarantine_purge(object_id: int) -> dict[str, Any]:
        return {"purged": True, "object": describe(quarantine.purge(quarantine.get(object_id)))}

    return app
