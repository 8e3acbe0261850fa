"""Opening DuckDB the lakegate way: no autoload, no autoinstall, extensions only from PyPI packages.

Extensions come from the ``duckdb-extension-<name>`` packages pinned to DuckDB's version and are
loaded by file path, so nothing is downloaded, nothing is written to ``~/.duckdb``, and an
extension a machine happens to have in ``~/.duckdb/extensions`` is never picked up.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from lakegate.errors import LakegateError

# A private, empty extension directory: DuckDB looks nowhere else.
_EMPTY_EXTENSION_DIR = tempfile.mkdtemp(prefix="lakegate-no-extensions-")

BASE_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "extension_directory": _EMPTY_EXTENSION_DIR,
}


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with extension loading locked down."""
    config: dict[str, Any] = dict(BASE_CONFIG)
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    return duckdb.connect(":memory:", config=config)


def extension_path(name: str) -> Path:
    """The extension file shipped by the ``duckdb-extension-<name>`` package for this DuckDB.

    Raises:
        LakegateError: ``engine.extension_missing`` naming the package to install.
    """
    package = f"duckdb_extension_{name}"
    hint = f"pip install duckdb-extension-{name}=={duckdb.__version__}"
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise LakegateError(
            f"DuckDB extension {name!r} is not installed", code="engine.extension_missing", hint=hint
        ) from None
    root = Path(module.__file__ or "").parent
    found = sorted(root.glob(f"extensions/v{duckdb.__version__}/**/{name}.duckdb_extension"))
    if not found:
        raise LakegateError(
            f"package {package} has no {name} extension built for DuckDB {duckdb.__version__}",
            code="engine.extension_missing",
            hint=hint,
        )
    return found[0]


def load_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """``LOAD`` an extension by its file path (never ``INSTALL``)."""
    path = str(extension_path(name)).replace("'", "''")
    conn.execute(f"LOAD '{path}'")


def engine_message(exc: BaseException, limit: int = 500) -> str:
    """The first paragraph of a DuckDB error: what users need, without the engine's extra context."""
    return str(exc).strip().split("\n\n")[0].split("\n")[0][:limit]
