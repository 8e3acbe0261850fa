"""``lakegate migrate``: cataloged files judged again by rules that changed since they were taken.

Booleans (lakegate 0.9): only ``true`` and ``false`` are booleans now. A CSV file cataloged
earlier with a BOOLEAN column of ``T``/``F``, ``Y``/``N``, ``yes``/``no`` or ``0``/``1`` is read
again as text; the column becomes VARCHAR (BIGINT for digits), its table widens with a new schema
version, and a copy made only for speed is forgotten (written again by the accelerator). A file
whose copy is needed to read it (zip, another encoding) is read again from the delivered file and
its copy written again with the new types. Then every copy a file needs whose typed values a
wider table column would change (``retext``) is written again with that column as text. Running
it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field

import duckdb

from lakegate import duck
from lakegate.catalog import Catalog
from lakegate.crawler.column_types import strict_booleans
from lakegate.duck.readers import reader_sql
from lakegate.errors import LakegateError
from lakegate.ingest.retext import Retexter, delivered
from lakegate.storage import ObjectStore


@dataclass
class Migrated:
    table: str
    key: str
    changes: list[str] = field(default_factory=list)  # "flag: BOOLEAN -> VARCHAR"
    skipped: str = ""  # why it was not migrated


def boolean_candidates(catalog: Catalog) -> Iterator[tuple[str, str, str]]:
    """(database, table, key) of CSV files with a BOOLEAN column."""
    for listed in catalog.tables():
        info = catalog.table(listed.database, listed.name)
        for f in info.files if info else []:
            if f.format == "csv" and any(c.type == "BOOLEAN" for c in f.columns):
                yield listed.database, listed.name, f.key


def migrate_booleans(catalog: Catalog, store: ObjectStore, *, dry_run: bool = False) -> list[Migrated]:
    """Re-judge the BOOLEAN columns of CSV files (see the module); what changed, or would."""
    conn = duck.PerThread(store)()
    out = []
    for database, name, key in list(boolean_candidates(catalog)):
        info = catalog.table(database, name)
        found = [f for f in info.files if f.key == key] if info else []
        if not found:
            continue  # replaced or removed meanwhile
        f = found[0]
        done = Migrated(f"{database}.{name}", key)
        needed = bool(f.derived_key and not f.accelerated)
        try:
            with (
                delivered(store, f) if needed else nullcontext((conn, _where(store, key))) as (reader, where)
            ):
                options = {**f.options, "ignore_errors": True, "strict_mode": False}
                text = reader_sql([where], "csv", options, [(c.name, "VARCHAR") for c in f.columns])
                columns, _said = strict_booleans(reader, text, f.columns)
        except (duckdb.Error, OSError, LakegateError) as exc:
            done.skipped = f"it cannot be read: {exc}"
            out.append(done)
            continue
        done.changes = [
            f"{old.name}: {old.type} -> {new.type}"
            for old, new in zip(f.columns, columns, strict=True)
            if old != new
        ]
        if done.changes:
            cause = "migrated: only true/false are booleans"
            if needed and not dry_run:
                done.skipped = Retexter(catalog, store).rewrite(database, name, f, columns, cause=cause)
            elif not dry_run:
                catalog.retype_file(database, name, key, columns, cause=cause)
            out.append(done)
    if not dry_run:
        out += [
            Migrated(r.table, r.key, [f"{c}: read as text" for c in r.columns], r.failed)
            for r in Retexter(catalog, store).run()
        ]
    return out


def _where(store: ObjectStore, key: str) -> str:
    return key.removeprefix("file://") if "://" in key else store.url(key)  # crawled in place, or lake
