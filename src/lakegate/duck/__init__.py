"""Opening DuckDB the lakegate way: no autoload, no autoinstall, extensions only from PyPI packages.

Extensions come from the ``duckdb-extension-<name>`` packages pinned to DuckDB's version and are
loaded by file path, so nothing is downloaded, nothing is written to ``~/.duckdb``, and an
extension a machine happens to have in ``~/.duckdb/extensions`` is never picked up.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import threading
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


LARGE_FILE = 4 * 1024**2  # read with every core from this size on


def large_file_threads() -> int:
    """Engine threads for one large file: every core (at least two), as DuckDB reads it alone."""
    return max(2, os.cpu_count() or 2)


class PerThread:
    """Each calling thread's own engine connections, reading ``store``: one engine thread for
    small files (task scheduling would cost more than it saves), every core for large ones."""

    def __init__(self, store: object) -> None:
        self.store = store
        self._local = threading.local()

    def __call__(self, size: int = 0) -> duckdb.DuckDBPyConnection:
        name = "small" if size < LARGE_FILE else "large"
        conn: duckdb.DuckDBPyConnection | None = getattr(self._local, name, None)
        if conn is None:
            conn = connect(threads=1 if name == "small" else large_file_threads())
            attach_store(conn, self.store)
            setattr(self._local, name, conn)
        return conn


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


def _s3_stores(store: object) -> list[Any]:
    from lakegate.storage.areas import AreaStore
    from lakegate.storage.s3 import S3Store

    if isinstance(store, AreaStore):
        return [s for s in store.areas.values() if isinstance(s, S3Store)]
    return [store] if isinstance(store, S3Store) else []


def store_ports(store: object) -> tuple[int, ...]:
    """The TCP ports an engine must reach to read ``store`` (none for local files)."""
    from urllib.parse import urlsplit

    ports = set()
    for s3 in _s3_stores(store):
        if not s3.endpoint_url:
            ports.add(443)
            continue
        parts = urlsplit(s3.endpoint_url)
        ports.add(parts.port or (443 if parts.scheme == "https" else 80))
    return tuple(sorted(ports))


def attach_store(
    conn: duckdb.DuckDBPyConnection, store: object, urls: list[str] | tuple[str, ...] = ()
) -> None:
    """Let ``conn`` read ``store``'s URLs (nothing to do for local files), and ``urls`` outside it.

    For each S3 area this loads httpfs by path and creates a secret scoped to the area's URL with
    that area's own credentials, so an engine opened for queries reads with the read-only identity.
    Buckets of ``urls`` outside every area (files a crawl registered in place) are read with the
    first area's identity, on its endpoint.

    Raises:
        LakegateError: ``engine.no_s3`` when ``urls`` has S3 files but ``store`` no S3 area.
    """
    stores = _s3_stores(store)
    outside = sorted(
        {"/".join(u.split("/", 3)[:3]) + "/" for u in urls if u.startswith("s3://")}
        - {s.url("") for s in stores}
    )
    if outside and not stores:
        raise LakegateError(
            f"files on S3 ({outside[0]}) are cataloged, but lakegate has no S3 storage to read them with",
            code="engine.no_s3",
            hint="configure storage.s3 and an area on S3 (its endpoint and identity read them)",
        )
    if not stores:
        return
    load_extension(conn, "httpfs")
    for number, s3 in enumerate(stores):
        _create_secret(conn, s3, f"lakegate_area_{number}")
    for number, bucket in enumerate(outside):
        _create_secret(conn, stores[0], f"lakegate_source_{number}", scope=bucket)


class _Recorded:
    """Takes the statements meant for a connection, to run them on one in another process."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)


def store_statements(store: object, urls: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What ``attach_store`` runs on a connection, as statements (for an engine in another
    process: a judge process reading an object on S3)."""
    recorded = _Recorded()
    attach_store(recorded, store, urls)  # type: ignore[arg-type]
    return recorded.statements


def _create_secret(conn: duckdb.DuckDBPyConnection, store: Any, name: str, scope: str = "") -> None:
    from urllib.parse import urlsplit

    credentials = store.client._request_signer._credentials
    frozen = credentials.get_frozen_credentials() if credentials else None
    options = {
        "REGION": store.client.meta.region_name,
        "URL_STYLE": "path" if store.path_style else "vhost",
        "SCOPE": scope or store.url(""),
    }
    if store.endpoint_url:
        parts = urlsplit(store.endpoint_url)
        options["ENDPOINT"] = parts.netloc
        options["USE_SSL"] = "true" if parts.scheme == "https" else "false"
    if frozen:
        options["KEY_ID"] = frozen.access_key
        options["SECRET"] = frozen.secret_key
        if frozen.token:
            options["SESSION_TOKEN"] = frozen.token
    body = ", ".join(
        f"{k} {v}" if v in ("true", "false") else f"{k} '{str(v).replace(chr(39), chr(39) * 2)}'"
        for k, v in options.items()
    )
    conn.execute(f"CREATE OR REPLACE SECRET {name} (TYPE s3, {body})")
