"""A file held to its table's schema policy before it is taken, naming the values that break it.

``crawler.evolve.admit`` decides from the columns alone; when it refuses a type change, this
reads the file once more to say which values would not read as the table's type and in which
rows (``amount from BIGINT to VARCHAR: 'n/a' (row 3)``), so the provider can fix exactly them.
"""

from __future__ import annotations

from typing import Any

from lakegate.duck.readers import FilePlan
from lakegate.errors import Rejection
from lakegate.ingest.rules import Content, ValueTest
from lakegate.ingest.rules import types as types_rule
from lakegate.ingest.rules import values as value_checks
from lakegate.schema import Column, admit
from lakegate.types import parse_type

_NESTED = ("STRUCT", "LIST", "MAP")


def admit_file(
    conn: Any,
    readable: str,
    plan: FilePlan,
    schema: tuple[list[Column], int] | None,
    policy: str,
) -> None:
    """Raises: Rejection (see ``admit``), with the offending values of a refused type change."""
    if schema is None:
        return
    table, version = schema
    try:
        admit(table, plan.columns, version + 1, policy)
    except Rejection as rejection:
        if rejection.code != "reject.schema.type_change":
            raise
        raise _with_values(rejection, Content(conn, readable), plan) from None


def _with_values(rejection: Rejection, content: Content, plan: FilePlan) -> Rejection:
    widened: list[dict[str, Any]] = [dict(w) for w in rejection.details.get("widened", [])]
    file_types = {c.name: c.type for c in plan.columns}
    tests: list[tuple[int, ValueTest, int]] = []
    for i, w in enumerate(widened):
        w["file_type"] = file_types.get(w["column"])
        if parse_type(w["from"]).name in _NESTED or w["column"] not in file_types:
            continue
        try:  # the `types` rule's test: which values do not read as the table's type
            made = types_rule.tests({"types": {w["column"]: w["from"]}}, file_types)
        except ValueError:
            continue  # a type that rule does not check
        tests += [(i, test, -1) for test in made]
    found = value_checks.measure(content, plan, tests) if tests else {}
    notes = []
    for i, w in enumerate(widened):
        finding = found.get(i)
        failure = (finding.details.get("failures") or [{}])[0] if finding else {}
        if failure.get("values"):
            w |= {
                "values": failure["values"],
                "rows": failure.get("rows", []),
                "failing_rows": failure.get("failing_rows"),
            }
            notes.append(finding.message if finding else "")
        elif w["file_type"]:
            notes.append(f"the file reads {w['column']} as {w['file_type']}")
    message = rejection.message + (f" — {'; '.join(n for n in notes if n)}" if notes else "")
    return Rejection(
        message, code=rejection.code, hint=rejection.hint, details={**rejection.details, "widened": widened}
    )
