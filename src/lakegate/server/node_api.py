"""The routes about this node and its peers: health (no token), the node registry (admins) and
Prometheus metrics (no token), each sample labelled with the node it came from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from lakegate.auth.principals import Principal
from lakegate.cluster.heartbeat import Heartbeat
from lakegate.errors import LakegateError
from lakegate.query.metrics import QueryMeter
from lakegate.server.access_api import admin
from lakegate.server.metrics import metrics_text


def node_routes(
    cluster: Heartbeat | None,
    ingest_counts: Callable[[], dict[str, int]] | None,
    meter: QueryMeter | None,
    who: Callable[..., Principal],
    *,
    metrics_open: bool = True,
) -> APIRouter:
    """``cluster`` is this node's heartbeat (None: a node on its own, no registry to show);
    ``metrics_open``: ``/metrics`` needs no token (``http.metrics: open``)."""
    router = APIRouter()

    @router.get("/v1/health")
    @router.get("/healthz")
    def health() -> dict[str, Any]:
        """Up or not; with many nodes, this node's name and the live nodes (names and roles)."""
        if cluster is None:
            return {"status": "ok"}
        try:
            live = [{"id": n.id, "roles": n.roles} for n in cluster.registry.alive()]
        except LakegateError:
            live = None  # the catalog is away: this node still answers
        return {
            "status": "ok", "node": cluster.node.id, "roles": cluster.node.roles,
            "leader": cluster.leads, "nodes": live,
        }  # fmt: skip

    @router.get("/v1/nodes")
    def node_list(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        """Every node sharing the catalog (admins): where it runs and serves, and whether it is up."""
        admin(principal)
        if cluster is None:
            return {"nodes": []}
        lease = cluster.registry.lease_seconds
        return {"nodes": [n.as_dict(lease) for n in cluster.registry.all()], "this": cluster.node.id}

    @router.get(
        "/metrics", response_class=PlainTextResponse, dependencies=[] if metrics_open else [Depends(who)]
    )
    def prometheus() -> str:
        """Prometheus metrics: ingest outcomes, queries by state and front end, their durations
        (with ``http.metrics: token``, only for a request with a valid token)."""
        return metrics_text(ingest_counts, meter, cluster.node.id if cluster else None)

    return router
