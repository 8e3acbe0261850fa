"""Golden SQL files: blocks separated by a line holding only "--", each a statement then
"=> " and what it becomes; lines starting with "-- " are comments."""

from __future__ import annotations

from pathlib import Path


def golden_pairs(path: Path) -> list[tuple[str, str]]:
    text = "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("-- ")
    )
    out = []
    for block in text.split("\n--\n"):
        given, _, expected = block.strip("\n").partition("\n=> ")
        out.append((given, expected))
    return out
