"""lakegate: drop files into a bucket, query them with read-only SQL a second later."""

from lakegate.errors import (
    CatalogError,
    ConfigError,
    GuardError,
    LakegateError,
    QueryError,
    Rejection,
    StorageError,
)
from lakegate.query.dbapi import Connection, Cursor, connect

__version__ = "0.1.0"

__all__ = [
    "CatalogError",
    "ConfigError",
    "Connection",
    "Cursor",
    "GuardError",
    "LakegateError",
    "QueryError",
    "Rejection",
    "StorageError",
    "__version__",
    "connect",
]
