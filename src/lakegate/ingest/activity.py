"""What arrived lately and what became of it: the console's ingestion view.

An arrival is one landed object of the ledger. Its outcome is what a provider or an admin wants
to know at a glance — accepted (queryable, with its table and partition), quarantined (with the
reason), a duplicate, vanished, or still in progress — and its latency is from its arrival in
landing (the object's modification time) to the commit that made it queryable.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog import records as r
from lakegate.catalog.model import objects
from lakegate.schema import describe_change, describe_diff

_OUTCOME = {
    r.DONE: "accepted",
    r.CATALOGED: "accepted",  # queryable; the landing copy is being removed
    r.QUARANTINED: "quarantined",
    r.PURGED: "quarantined",
    r.REPLAYING: "quarantined",
    r.REPLAYED: "quarantined",
    r.SKIPPED: "duplicate",
    r.DUPLICATE: "duplicate",
    r.VANISHED: "vanished",
    r.ABANDONED: "retaken",
}
_LATE = 3600.0  # an mtime this far before the ledger saw it is a file copied in late, not an arrival


def outcome(state: str) -> str:
    return _OUTCOME.get(state, "processing")


def _arrived_at(row: Any) -> float:
    """When the object arrived: its mtime, unless clocks disagree or it sat in landing unseen."""
    mtime = float(row.mtime_ns) / 1e9
    seen = float(row.created_at)
    return mtime if seen - _LATE <= mtime <= seen else seen


def _latency_ms(row: Any) -> float | None:
    if outcome(row.state) != "accepted":
        return None
    return round(max(0.0, float(row.updated_at) - _arrived_at(row)) * 1000, 1)


def _arrival(row: Any) -> dict[str, Any]:
    plan = row.plan or {}
    details = dict(row.reason_details or {})
    return {
        "id": row.id,
        "key": row.source_key,
        "state": row.state,
        "outcome": outcome(row.state),
        "database": row.database,
        "table": row.table,
        "partition": row.partition_path,
        "lake_key": row.target_key if outcome(row.state) == "accepted" else None,
        "dataset": plan.get("dataset"),
        "rows": plan.get("rows"),
        "size": row.size,
        "reason_code": row.reason_code,
        "reason": row.reason,
        "how_to_fix": details.get("hint"),
        "arrived_at": _arrived_at(row),
        "updated_at": row.updated_at,
        "latency_ms": _latency_ms(row),
        "schema_change": _schema_change(plan) if outcome(row.state) == "accepted" else None,
        "decisions": list(plan.get("warnings") or []) if outcome(row.state) == "accepted" else [],
    }


def _schema_change(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The schema change an accepted file made to its table: its new version and the changes."""
    change = plan.get("schema_change")
    if not change:
        return None
    lines = describe_diff(change.get("diff") or {}, change.get("types"))
    return {"version": change.get("version"), "changes": lines, "text": describe_change(change)}


def _visible(
    query: sa.Select[Any], prefix: str | None, tables: Iterable[tuple[str, str]] | None
) -> sa.Select[Any]:
    if prefix is not None:
        escaped = prefix.strip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(objects.c.source_key.like(f"landing/{escaped}/%", escape="\\"))
    if tables is not None:
        pairs = sorted(set(tables))
        if not pairs:
            return query.where(sa.false())
        query = query.where(
            objects.c.state.in_((r.DONE, r.CATALOGED)),
            sa.or_(*((objects.c.database == d) & (objects.c.table == t) for d, t in pairs)),
        )
    return query


def _listed(
    catalog: Catalog, query: sa.Select[Any], prefix: str | None, tables: Iterable[tuple[str, str]] | None
) -> list[dict[str, Any]]:
    with catalog.reading("listing arrivals") as conn:
        rows = conn.execute(_visible(query, prefix, tables)).all()
    return [_arrival(row) for row in rows]


def arrivals(
    catalog: Catalog,
    *,
    after: int = 0,
    limit: int = 100,
    prefix: str | None = None,
    tables: Iterable[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The newest arrivals (id above ``after``), newest first: all of them, those under the
    landing ``prefix`` (a provider's), or only the accepted ones in ``tables`` (an analyst's)."""
    query = sa.select(objects).where(objects.c.id > after).order_by(objects.c.id.desc()).limit(limit)
    return _listed(catalog, query, prefix, tables)


def changed_since(
    catalog: Catalog,
    since: float,
    *,
    limit: int = 500,
    prefix: str | None = None,
    tables: Iterable[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Arrivals whose state changed after ``since`` (a live view polls with this), seen as
    ``arrivals`` sees them."""
    query = (
        sa.select(objects)
        .where(objects.c.updated_at > since)
        .order_by(objects.c.updated_at.desc())
        .limit(limit)
    )
    return _listed(catalog, query, prefix, tables)


def timeline(
    catalog: Catalog,
    *,
    window: float = 3600.0,
    bucket: float = 60.0,
    now: float | None = None,
    prefix: str | None = None,
    tables: Iterable[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Arrivals per ``bucket`` seconds over the last ``window``: how many were accepted and
    quarantined, their bytes, and the median and worst arrival-to-query latency."""
    now = time.time() if now is None else now
    start = now - window
    query = sa.select(
        objects.c.state, objects.c.size, objects.c.mtime_ns, objects.c.created_at, objects.c.updated_at
    ).where(objects.c.updated_at > start)
    with catalog.reading("summing up arrivals") as conn:
        rows = conn.execute(_visible(query, prefix, tables).limit(200_000)).all()
    count = max(1, int(window // bucket))
    counts = [{"accepted": 0, "quarantined": 0, "other": 0, "bytes": 0} for _ in range(count)]
    latencies: list[list[float]] = [[] for _ in range(count)]
    for row in rows:
        i = min(count - 1, max(0, int((row.updated_at - start) // bucket)))
        kind = outcome(row.state)
        counts[i][kind if kind in ("accepted", "quarantined") else "other"] += 1
        counts[i]["bytes"] += row.size
        latency = _latency_ms(row)
        if latency is not None:
            latencies[i].append(latency)
    out: list[dict[str, Any]] = []
    for i, (slot, lat) in enumerate(zip(counts, latencies, strict=True)):
        lat.sort()
        out.append({
            "start": start + i * bucket, **slot,
            "latency_p50_ms": lat[len(lat) // 2] if lat else None,
            "latency_max_ms": lat[-1] if lat else None,
        })  # fmt: skip
    return out
