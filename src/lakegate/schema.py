"""Joining a file's columns into its table's schema.

``merge``: a column the table lacks is appended (older files read NULL); a column whose types
disagree widens along the type lattice (``types.join``); a column missing from the file reads
NULL. Columns are matched by normalized name, never by position, so data is never shifted into
the wrong column.

``admit`` holds a file to its table's policy. The default, ``evolve``, takes new columns and
widenings within a family (integers → DOUBLE, DATE → TIMESTAMP), but refuses a file that would
turn a typed column into text (one ``n/a`` would otherwise break ``sum(amount)`` for everyone)
or that shares no column with its table (a stray ``notes.txt``). ``loose`` takes both;
``add_only`` never changes a column's type; ``freeze`` changes nothing once the first file has
made the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakegate.errors import Rejection
from lakegate.types import DType, join_text, parse_type

POLICIES = ("evolve", "loose", "add_only", "freeze")


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


def to_text(old: str, new: str) -> bool:
    """Whether widening ``old`` to ``new`` turns typed values into text (at any depth)."""
    return _to_text(parse_type(old), parse_type(new))


def _to_text(old: DType, new: DType) -> bool:
    if old.name in ("VARCHAR", "NULL", "JSON"):  # JSON is text already (an empty list's elements)
        return False
    if new.name == "VARCHAR":
        return True
    if old.name == new.name == "STRUCT":
        fields = dict(new.fields)
        return any(_to_text(t, fields[n]) for n, t in old.fields if n in fields)
    if old.name == new.name == "LIST":
        assert old.element is not None and new.element is not None
        return _to_text(old.element, new.element)
    return False


def admit(table: list[Column], file_columns: list[Column], next_version: int, policy: str) -> SchemaChange:
    """``merge``, refused when the change goes beyond what the table's ``policy`` allows.

    Raises:
        Rejection: ``reject.schema.disjoint`` (``evolve``, ``add_only``: no column in common),
            ``reject.schema.type_change`` (``evolve``: a typed column would become text;
            ``add_only``: a type would widen) or ``reject.schema.frozen`` (``freeze``: a
            column would be added or widened).
    """
    change = merge(table, file_columns, next_version)
    if not table or policy == "loose":
        return change
    names = {c.name for c in table}
    if policy in ("evolve", "add_only") and file_columns and not names & {c.name for c in file_columns}:
        raise Rejection(
            f"the file shares no column with its table ({_names(file_columns)} against {_names(table)}): "
            "it is probably not a delivery of this table",
            code="reject.schema.disjoint",
            hint="deliver it to its own table, or give it the table's column names (a header row); "
            "set the dataset's schema_evolution: loose to take such files",
            details={"file_columns": [c.name for c in file_columns], "table_columns": sorted(names)},
        )
    if not change.changed or (policy == "evolve" and not any(to_text(a, b) for _c, a, b in change.widened)):
        return change
    widened = [f"{c} from {a} to {b}" for c, a, b in change.widened]
    if policy == "evolve":
        texts = [(c, a, b) for c, a, b in change.widened if to_text(a, b)]
        raise Rejection(
            "the file would turn typed columns into text ("
            + "; ".join(f"{c} from {a} to {b}" for c, a, b in texts)
            + "): queries that use them as such would fail for everyone",
            code="reject.schema.type_change",
            hint="fix the values in the file and deliver it again, or set the dataset's "
            "schema_evolution: loose (then replay it) if the column really holds text",
            details={"widened": [{"column": c, "from": a, "to": b} for c, a, b in texts]},
        )
    if policy == "add_only" and widened:
        raise Rejection(
            f"the file would change column types ({'; '.join(widened)}), and the dataset's schema "
            "evolution is add_only",
            code="reject.schema.type_change",
            hint="deliver the columns with their table's types, or set schema_evolution: evolve and replay",
            details={"widened": change.diff()["widened"]},
        )
    if policy == "freeze":
        what = [f"new columns {', '.join(change.added)}"] if change.added else []
        what += [f"types widened ({'; '.join(widened)})"] if widened else []
        raise Rejection(
            f"the file does not fit its table's frozen schema: {' and '.join(what)}",
            code="reject.schema.frozen",
            hint="deliver the file with the table's columns, or change schema_evolution and replay",
            details=change.diff(),
        )
    return change


def _names(cols: list[Column], shown: int = 5) -> str:
    names = [c.name for c in cols]
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def compare(old: list[Column], new: list[Column]) -> dict[str, Any]:
    """What changed from one version of a table's columns to another: added, removed, retyped."""
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    return {
        "added": [c.name for c in new if c.name not in before],
        "removed": [c.name for c in old if c.name not in after],
        "widened": [
            {"column": c.name, "from": before[c.name].type, "to": c.type}
            for c in new
            if c.name in before and before[c.name].type != c.type
        ],
    }


def describe_change(change: dict[str, Any]) -> str:
    """A delivery's schema change in one line: ``schema v3: + coupon VARCHAR, ~ amount BIGINT → DOUBLE``."""
    lines = describe_diff(change.get("diff") or {}, change.get("types"))
    return f"schema v{change.get('version')}: {', '.join(lines)}"


def describe_diff(diff: dict[str, Any], columns: dict[str, str] | None = None) -> list[str]:
    """A diff as lines people read: ``+ note VARCHAR``, ``~ amount BIGINT → DOUBLE``, ``- old``."""
    types = columns or {}
    lines = [f"+ {name} {types.get(name, '')}".rstrip() for name in diff.get("added", [])]
    lines += [
        f"~ {w['column']} {w['from']} → {w['to']}" + (" (now text)" if to_text(w["from"], w["to"]) else "")
        for w in diff.get("widened", [])
    ]
    lines += [f"- {name}" for name in diff.get("removed", [])]
    lines += [f"+ partition key {k}" for k in diff.get("partition_keys_added", [])]
    return lines
