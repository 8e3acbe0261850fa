"""The HTTP routes the web console needs beyond the query and catalog API:

    POST   /v1/session {"token"}        sign in: an HTTP-only SameSite cookie, and the CSRF token
    GET    /v1/session                  who is signed in (if anyone), and the CSRF token again
    DELETE /v1/session                  sign out
    GET    /v1/saved-queries            the caller's saved queries
    POST   /v1/saved-queries {"name", "sql", "dialect"}   keep one (the same name replaces it)
    DELETE /v1/saved-queries/{id}       forget one
    GET    /v1/arrivals[?after=ID|since=T]  recent arrivals and what became of them
    GET    /v1/arrivals/timeline        accepted/quarantined per minute and arrival-to-query latency

Arrivals are everything for admins, what came in under its landing prefix for a provider, and
for an analyst the accepted deliveries of the tables it reads whole — no row filter, no masked
column, since a delivery's rows and partition would tell what those hide — and never a
quarantined one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from lakegate.auth.principals import Principal
from lakegate.auth.sessions import COOKIE, CSRF_HEADER, Session, Sessions
from lakegate.catalog import Catalog
from lakegate.errors import AuthError
from lakegate.ingest import activity
from lakegate.query.saved import SavedQueries
from lakegate.server.access_api import Id


class SignIn(BaseModel):
    token: str = Field(..., max_length=512, description="An API token (`lg_...`).")


class SaveRequest(BaseModel):
    name: str = Field(..., min_length=1, max_length=255)
    sql: str = Field(..., min_length=1, max_length=1_000_000)
    dialect: Literal["duckdb", "athena", "trino"] = "duckdb"


def _signed_in(session: Session) -> dict[str, Any]:
    p = session.principal
    return {
        "principal": {
            "name": p.name, "kind": p.kind, "role": p.role, "workgroup": p.workgroup,
            "landing_prefix": p.landing_prefix,
        },
        "csrf": session.csrf,
        "expires_at": session.expires_at,
    }  # fmt: skip


# long: a route factory (FastAPI): one short route per console need, sharing its dependencies
def console_routes(
    catalog: Catalog,
    sessions: Sessions,
    who: Callable[[Request], Principal],
    whole_tables: Callable[[Principal], list[tuple[str, str]]],
) -> APIRouter:
    """``whole_tables`` gives the (database, table) pairs a principal reads without filters."""
    router = APIRouter(prefix="/v1")
    saved = SavedQueries(catalog)

    def current(request: Request) -> tuple[str, Session]:
        secret = request.cookies.get(COOKIE)
        if not secret:
            raise AuthError("not signed in", hint="POST /v1/session with a token")
        return secret, sessions.get(secret)

    @router.post("/session")
    def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, Any]:
        """Sign in with a token: sets the session cookie (HTTP-only, SameSite=Strict)."""
        secret, session = sessions.open(body.token)
        response.set_cookie(
            COOKIE, secret, max_age=int(sessions.lifetime), httponly=True, samesite="strict", path="/",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        response.headers["Cache-Control"] = "no-store"
        return _signed_in(session)

    @router.get("/session")
    def session_show(request: Request, response: Response) -> dict[str, Any]:
        """Who is signed in (``principal`` null when no one is: the page then asks for a token)."""
        response.headers["Cache-Control"] = "no-store"
        try:
            _secret, session = current(request)
        except AuthError:
            return {"principal": None, "csrf": None, "expires_at": None}
        return _signed_in(session)

    @router.delete("/session")
    def sign_out(request: Request, response: Response) -> dict[str, Any]:
        secret, session = current(request)
        sessions.check_csrf(session, request.headers.get(CSRF_HEADER))
        sessions.close(secret)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return {"signed_out": True}

    @router.get("/saved-queries")
    def saved_list(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        return {"saved": [q.as_dict() for q in saved.of(principal.name)]}

    @router.post("/saved-queries", status_code=201)
    def saved_add(body: SaveRequest, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        return saved.save(principal.name, body.name, body.sql, body.dialect).as_dict()

    @router.delete("/saved-queries/{saved_id}")
    def saved_delete(saved_id: Id, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        saved.delete(principal.name, saved_id)
        return {"deleted": True}

    def scope(principal: Principal) -> dict[str, Any]:
        if principal.is_admin:
            return {}
        if principal.role == "provider":
            return {"prefix": principal.landing_prefix or "", "tables": None}
        return {"tables": whole_tables(principal)}

    @router.get("/arrivals")
    def arrival_list(
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        since: Annotated[float | None, Query(ge=0, le=1e11)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """Recent arrivals, newest first (``after``: only newer ids; ``since``: only those whose
        state changed after that time, for polling)."""
        if since is not None:
            found = activity.changed_since(catalog, since, limit=limit, **scope(principal))
        else:
            found = activity.arrivals(catalog, after=after, limit=limit, **scope(principal))
        return {"arrivals": found}

    @router.get("/arrivals/timeline")
    def arrival_timeline(
        window: Annotated[float, Query(ge=60, le=7 * 86400)] = 3600,
        bucket: Annotated[float, Query(ge=1, le=86400)] = 60,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """Per ``bucket`` seconds over the last ``window``: accepted, quarantined, bytes, latency."""
        bucket = max(bucket, window / 1440)  # at most 1440 buckets
        return {
            "bucket_seconds": bucket,
            "buckets": activity.timeline(catalog, window=window, bucket=bucket, **scope(principal)),
        }

    return router
