"""``size``: the file's size in bytes is within ``min`` and ``max``."""

from __future__ import annotations

from typing import Any

from lakegate.ingest.rules import Facts, Finding


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    low, high = params.get("min"), params.get("max")
    if low is not None and facts.size < low:
        return Finding(f"the file has {facts.size} bytes, fewer than {low}", {"size": facts.size, "min": low})
    if high is not None and facts.size > high:
        return Finding(
            f"the file has {facts.size} bytes, more than {high}", {"size": facts.size, "max": high}
        )
    return None
