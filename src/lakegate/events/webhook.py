"""``POST /v1/events/s3``: S3 event notifications over HTTP (`lakegate up --events-port`).

Events make ingest fast; the reconciler keeps it complete. So this endpoint never does work
itself: it tells the ingest service which keys to look at and answers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lakegate.events.s3_notifications import BadEvent, LandingFilter, parse

logger = logging.getLogger(__name__)


def make_app(bucket: str, prefix: str, notify: Callable[[str], None]) -> FastAPI:
    """The FastAPI app; ``notify`` receives store keys (the bucket prefix removed)."""
    app = FastAPI(title="lakegate events", version="1")
    landing = LandingFilter(bucket, prefix)

    @app.post("/v1/events/s3")
    async def s3_events(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            created = parse(body)
        except BadEvent as exc:
            return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=400)
        keys, ignored = landing.keys(created)
        for key in keys:
            notify(key)
        return JSONResponse({"accepted": len(keys), "ignored": ignored})

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
