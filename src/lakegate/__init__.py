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

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def __getattr__(name: str) -> object:
    # The query stack (DuckDB, Arrow, sqlglot) loads on first use, so the CLI starts fast.
    if name in ("connect", "Connection", "Cursor"):
        from lakegate.query import dbapi

        return getattr(dbapi, name)
    raise AttributeError(f"module 'lakegate' has no attribute {name!r}")
