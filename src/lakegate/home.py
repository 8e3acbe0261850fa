"""The lakegate home: one folder holding landing/, lake/, quarantine/, the catalog and the config.

Which home a command uses: ``--home DIR``, else ``$LAKEGATE_HOME``, else ``./lakegate-data``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lakegate.errors import ConfigError

DEFAULT_HOME = "lakegate-data"
CONFIG_FILE = "lakegate.yaml"
LANDING = "landing"
LAKE = "lake"
QUARANTINE = "quarantine"
CATALOG_FILE = "catalog.db"


@dataclass(frozen=True)
class Home:
    """Paths inside one lakegate home folder."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def catalog_file(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def landing(self) -> Path:
        return self.root / LANDING

    @property
    def lake(self) -> Path:
        return self.root / LAKE

    @property
    def quarantine(self) -> Path:
        return self.root / QUARANTINE

    def exists(self) -> bool:
        return self.root.is_dir() and self.landing.is_dir()

    def create(self) -> None:
        for folder in (self.landing, self.lake, self.quarantine):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_home(flag: str | Path | None = None, *, create: bool = False) -> Home:
    """Find the home folder by precedence and check it exists (or create it).

    Raises:
        ConfigError: ``home.missing`` when the folder is not a lakegate home and ``create`` is false.
    """
    raw = flag if flag not in (None, "") else os.environ.get("LAKEGATE_HOME") or DEFAULT_HOME
    home = Home(Path(raw).expanduser().resolve())
    if create:
        home.create()
    elif not home.exists():
        raise ConfigError(
            f"{home.root} is not a lakegate home (no landing/ folder)",
            code="home.missing",
            hint="create it with `lakegate init --home DIR` or `lakegate up --home DIR`, "
            "or point --home / LAKEGATE_HOME at an existing one",
        )
    return home
