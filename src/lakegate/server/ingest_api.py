"""The ingest routes: uploads into landing (providers into their own prefix), and the
quarantine for admins — list, show, replay, purge."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Annotated, Any, BinaryIO, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from lakegate.auth.principals import Principal
from lakegate.catalog import Catalog
from lakegate.errors import AuthError
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.quarantine import Quarantine, describe
from lakegate.server.access_api import Id, admin
from lakegate.storage import ObjectStore


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


def ingest_routes(
    catalog: Catalog,
    store: ObjectStore,
    pipeline: Callable[[], Pipeline],
    who: Callable[[Request], Principal],
) -> APIRouter:
    """``pipeline`` gives the pipeline replays run through (the daemon's, with its datasets)."""
    router = APIRouter()
    quarantine = Quarantine(catalog, store)

    def admin_only(request: Request) -> Principal:
        return admin(who(request))

    allowed = [Depends(admin_only)]

    @router.post("/v1/upload/{path:path}")
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

    @router.get("/v1/quarantine", dependencies=allowed)
    def quarantine_list(
        reason: str | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
    ) -> dict[str, Any]:
        return {"objects": [describe(o) for o in quarantine.list(reason, limit=limit)]}

    @router.get("/v1/quarantine/{object_id}", dependencies=allowed)
    def quarantine_show(object_id: Id) -> dict[str, Any]:
        return describe(quarantine.get(object_id))

    @router.post("/v1/quarantine/{object_id}/replay", dependencies=allowed)
    def quarantine_replay(object_id: Id) -> dict[str, Any]:
        done = quarantine.replay(quarantine.get(object_id), pipeline())
        return {"replayed": done.state == "replayed", "object": describe(done)}

    @router.post("/v1/quarantine/{object_id}/purge", dependencies=allowed)
    def quarantine_purge(object_id: Id) -> dict[str, Any]:
        return {"purged": True, "object": describe(quarantine.purge(quarantine.get(object_id)))}

    return router
