"""``header``: a CSV file starts with a header row (JSON and Parquet always name their columns).

Without one, columns are named ``col1``, ``col2``… and a file that differs only in column
order would land its values in the wrong columns; datasets whose senders must name their
columns declare this rule.
"""

from __future__ import annotations

from typing import Any

from lakegate.ingest.rules import Facts, Finding


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    if facts.plan.format != "csv" or facts.plan.options.get("header", True):
        return None
    names = [c.name for c in facts.plan.columns]
    return Finding(
        "the file has no header row: its first row holds data, so its columns would be named "
        + ", ".join(names[:3])
        + ("…" if len(names) > 3 else ""),
        {"columns": names},
    )
