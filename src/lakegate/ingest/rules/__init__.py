"""Validation rules a dataset declares, one small module per check.

Each check looks at what the pipeline already knows about a file (its key, size, sniffed
format, inferred columns and row count) and returns a finding or nothing. A finding of a rule
with severity ``reject`` quarantines the file (``reject.rule.<check>``); with ``warn`` the file
is accepted and the warning is recorded with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakegate.crawler.detect import Detected
from lakegate.crawler.infer import FilePlan


@dataclass(frozen=True)
class Facts:
    """What a rule may look at."""

    key: str
    size: int
    detected: Detected
    plan: FilePlan


@dataclass(frozen=True)
class Finding:
    message: str
    details: dict[str, Any] = field(default_factory=dict)


Check = Callable[[dict[str, Any], Facts], Finding | None]


def checks() -> dict[str, Check]:
    """Every check by the name a dataset's rule uses."""
    from lakegate.ingest.rules import columns, extension, rows, size

    return {
        "size": size.check,
        "extension": extension.check,
        "required_columns": columns.required,
        "allowed_columns": columns.allowed,
        "rows": rows.check,
    }
