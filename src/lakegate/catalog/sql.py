"""The catalog on a SQL database: SQLite (default, WAL) or PostgreSQL, through SQLAlchemy Core.

``Catalog`` is one facade over its topics, each in a module of its own:

    database.py      the engine, migrations, transactions (CatalogDatabase)
    reading.py       databases, tables, files, schema versions, partitions (TableReading)
    ledger.py        the object ledger: landed objects and their states (Ledger)
    registering.py   an accepted object's file into its table, and undoing it (Registering)
    archiving.py     files out of their tables into the archive (Archiving)
    crawled.py       files registered where they lie, by `lakegate crawl` (CrawledFiles)
    descriptions.py  descriptions of tables and columns (Descriptions)
    retyping.py      a file's columns judged again, its table widened (Retyping)
"""

from __future__ import annotations

from lakegate.catalog.crawled import CrawledFiles
from lakegate.catalog.database import HEAD_REVISION, engine_url, translate_errors
from lakegate.catalog.descriptions import Descriptions
from lakegate.catalog.model import metadata
from lakegate.catalog.retyping import Retyping


class Catalog(CrawledFiles, Retyping, Descriptions):
    """Databases, tables, partitions, files, schema versions and the object ledger."""


__all__ = ["HEAD_REVISION", "Catalog", "engine_url", "metadata", "translate_errors"]
