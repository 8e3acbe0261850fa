"""Where in a statement an error is, for the console to mark it in the editor.

Syntax errors from the guard say ``line L, column C``. The engine's errors refer to the statement
after lakegate rewrote it (dialect, grants), so their own positions are not the user's; instead
the name they quote (``Referenced column "nme" not found``, ``at or near "FORM"``, ``unknown
table acme.x``) is looked up in what the user wrote.
"""

from __future__ import annotations

import re

_AT = re.compile(r"\bline (\d+), column (\d+)")
_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'")
_NAMED = re.compile(r"[`']([^`'\n]{1,200})[`']")
_UNKNOWN = re.compile(r"\bunknown (?:table|column|database|function) ([\w.]+)", re.IGNORECASE)


def _place(sql: str, offset: int, length: int) -> dict[str, int]:
    before = sql[:offset]
    return {"line": before.count("\n") + 1, "column": offset - (before.rfind("\n") + 1) + 1, "length": length}


def locate(sql: str, message: str | None) -> dict[str, int] | None:
    """``{"line", "column", "length"}`` (1-based; ``length`` of the name found, 0 if none) of
    the error ``message`` in ``sql``, or ``None`` when the message names nothing found there."""
    if not message:
        return None
    at = _AT.search(message)
    if at:
        line, column = int(at.group(1)), int(at.group(2))
        if 1 <= line <= sql.count("\n") + 1:
            # the name lakegate's message quotes (`nme`, 'shop.order') when it stands there
            here = sql.splitlines()[line - 1][max(1, column) - 1 :] if sql.splitlines() else ""
            length = next(
                (len(n) for n in _NAMED.findall(message) if n and here.lower().startswith(n.lower())), 0
            )
            return {"line": line, "column": max(1, column), "length": length}
    names = [m.group(1) or m.group(2) for m in _QUOTED.finditer(message)]
    names += [m.group(1) for m in _UNKNOWN.finditer(message)]
    for name in names:
        for candidate in (name, name.rsplit(".", 1)[-1]):
            word = re.escape(candidate)
            found = re.search(rf"(?<![\w]){word}(?![\w])", sql, re.IGNORECASE)
            if found and candidate.strip():
                return _place(sql, found.start(), len(found.group(0)))
    return None
