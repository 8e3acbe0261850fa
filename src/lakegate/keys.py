"""Names of objects lakegate writes: new names for new content, where archived files go, and
where derived copies are kept."""

from __future__ import annotations

import posixpath

LAKE = "lake/"
ARCHIVE = "archive/"
DERIVED = "derived/"


def with_suffix(key: str, sha256: str) -> str:
    """``lake/db/t/orders.csv.gz`` → ``lake/db/t/orders-<sha12>.csv.gz``: a new name for new content."""
    folder, name = posixpath.split(key)
    stem, dot, ext = name.partition(".")
    renamed = f"{stem}-{sha256[:12]}{dot}{ext}"
    return f"{folder}/{renamed}" if folder else renamed


def held_key(source_key: str, object_id: int) -> str:
    """``landing/db/t/f.csv`` of ledger row 17 → ``landing/db/t/.lakegate-taking-17``: the hidden
    name a local landing file has while it is taken (out of its writers' and the watcher's sight)."""
    folder = posixpath.dirname(source_key)
    return f"{folder}/.lakegate-taking-{object_id}"


def archive_key(lake_key: str, day: str) -> str:
    """``lake/db/t/dt=1/f.csv`` archived on ``day`` → ``archive/<day>/db/t/dt=1/f.csv``."""
    return f"{ARCHIVE}{day}/{lake_key.removeprefix(LAKE)}"


def derived_key(lake_key: str, sha256: str) -> str:
    """``lake/db/t/f.csv.bz2`` → ``derived/db/t/f.csv.bz2.<sha12>.parquet``: where the derived
    Parquet copy of that content is kept (named by content too, so it is never another's)."""
    return f"{DERIVED}{lake_key.removeprefix(LAKE)}.{sha256[:12]}.parquet"
