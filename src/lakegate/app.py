"""Opening a lakegate home: settings, catalog and object store, wired together once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakegate.catalog import Catalog
from lakegate.config import Settings, StorageSettings, load_settings
from lakegate.errors import ConfigError
from lakegate.home import Home, resolve_home
from lakegate.storage import LocalStore, ObjectStore

LANDING_PREFIX = "landing/"
LAKE_PREFIX = "lake/"
QUARANTINE_PREFIX = "quarantine/"


@dataclass
class App:
    home: Home
    settings: Settings
    catalog: Catalog
    store: ObjectStore

    def close(self) -> None:
        self.catalog.close()

    def query_store(self) -> ObjectStore:
        """The store as the query engine sees it: on S3, with the read-only query identity."""
        if self.settings.storage.kind == "local":
            return self.store
        return open_store(self.home, self.settings.storage, query=True)


def open_app(home: str | Path | None = None, *, create: bool = False) -> App:
    """Resolve the home, read its settings and open its catalog and store."""
    resolved = resolve_home(home, create=create)
    settings = load_settings(resolved)
    store = open_store(resolved, settings.storage)
    catalog = Catalog(settings.catalog_url(resolved))
    return App(resolved, settings, catalog, store)


def open_store(home: Home, storage: StorageSettings, *, query: bool = False) -> ObjectStore:
    """The object store holding landing/, lake/ and quarantine/ (``query``: with the read-only identity)."""
    if storage.kind == "local":
        return LocalStore(home.root)
    if not storage.bucket:
        raise ConfigError(
            "storage.kind is `s3` but storage.bucket is not set",
            code="config.bad_value",
            hint="set storage.bucket in lakegate.yaml or LAKEGATE_STORAGE__BUCKET",
        )
    from lakegate.storage.s3 import S3Store

    key, secret = storage.access_key, storage.secret_key
    if query and storage.query_access_key:
        key, secret = storage.query_access_key, storage.query_secret_key
    return S3Store(
        storage.bucket,
        storage.prefix,
        endpoint_url=storage.endpoint_url,
        region=storage.region,
        access_key=key,
        secret_key=secret,
        path_style=storage.path_style,
    )
