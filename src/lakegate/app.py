"""Opening a lakegate home: settings, catalog and object store, wired together once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakegate.catalog import Catalog
from lakegate.config import S3Settings, Settings, StorageSettings, load_settings
from lakegate.errors import ConfigError
from lakegate.home import Home, resolve_home
from lakegate.storage import LocalStore, ObjectStore
from lakegate.storage.areas import AREAS, AreaStore

LANDING_PREFIX = "landing/"
LAKE_PREFIX = "lake/"
QUARANTINE_PREFIX = "quarantine/"


@dataclass
class App:
    home: Home
    settings: Settings
    catalog: Catalog
    store: AreaStore

    def close(self) -> None:
        self.catalog.close()

    def query_store(self) -> ObjectStore:
        """The store as the query engine sees it: on S3, with the read-only query identity."""
        if not self.settings.storage.uses_s3():
            return self.store
        return open_store(self.home, self.settings.storage, query=True)


def open_app(home: str | Path | None = None, *, create: bool = False) -> App:
    """Resolve the home, read its settings and open its catalog and store."""
    resolved = resolve_home(home, create=create)
    settings = load_settings(resolved)
    store = open_store(resolved, settings.storage)
    catalog = Catalog(settings.catalog_url(resolved))
    return App(resolved, settings, catalog, store)


def open_store(home: Home, storage: StorageSettings, *, query: bool = False) -> AreaStore:
    """The store for every area (``query``: S3 with the read-only identity)."""
    areas: dict[str, ObjectStore] = {}
    for area in AREAS:
        url = getattr(storage, area)
        if area in ("archive", "derived") and not url:
            url = _inside(storage.lake or str(home.root / "lake"), f"_{area}/")
        if url.startswith("s3://"):
            areas[area] = _s3(url, storage.s3, query=query)
        elif url:
            path = Path(url.removeprefix("file://")).expanduser()
            areas[area] = LocalStore(path if path.is_absolute() else home.root / path)
        else:
            areas[area] = LocalStore(home.root / area)
    return AreaStore(areas)


def open_results(home: Home, storage: StorageSettings) -> ObjectStore | None:
    """Where background queries' results are shared between nodes: ``storage.results``, else
    ``_results/`` inside a lake on S3; None for a lake in a local folder (one node)."""
    url = storage.results or (_inside(storage.lake, "_results/") if storage.lake.startswith("s3://") else "")
    if url.startswith("s3://"):
        return _s3(url, storage.s3, query=False)
    if url:
        path = Path(url.removeprefix("file://")).expanduser()
        return LocalStore(path if path.is_absolute() else home.root / path)
    return None


def open_source(url: str, storage: StorageSettings) -> ObjectStore:
    """A store rooted at ``url`` (``s3://bucket/prefix/``, ``file:///path/`` or a folder), for
    reading data that is already there (``lakegate crawl``); S3 with the ingest identity.

    Raises:
        ConfigError: ``crawl.bad_source`` for an unknown scheme or a folder that does not exist.
    """
    if url.startswith("s3://"):
        if not url[5:].split("/", 1)[0]:
            raise ConfigError(
                f"{url!r} names no bucket", code="crawl.bad_source", hint="use s3://bucket/prefix/"
            )
        return _s3(url if url.endswith("/") else url + "/", storage.s3, query=False)
    if "://" in url and not url.startswith("file://"):
        raise ConfigError(
            f"{url!r}: unknown scheme", code="crawl.bad_source", hint="use s3://bucket/prefix/ or a folder"
        )
    path = Path(url.removeprefix("file://")).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"{path} is not a folder", code="crawl.bad_source", hint="name an existing folder")
    return LocalStore(path)


def _inside(url: str, folder: str) -> str:
    return url.rstrip("/") + "/" + folder


def _s3(url: str, s3: S3Settings, *, query: bool) -> ObjectStore:
    from lakegate.storage.s3 import S3Store

    bucket, _, prefix = url[len("s3://") :].partition("/")
    key, secret = s3.access_key, s3.secret_key
    if query and s3.query_access_key:
        key, secret = s3.query_access_key, s3.query_secret_key
    return S3Store(
        bucket,
        prefix,
        endpoint_url=s3.endpoint_url,
        region=s3.region,
        access_key=key,
        secret_key=secret,
        path_style=s3.path_style,
    )
