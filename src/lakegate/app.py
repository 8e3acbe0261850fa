"""Opening a lakegate home: settings, catalog and object store, wired together once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakegate.catalog import Catalog
from lakegate.config import Settings, load_settings
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


def open_app(home: str | Path | None = None, *, create: bool = False) -> App:
    """Resolve the home, read its settings and open its catalog and store."""
    resolved = resolve_home(home, create=create)
    settings = load_settings(resolved)
    catalog = Catalog(settings.catalog_url(resolved))
    return App(resolved, settings, catalog, LocalStore(resolved.root))
