"""The catalog: the source of truth for what is queryable, and the ledger of every landed object."""

from lakegate.catalog.records import ObjectRecord, Registration, TableInfo
from lakegate.catalog.sql import Catalog

__all__ = ["Catalog", "ObjectRecord", "Registration", "TableInfo"]
