"""Where a table's data came from: its files, each with the delivery that brought it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog import records as r
from lakegate.catalog.model import databases, files, objects, partitions, tables


def deliveries() -> sa.Subquery:
    """The delivery of each lake file: the newest accepted object that became it (a file that
    replaced another under the same name was delivered after it)."""
    accepted = objects.c.state.in_((r.DONE, r.CATALOGED))
    newer = objects.alias("newer")
    superseded = (
        sa.select(newer.c.id)
        .where(newer.c.target_key == objects.c.target_key, newer.c.id > objects.c.id)
        .where(newer.c.state.in_((r.DONE, r.CATALOGED)))
    )
    return (
        sa.select(
            objects.c.target_key, objects.c.source_key, objects.c.created_at, objects.c.plan, objects.c.id
        )
        .where(accepted, ~superseded.exists())  # per file, through ix_objects_target
        .subquery()
    )


def table_files(catalog: Catalog, database: str, name: str, *, limit: int = 10_000) -> list[dict[str, Any]]:
    """The files of ``database.name``, newest first: partition, size, rows, format, and the landed
    object that delivered each (its key, when it landed, the dataset rule that took it); files
    the crawler found in an existing lake have no delivery (``origin`` is ``crawled``)."""
    delivery = deliveries()
    query = (
        sa.select(
            files.c.key, files.c.size, files.c.row_count, files.c.format, files.c.created_at,
            files.c.delivered_as, files.c.derived_state, partitions.c.path.label("partition"),
            delivery.c.source_key, delivery.c.created_at.label("landed_at"), delivery.c.plan,
            delivery.c.id.label("object_id"),
        )
        .join(tables, tables.c.id == files.c.table_id)
        .join(databases, databases.c.id == tables.c.database_id)
        .join(partitions, partitions.c.id == files.c.partition_id)
        .outerjoin(delivery, delivery.c.target_key == files.c.key)
        .where(databases.c.name == database, tables.c.name == name)
        .order_by(files.c.created_at.desc(), files.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    with catalog.reading(f"listing the files of {database}.{name}") as conn:
        rows = conn.execute(query).all()
    return [
        {
            "key": row.key,
            "partition": row.partition,
            "size": row.size,
            "rows": row.row_count,
            "format": row.format,
            "registered_at": row.created_at,
            "derived": row.derived_state,
            "origin": "delivered" if row.source_key else "crawled",
            "delivered": row.source_key,
            "object_id": row.object_id,
            "landed_at": row.landed_at,
            "dataset": (row.plan or {}).get("dataset"),
            # what reading it decided that changes what a user sees: preamble, footer, skipped
            # rows, null tokens, date order, booleans…
            "decisions": list((row.plan or {}).get("warnings") or []),
        }
        for row in rows
    ]
