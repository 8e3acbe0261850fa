"""Who may use lakegate, over HTTP: principals, their tokens, grants and workgroups.

    GET   /v1/principals                       every principal (admins)
    POST  /v1/principals                       add one (admins)
    GET   /v1/principals/{name}                one (admins; anyone: itself)
    PATCH /v1/principals/{name}                change its role, workgroup, prefix, or disable it (admins)
    POST  /v1/principals/{name}/tokens         a new token, shown only in this answer
                                               (admins; anyone: for itself)
    GET   /v1/tokens[?principal=NAME]          tokens by id, never the secret (anyone: its own)
    POST  /v1/tokens/{id}/revoke               end a token (admins; anyone: its own)
    GET   /v1/grants, POST /v1/grants          what principals and workgroups may read (admins)
    DELETE /v1/grants/{id}                     take a grant back (admins)
    GET   /v1/workgroups, PUT /v1/workgroups/{name}   workgroups and their limits (admins)

The same operations as ``lakegate users|tokens|grants|workgroups``, on the same catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from lakegate.auth.aws_keys import AwsKeys
from lakegate.auth.principals import Principal, Principals, TokenInfo
from lakegate.auth.workgroups import Workgroup, Workgroups
from lakegate.catalog import Catalog
from lakegate.config import parse_duration
from lakegate.errors import AuthError, ConfigError
from lakegate.query.permissions import Grant, Grants

Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="A record's id.")]
"""A numeric id in a path: a catalog integer (a larger one is refused, not overflowed)."""


class PrincipalRequest(BaseModel):
    name: str = Field(..., description="Letters, digits and _ . @ - (up to 63 characters).")
    role: Literal["admin", "analyst", "provider"] = "analyst"
    kind: Literal["user", "service"] = Field(
        "user", description="user, or service (an account for a program)."
    )
    workgroup: str | None = Field(None, description="Its workgroup (its limits, and the grants to it).")
    landing_prefix: str | None = Field(None, description="Where a provider may upload, e.g. acme/in.")
    description: str = ""


class PrincipalChange(BaseModel):
    role: Literal["admin", "analyst", "provider"] | None = None
    kind: Literal["user", "service"] | None = None
    workgroup: str | None = None
    landing_prefix: str | None = None
    description: str | None = None
    disabled: bool | None = Field(None, description="true stops its tokens at once; false lets it in again.")


class TokenRequest(BaseModel):
    expires: str | None = Field(None, description="Lifetime, e.g. 90d or 12h; unset: until revoked.")
    note: str = Field("", description="What the token is for.")
    aws: bool = Field(
        False, description="An AWS access key (id and secret) for the AWS endpoint, instead of a token."
    )


class GrantRequest(BaseModel):
    database: str
    table: str = Field("*", description="One table, or * for every table of the database (also later ones).")
    principal: str | None = Field(None, description="The principal; or give workgroup.")
    workgroup: str | None = Field(None, description="Every principal of this workgroup; or give principal.")
    columns: list[str] | None = Field(None, description="Only these columns (with exclude: all but these).")
    exclude: bool = False
    row_filter: str | None = Field(
        None, description="Only rows where this SQL predicate holds: region = 'EU'."
    )


class WorkgroupRequest(BaseModel):
    timeout_seconds: float | None = Field(None, gt=0, le=2**62, description="Query timeout (default 1800).")
    max_bytes_scanned: int | None = Field(
        None, ge=0, le=2**62, description="Most bytes of files one query may read."
    )
    max_rows: int | None = Field(None, ge=0, le=2**62, description="Most rows one query may return.")
    max_concurrent: int | None = Field(
        None, ge=1, le=2**62, description="Queries running at once (default 4)."
    )
    max_queued: int | None = Field(
        None, ge=0, le=2**62, description="Queries waiting for a turn (default 16)."
    )
    memory_limit: str | None = Field(None, description="Memory per query, e.g. 2GB.")
    engine: Literal["duckdb", "spark", "auto"] | None = Field(
        None, description="Where its queries run: duckdb (default), spark, or auto (Spark for large reads)."
    )
    description: str | None = None


def principal_json(p: Principal) -> dict[str, Any]:
    return {
        "name": p.name, "kind": p.kind, "role": p.role, "workgroup": p.workgroup,
        "landing_prefix": p.landing_prefix, "description": p.description, "declared": p.declared,
        "created_at": p.created_at, "disabled_at": p.disabled_at,
        "state": "disabled" if p.disabled_at is not None else "active",
    }  # fmt: skip


def token_json(info: TokenInfo) -> dict[str, Any]:
    return {**asdict(info), "state": info.state()}


def grant_json(g: Grant) -> dict[str, Any]:
    return {**asdict(g), "columns": list(g.columns) if g.columns is not None else None, "reads": g.describe()}


def workgroup_json(w: Workgroup) -> dict[str, Any]:
    return asdict(w)


def admin(who: Principal) -> Principal:
    """Raises: AuthError ``auth.forbidden`` (403) for anyone but an admin."""
    if not who.is_admin:
        raise AuthError(
            f"{who.name} may not do this: it is for admins",
            code="auth.forbidden",
            hint="ask an admin, or use an admin's token",
        )
    return who


def _self_or_admin(who: Principal, name: str) -> None:
    if not who.is_admin and who.name != name:
        raise AuthError(f"{who.name} may do this for itself only", code="auth.forbidden", hint="ask an admin")


def access_routes(
    catalog: Catalog, who: Callable[[Request], Principal], aws_keys: Callable[[], AwsKeys] | None = None
) -> APIRouter:
    """The routes; ``who`` is the dependency giving the request's principal; ``aws_keys``: where
    AWS keys are made (None: this server makes none)."""
    router = APIRouter()
    router.include_router(identity_routes(catalog, who, aws_keys))
    router.include_router(permission_routes(catalog, who))
    return router


def _new_token(
    people: Principals, name: str, body: TokenRequest, aws_keys: Callable[[], AwsKeys] | None
) -> dict[str, Any]:
    """A token for ``name``, or an AWS key (``body.aws``): with its secret, shown this once."""
    try:
        lifetime = parse_duration(body.expires) if body.expires else None
    except ValueError as exc:
        raise ConfigError(f"expires: {exc}", code="auth.bad_token", hint="e.g. 90d, 12h, 30m") from None
    people.require(name)
    if not body.aws:
        token, info = people.create_token(name, expires_in=lifetime, note=body.note)
        return {"token": token, **token_json(info)}
    if aws_keys is None:
        raise ConfigError(
            "this server makes no AWS keys", code="http.no_queries",
            hint="ask a server that answers queries, or run `lakegate tokens create NAME --aws`",
        )  # fmt: skip
    secret, info = aws_keys().create(name, expires_in=lifetime, note=body.note)
    return {"aws_access_key_id": info.id, "aws_secret_access_key": secret, **token_json(info)}


def identity_routes(
    catalog: Catalog, who: Callable[[Request], Principal], aws_keys: Callable[[], AwsKeys] | None = None
) -> APIRouter:
    """Principals and their tokens."""
    router = APIRouter(prefix="/v1")
    people = Principals(catalog)

    @router.get("/principals")
    def principal_list(caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return {"principals": [principal_json(p) for p in people.all()]}

    @router.post("/principals", status_code=201)
    def principal_add(body: PrincipalRequest, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return principal_json(people.add(**body.model_dump()))

    @router.get("/principals/{name}")
    def principal_show(name: str, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        _self_or_admin(caller, name)
        return principal_json(people.require(name))

    @router.patch("/principals/{name}")
    def principal_change(
        name: str,
        body: PrincipalChange,
        caller: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        admin(caller)
        changes = body.model_dump(exclude={"disabled"}, exclude_none=True)
        if body.disabled and name == caller.name:
            raise ConfigError(
                "an admin cannot disable itself",
                code="auth.bad_principal",
                hint="another admin can; this keeps one admin able to undo it",
            )
        found = people.update(name, **changes) if changes else people.require(name)
        if body.disabled is True:
            found = people.disable(name)
        elif body.disabled is False:
            found = people.enable(name)
        return principal_json(found)

    @router.post("/principals/{name}/tokens", status_code=201)
    def token_create(
        name: str,
        body: TokenRequest,
        response: Response,
        caller: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """A new token: the answer is the only place its secret ever appears."""
        _self_or_admin(caller, name)
        response.headers["Cache-Control"] = "no-store"
        return _new_token(people, name, body, aws_keys)

    @router.get("/tokens")
    def token_list(principal: str | None = None, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        if not caller.is_admin:
            if principal not in (None, caller.name):
                _self_or_admin(caller, principal or "")
            principal = caller.name
        return {"tokens": [token_json(t) for t in people.tokens(principal)]}

    @router.post("/tokens/{token_id}/revoke")
    def token_revoke(token_id: str, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        plain = token_id.removeprefix("lg_").split("_")[0]
        mine = {t.id for t in people.tokens(caller.name)}
        if not caller.is_admin and plain not in mine:
            # the same answer as for an unknown id: another principal's token ids stay unknown
            raise ConfigError(
                f"no token {plain!r}", code="auth.unknown_token", hint="GET /v1/tokens lists yours"
            )
        return token_json(people.revoke(plain))

    return router


def permission_routes(catalog: Catalog, who: Callable[[Request], Principal]) -> APIRouter:
    """Grants and workgroups."""
    router = APIRouter(prefix="/v1")
    grants = Grants(catalog)
    workgroups = Workgroups(catalog)

    @router.get("/grants")
    def grant_list(caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return {"grants": [grant_json(g) for g in grants.all()]}

    @router.post("/grants", status_code=201)
    def grant_add(body: GrantRequest, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return grant_json(grants.grant(**body.model_dump(), by=caller.name))

    @router.delete("/grants/{grant_id}")
    def grant_revoke(grant_id: Id, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return grant_json(grants.revoke(grant_id))

    @router.get("/workgroups")
    def workgroup_list(caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return {"workgroups": [workgroup_json(w) for w in workgroups.all()]}

    @router.put("/workgroups/{name}")
    def workgroup_put(name: str, body: WorkgroupRequest, caller: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        admin(caller)
        return workgroup_json(workgroups.put(name, **body.model_dump()))

    return router
