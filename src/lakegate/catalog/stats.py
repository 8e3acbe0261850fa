"""Statistics of a partition or a table, from its files' own: rows, bytes, files, and per column
the minimum, maximum and null count (known only when every file knows it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lakegate.catalog.records import FileRecord


@dataclass
class Summary:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)  # min, max, nulls


_UNSET, _UNKNOWN = object(), object()


def _combine(acc: Any, value: Any, pick: Any) -> Any:
    if acc is _UNKNOWN or value is None:
        return _UNKNOWN
    if acc is _UNSET:
        return value
    if type(acc) is not type(value):  # typed differently by files before the column widened
        return _UNKNOWN
    return pick(acc, value)


def _value(stat: Any, typ: str) -> Any:
    """A statistic as a value that compares right: decimals are kept as text, exactly."""
    return Decimal(stat) if typ.startswith("DECIMAL") and isinstance(stat, str) else stat


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def summarize(files: list[FileRecord], columns: list[str]) -> Summary:
    """What ``files`` hold together; a file without a column counts its rows as that column's nulls."""
    out = Summary(len(files), sum(f.row_count for f in files), sum(f.size for f in files))
    for name in columns:
        nulls: int | None = 0
        low: Any = _UNSET
        high: Any = _UNSET
        for f in files:
            if name not in {c.name for c in f.columns}:
                nulls = None if nulls is None else nulls + f.row_count
                continue
            mine = f.stats.get(name, {})
            nulls = None if nulls is None or "nulls" not in mine else nulls + mine["nulls"]
            if mine.get("nulls") == f.row_count:
                continue  # only nulls here: no bound to give
            typ = next(c.type for c in f.columns if c.name == name)
            low = _combine(low, _value(mine.get("min"), typ), min)
            high = _combine(high, _value(mine.get("max"), typ), max)
        found = {"nulls": nulls, "min": _json(low), "max": _json(high)}
        out.columns[name] = {
            k: v for k, v in found.items() if v is not None and v is not _UNSET and v is not _UNKNOWN
        }
    return out


def by_partition(files: list[FileRecord]) -> dict[str, list[FileRecord]]:
    """Files grouped by partition path (``dt=2026-01-01/region=eu``; ``""`` unpartitioned)."""
    groups: dict[str, list[FileRecord]] = {}
    for f in files:
        groups.setdefault("/".join(f"{k}={v}" for k, v in f.partition.items()), []).append(f)
    return dict(sorted(groups.items()))
