"""Turning delivered names (folders, CSV headers, JSON keys) into SQL identifiers.

The rule, documented for users: lowercase; every character outside ``[a-z0-9_]`` becomes ``_``;
a name starting with a digit gets a leading ``_``; an empty name becomes ``col<N>`` (its
1-based position); repeated names in one file get ``_2``, ``_3``… The original is always kept.
"""

from __future__ import annotations

import re
import unicodedata

_ILLEGAL = re.compile(r"[^a-z0-9_]")


def identifier(name: str) -> str:
    """One folder or column name as a legal identifier (may be empty for an empty name)."""
    text = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode("ascii")
    text = _ILLEGAL.sub("_", text.lower())
    if text and text[0].isdigit():
        text = "_" + text
    return text


def column_names(originals: list[str]) -> list[str]:
    """Normalized, unique column names for one file's columns, in order."""
    out: list[str] = []
    seen: set[str] = set()
    for position, original in enumerate(originals, start=1):
        base = identifier(original) or f"col{position}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out
