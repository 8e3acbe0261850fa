"""Joining a file's columns into its table's schema.

Policy (v0: ``evolve``): a column the table lacks is appended (older files read NULL); a column
whose types disagree widens along the type lattice (``types.join``); a column missing from the
file reads NULL. Columns are matched by normalized name, never by position, so data is never
shifted into the wrong column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakegate.crawler.types import join_text


@dataclass(frozen=True)
class Column:
    name: str
    original: str
    type: str
    added_in: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "original": self.original, "type": self.type, "added_in": self.added_in}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Column:
        return cls(data["name"], data["original"], data["type"], data.get("added_in", 1))


@dataclass
class SchemaChange:
    columns: list[Column]
    added: list[str] = field(default_factory=list)
    widened: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.widened)

    def diff(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "widened": [{"column": c, "from": a, "to": b} for c, a, b in self.widened],
        }


def merge(table: list[Column], file_columns: list[Column], next_version: int) -> SchemaChange:
    """The table's columns after a file with ``file_columns`` joins it."""
    by_name = {c.name: c for c in table}
    result = SchemaChange(columns=list(table))
    positions = {c.name: i for i, c in enumerate(table)}
    for col in file_columns:
        current = by_name.get(col.name)
        if current is None:
            new = Column(col.name, col.original, col.type, next_version)
            by_name[col.name] = new
            positions[col.name] = len(result.columns)
            result.columns.append(new)
            result.added.append(col.name)
            continue
        joined = join_text(current.type, col.type)
        if joined != current.type:
            widened = Column(current.name, current.original, joined, current.added_in)
            by_name[col.name] = widened
            result.columns[positions[col.name]] = widened
            result.widened.append((col.name, current.type, joined))
    return result
