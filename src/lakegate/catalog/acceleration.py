"""Catalog records of acceleration copies: Parquet copies of cataloged CSV and JSON files, written
in the background, verified, and read by queries instead of the delivered file.

A file's ``derived_state`` says what its derived copy is: ``current`` — a copy the engine needs
(the delivered file cannot be read in place: bzip2, zip, Excel, Windows-1252 …), kept as long as
the file; ``accelerated`` — a copy for speed only, disposable: deleting it (``forget``) makes
queries read the delivered file again. A copy is recorded only if its file is unchanged since it
was read, in one statement, so a crash or a replaced file never leaves a copy in use that does
not match its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lakegate.catalog import Catalog
from lakegate.catalog.database import touch
from lakegate.catalog.lineage import deliveries
from lakegate.catalog.model import databases, files, tables
from lakegate.schema import Column

NEEDED = "current"
ACCELERATED = "accelerated"
FORMATS = ("csv", "json")  # what is re-parsed by every query in place


@dataclass(frozen=True)
class Candidate:
    """A cataloged file without a derived copy, as the accelerator reads it."""

    id: int
    key: str
    sha256: str
    format: str
    options: dict[str, Any]
    columns: list[Column]
    row_count: int
    database: str
    table: str
    dataset: str | None  # the dataset rule that took it (None: default routing, or crawled)
    row_hash: str | None = None  # the sum of its rows' hashes when it was cataloged (None: unknown)


def candidates(catalog: Catalog, *, after: int = 0, limit: int = 16) -> list[Candidate]:
    """Files (id above ``after``, oldest first) that could get an acceleration copy."""
    delivery = deliveries()
    query = (
        sa.select(
            files.c.id, files.c.key, files.c.sha256, files.c.format, files.c.options, files.c.columns,
            files.c.row_count, databases.c.name.label("database"), tables.c.name.label("table"),
            delivery.c.plan, files.c.row_hash,
        )
        .join(tables, tables.c.id == files.c.table_id)
        .join(databases, databases.c.id == tables.c.database_id)
        .outerjoin(delivery, delivery.c.target_key == files.c.key)
        .where(files.c.id > after, files.c.derived_key.is_(None), files.c.format.in_(FORMATS))
        .order_by(files.c.id)
        .limit(limit)
    )  # fmt: skip
    with catalog.reading("finding files to accelerate") as conn:
        rows = conn.execute(query).all()
    return [
        Candidate(
            row.id, row.key, row.sha256, row.format, row.options, [Column.from_dict(c) for c in row.columns],
            row.row_count, row.database, row.table, (row.plan or {}).get("dataset"), row.row_hash,
        )
        for row in rows
    ]  # fmt: skip


def record(catalog: Catalog, candidate: Candidate, key: str, sha256: str) -> bool:
    """Make ``key`` the file's acceleration copy — only if the file is still there, with the
    content the copy was made from, and has no copy yet. Whether it was recorded."""
    with catalog.writing(f"recording the Parquet copy of {candidate.key}") as conn:
        done = conn.execute(
            files.update()
            .where(
                files.c.id == candidate.id,
                files.c.sha256 == candidate.sha256,
                files.c.derived_key.is_(None),
            )
            .values(derived_key=key, derived_sha256=sha256, derived_state=ACCELERATED)
        )
        if done.rowcount == 1:
            table_id = conn.execute(
                sa.select(files.c.table_id).where(files.c.id == candidate.id)
            ).scalar_one()
            generation = touch(conn, table_id)
            conn.execute(files.update().where(files.c.id == candidate.id).values(changed_in=generation))
    return done.rowcount == 1


def forget(catalog: Catalog, database: str | None = None, table: str | None = None) -> list[str]:
    """Stop using the acceleration copies (of one database or table); their keys, to delete."""
    scope = sa.select(tables.c.id).join(databases, databases.c.id == tables.c.database_id)
    if database is not None:
        scope = scope.where(databases.c.name == database)
    if table is not None:
        scope = scope.where(tables.c.name == table)
    return _forget(catalog, files.c.table_id.in_(scope))


def forget_missing(catalog: Catalog, keys: list[str]) -> int:
    """Stop using the acceleration copies ``keys`` (found gone from the lake); how many were."""
    forgotten = 0
    for start in range(0, len(keys), 500):
        forgotten += len(_forget(catalog, files.c.derived_key.in_(keys[start : start + 500])))
    return forgotten


def _forget(catalog: Catalog, where: Any) -> list[str]:
    mine = (files.c.derived_state == ACCELERATED) & where
    with catalog.writing("forgetting acceleration copies") as conn:
        found = conn.execute(sa.select(files.c.table_id, files.c.derived_key).where(mine)).all()
        for table_id in sorted({row.table_id for row in found}):
            generation = touch(conn, table_id)
            conn.execute(
                files.update()
                .where(mine, files.c.table_id == table_id)
                .values(derived_key=None, derived_sha256=None, derived_state=None, changed_in=generation)
            )
    return [str(row.derived_key) for row in found]


def progress(catalog: Catalog) -> dict[str, int]:
    """How many CSV and JSON files are accelerated, and how many wait (or were left in place)."""
    with catalog.reading("counting acceleration copies") as conn:
        rows = conn.execute(
            sa.select(files.c.derived_state, sa.func.count())
            .where(files.c.format.in_(FORMATS))
            .group_by(files.c.derived_state)
        ).all()
    accelerated = sum(int(n) for state, n in rows if state == ACCELERATED)
    waiting = sum(int(n) for state, n in rows if state is None)
    return {"accelerated": accelerated, "in_place": waiting}


def in_use(catalog: Catalog) -> set[str]:
    """The keys of every derived copy a file record points to (needed or for speed)."""
    with catalog.reading("listing derived copies") as conn:
        found = conn.execute(sa.select(files.c.derived_key).where(files.c.derived_key.is_not(None)))
        return {str(k) for k in found.scalars()}


@dataclass(frozen=True)
class Copied:
    """A file read through a copy of its own (a candidate for compaction)."""

    id: int
    key: str
    sha256: str
    table_id: int
    columns: list[Column]
    derived_key: str
    derived_sha256: str
    size: int
    row_count: int


def small_copies(catalog: Catalog, max_size: int) -> list[Copied]:
    """Files of at most ``max_size`` bytes read through acceleration copies of their own (not yet
    compacted), oldest first."""
    query = (
        sa.select(
            files.c.id, files.c.key, files.c.sha256, files.c.table_id, files.c.columns, files.c.derived_key,
            files.c.derived_sha256, files.c.size, files.c.row_count,
        )
        .where(files.c.derived_state == ACCELERATED, files.c.size <= max_size)
        .order_by(files.c.id)
    )  # fmt: skip
    with catalog.reading("finding small acceleration copies") as conn:
        rows = conn.execute(query).all()
    return [
        Copied(
            r.id, r.key, r.sha256, r.table_id, [Column.from_dict(c) for c in r.columns], str(r.derived_key),
            str(r.derived_sha256 or ""), int(r.size), int(r.row_count),
        )
        for r in rows
        if not str(r.derived_key).rsplit("/", 1)[-1].startswith("compacted-")
    ]  # fmt: skip


def record_compacted(catalog: Catalog, members: list[Copied], key: str, sha256: str) -> bool:
    """Make ``key`` the copy of every member — all or none: only if each is still there with the
    content and the copy of its own the compacted copy was made from. Whether it was recorded."""

    class _Changed(Exception):
        pass

    try:
        with catalog.writing(f"recording the compacted copy {key}") as conn:
            for member in members:
                done = conn.execute(
                    files.update()
                    .where(
                        files.c.id == member.id,
                        files.c.sha256 == member.sha256,
                        files.c.derived_key == member.derived_key,
                    )
                    .values(derived_key=key, derived_sha256=sha256, derived_state=ACCELERATED)
                )
                if done.rowcount != 1:
                    raise _Changed
            for table_id in sorted({m.table_id for m in members}):
                generation = touch(conn, table_id)
                ids = [m.id for m in members if m.table_id == table_id]
                conn.execute(files.update().where(files.c.id.in_(ids)).values(changed_in=generation))
    except _Changed:
        return False
    return True
