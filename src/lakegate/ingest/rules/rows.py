"""``rows``: the number of data rows is within ``min`` and ``max``."""

from __future__ import annotations

from typing import Any

from lakegate.ingest.rules import Facts, Finding


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    rows, low, high = facts.plan.rows, params.get("min"), params.get("max")
    if low is not None and rows < low:
        return Finding(f"the file has {rows} rows, fewer than {low}", {"rows": rows, "min": low})
    if high is not None and rows > high:
        return Finding(f"the file has {rows} rows, more than {high}", {"rows": rows, "max": high})
    return None
