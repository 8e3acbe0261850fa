"""``required_columns`` and ``allowed_columns``: the file's columns against a list.

Names are compared as lakegate names them (lowercase, ``[a-z0-9_]``), so ``Order ID`` in a
header satisfies ``order_id``.
"""

from __future__ import annotations

from typing import Any

from lakegate.ingest.rules import Facts, Finding
from lakegate.names import identifier


def _names(params: dict[str, Any]) -> list[str]:
    return [identifier(str(c)) for c in params.get("columns", [])]


def required(params: dict[str, Any], facts: Facts) -> Finding | None:
    present = {c.name for c in facts.plan.columns}
    missing = [c for c in _names(params) if c not in present]
    if missing:
        return Finding(f"required columns are missing: {', '.join(missing)}", {"missing_columns": missing})
    return None


def allowed(params: dict[str, Any], facts: Facts) -> Finding | None:
    known = set(_names(params))
    extra = [c.original for c in facts.plan.columns if c.name not in known]
    if extra:
        return Finding(f"columns not in the dataset's list: {', '.join(extra)}", {"extra_columns": extra})
    return None
