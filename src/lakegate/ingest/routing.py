"""Where a landed object belongs: database, table, partition and lake key.

Zero-config rule: ``landing/<database>/<table>/[<k>=<v>/...]<file>`` goes to
``lake/<database>/<table>/[<k>=<v>/...]<file>``. Folder names become identifiers by the rule in
``crawler/names.py`` (lowercase, ``[a-z0-9_]``); partition values and file names are kept as
delivered. Anything else is rejected with the reason ``reject.route``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from lakegate.crawler.names import identifier
from lakegate.errors import Rejection

LANDING = "landing/"
LAKE = "lake/"


@dataclass(frozen=True)
class Route:
    database: str
    table: str
    partition: dict[str, str] = field(default_factory=dict)
    filename: str = ""

    @property
    def partition_path(self) -> str:
        return "/".join(f"{k}={v}" for k, v in self.partition.items())

    @property
    def location(self) -> str:
        return f"{LAKE}{self.database}/{self.table}"

    @property
    def target_key(self) -> str:
        parts = [self.location, self.partition_path, self.filename]
        return "/".join(p for p in parts if p)


_HINT = "deliver files as landing/<database>/<table>/<file>, optionally with key=value folders between"


def default_route(source_key: str) -> Route:
    """Route a landing key by the zero-config folder rule.

    Raises:
        Rejection: ``reject.route`` saying what about the key does not fit.
    """
    if not source_key.startswith(LANDING):
        raise Rejection(f"{source_key!r} is not under {LANDING}", code="reject.route", hint=_HINT)
    parts = source_key[len(LANDING) :].split("/")
    if len(parts) < 3:
        where = "directly under landing/" if len(parts) == 1 else f"directly under landing/{parts[0]}/"
        raise Rejection(f"the file is {where}, so it names no table", code="reject.route", hint=_HINT)
    database, table = identifier(parts[0]), identifier(parts[1])
    for original, name, what in ((parts[0], database, "database"), (parts[1], table, "table")):
        if not name.strip("_"):
            raise Rejection(
                f"the folder {original!r} gives no usable {what} name", code="reject.route", hint=_HINT
            )
    partition: dict[str, str] = {}
    for segment in parts[2:-1]:
        key, sep, value = segment.partition("=")
        name = identifier(key)
        if not sep or not name.strip("_"):
            raise Rejection(
                f"the folder {segment!r} inside the table folder is not a key=value partition",
                code="reject.route",
                hint=_HINT,
            )
        if name in partition:
            raise Rejection(f"the partition key {name!r} appears twice", code="reject.route", hint=_HINT)
        partition[name] = value
    return Route(database, table, partition, parts[-1])


def with_suffix(key: str, sha256: str) -> str:
    """``lake/db/t/orders.csv.gz`` → ``lake/db/t/orders-<sha12>.csv.gz``: a new name for new content."""
    folder, name = posixpath.split(key)
    stem, dot, ext = name.partition(".")
    renamed = f"{stem}-{sha256[:12]}{dot}{ext}"
    return f"{folder}/{renamed}" if folder else renamed
