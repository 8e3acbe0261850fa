"""Which table and partition each file of an existing store belongs to, from its folders.

A file's folders, from the crawled prefix down, are split in two: the table's folders, then its
partition folders. With ``level`` set, the first ``level`` folders name the table. Without it,
the table's folders end at the first folder that looks like a partition: a Hive ``key=value``
folder, or a value (``2026``, ``01``, ``2026-11-27``...) — as data laid out by date usually is.

Partition folders become partition keys: ``key=value`` by its key, any other folder by its
depth below the table, ``partition_0``, ``partition_1``... (the names Glue users know).

Files and folders whose name starts with ``_`` or ``.`` (``_SUCCESS``, ``_temporary``,
``.hidden``), checksum files (``.crc``) and empty files are not data and are left out, with the
reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lakegate.names import identifier

# A folder name that is a value, not a name: numbers and dates, as date-based layouts use.
_VALUE = re.compile(r"\d[\d\-_.:T]*")


@dataclass(frozen=True)
class Placed:
    """One data file, placed."""

    key: str  # below the crawled prefix
    table: str  # a legal identifier
    table_path: str  # its folders below the prefix, e.g. "sales/orders"
    partition: tuple[tuple[str, str], ...]  # (key, value) in folder order


@dataclass
class Layout:
    tables: dict[str, list[Placed]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, why)


def not_data(key: str, size: int) -> str:
    """Why an object is not a data file (``""`` when it is one)."""
    parts = key.split("/")
    hidden = next((p for p in parts if p.startswith(("_", "."))), None)
    if hidden is not None:
        return f"{hidden!r} starts with _ or . (by convention not data: _SUCCESS, _temporary, .hidden)"
    if key.endswith((".crc", "$folder$")):
        return "a checksum or folder marker"
    if size == 0:
        return "empty"
    return ""


def partition_of(folders: list[str]) -> tuple[tuple[str, str], ...]:
    """Partition keys and values of the folders below a table."""
    out: list[tuple[str, str]] = []
    for depth, folder in enumerate(folders):
        name, eq, value = folder.partition("=")
        generic = f"partition_{depth}"
        key = (identifier(name) or generic) if eq else generic
        if any(key == k for k, _ in out):
            key = f"{key}_{depth}"  # the same key twice (x=1/x=2): the second by its depth
        out.append((key, value if eq else folder))
    return tuple(out)


def table_folders(folders: list[str], level: int | None) -> int:
    """How many of a file's folders name its table."""
    if level is not None:
        return min(level, len(folders))
    for depth, folder in enumerate(folders):
        if "=" in folder or _VALUE.fullmatch(folder):
            return depth
    return len(folders)


def place(key: str, level: int | None, root: str) -> Placed:
    """Where one file (``key`` below the prefix) goes; ``root`` names a table of files at the top."""
    folders = key.split("/")[:-1]
    depth = table_folders(folders, level)
    path = "/".join(folders[:depth])
    table = identifier("_".join(folders[:depth])) or identifier(root) or "data"
    return Placed(key, table, path, partition_of(folders[depth:]))


def discover(objects: list[tuple[str, int]], *, level: int | None = None, root: str = "data") -> Layout:
    """Place every object (key below the prefix, size) in a table, or say why it is left out.

    Within a table, files must share one list of partition keys: files laid out otherwise are
    left out with the layout the others have, rather than making a table no query could read.
    """
    layout = Layout()
    by_table: dict[str, list[Placed]] = {}
    for key, size in objects:
        why = not_data(key, size)
        if why:
            layout.skipped.append((key, why))
            continue
        placed = place(key, level, root)
        by_table.setdefault(placed.table, []).append(placed)
    for table, files in sorted(by_table.items()):
        shapes = Counter(tuple(k for k, _ in f.partition) for f in files)
        shape, _count = shapes.most_common(1)[0]
        paths = Counter(f.table_path for f in files)
        path, _ = paths.most_common(1)[0]
        kept = []
        for f in files:
            if f.table_path != path:
                layout.skipped.append(
                    (f.key, f"its folders {f.table_path!r} and {path!r} both name table {table}")
                )
            elif tuple(k for k, _ in f.partition) != shape:
                said = "/".join(shape) or "no partition folders"
                layout.skipped.append((f.key, f"its partition folders differ from the table's ({said})"))
            else:
                kept.append(f)
        layout.tables[table] = kept
    return layout


def siblings(layout: Layout) -> dict[str, list[str]]:
    """Tables that share a parent folder (two or more), by that folder: candidates for one table
    per compatible schema (``sales/eu``, ``sales/us`` → ``sales``)."""
    groups: dict[str, list[str]] = {}
    for table, files in layout.tables.items():
        if files and "/" in files[0].table_path:
            parent = files[0].table_path.rsplit("/", 1)[0]
            groups.setdefault(parent, []).append(table)
    return {parent: tables for parent, tables in groups.items() if len(tables) > 1}


def merge(layout: Layout, tables: list[str], parent: str) -> None:
    """Make ``tables`` (siblings under ``parent``) one table named after ``parent``: the folder
    that named each becomes the partition ``partition_0``, and their own generic partitions
    move one level down (``partition_1``...). Files keep their order."""
    name = identifier(parent.replace("/", "_")) or "data"
    merged: list[Placed] = []
    for table in tables:
        for f in layout.tables.pop(table):
            own = f.table_path.rsplit("/", 1)[1]
            shifted = tuple(
                (
                    f"partition_{int(k.removeprefix('partition_')) + 1}"
                    if re.fullmatch(r"partition_\d+", k)
                    else k,
                    v,
                )
                for k, v in f.partition
            )
            merged.append(Placed(f.key, name, parent, (("partition_0", own), *shifted)))
    layout.tables.setdefault(name, [])
    layout.tables[name] = sorted(layout.tables[name] + merged, key=lambda f: f.key)
