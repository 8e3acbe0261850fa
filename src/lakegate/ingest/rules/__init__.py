"""Validation rules a dataset declares, one small module per check.

Two kinds of check:

* **summary checks** look at what the pipeline already knows about a file — its key, size,
  arrival time, sniffed format, inferred columns and row count — and cost nothing;
* **value checks** (``types``, ``not_null``, ``unique``, ``allowed_values``, ``regex``, ``range``,
  and ``encoding: [ascii]``) describe the rows they find fault with as SQL. All of one file's
  value checks run together in a single streaming query (``values.measure``), which also
  numbers the rows, so a finding can say *which* rows fail.

A finding of a rule with severity ``reject`` quarantines the file (``reject.rule.<check>``); with
``warn`` the file is accepted and the warning is recorded with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakegate.crawler.detect import Detected
from lakegate.duck.readers import FilePlan


@dataclass(frozen=True)
class Content:
    """Where a value check reads the file: an engine connection and the file's path or URL."""

    conn: Any
    path: str


@dataclass(frozen=True)
class Facts:
    """What a rule may look at."""

    key: str
    size: int
    detected: Detected
    plan: FilePlan
    arrival: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # when it landed, zoned
    fields: dict[str, Any] = field(default_factory=dict)  # what the dataset's key template captured
    content: Content | None = None
    now: dt.datetime | None = None  # when it is judged (None: the clock)


@dataclass(frozen=True)
class Finding:
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValueTest:
    """One thing a value check looks for, as SQL over the file's columns (by lakegate name).

    ``bad`` is true for a row that fails (it may use window functions); ``describe`` words the
    finding from the number of failing rows and the most frequent failing ``example`` values.
    ``always`` is a finding even when no row fails (a column missing, a type that cannot fit).
    ``screen`` is an aggregate that is above 0 exactly when some row fails, for tests whose
    ``bad`` needs a window (the first, parallel pass cannot number or partition rows).
    """

    bad: str
    describe: Callable[[int, list[str]], str]
    example: str = "NULL"
    column: str | None = None
    always: str | None = None
    screen: str | None = None


Check = Callable[[dict[str, Any], Facts], Finding | None]
ValueCheck = Callable[[dict[str, Any], dict[str, str]], list[ValueTest]]


def checks() -> dict[str, Check]:
    """Every summary check by the name a dataset's rule uses."""
    from lakegate.ingest.rules import age, columns, encoding, extension, header, rows, size

    return {
        "size": size.check,
        "extension": extension.check,
        "age": age.check,
        "encoding": encoding.check,
        "header": header.check,
        "required_columns": columns.required,
        "allowed_columns": columns.allowed,
        "rows": rows.check,
    }


def value_checks() -> dict[str, ValueCheck]:
    """Every value check by name: each returns the tests its rule makes for a file's columns."""
    from lakegate.ingest.rules import allowed_values, encoding, not_null, range, regex, types, unique

    return {
        "types": types.tests,
        "not_null": not_null.tests,
        "unique": unique.tests,
        "allowed_values": allowed_values.tests,
        "regex": regex.tests,
        "range": range.tests,
        "encoding": encoding.tests,
    }


def value_tests(rules: list[dict[str, Any]], columns: dict[str, str]) -> list[tuple[int, ValueTest]]:
    """The tests of every value check among ``rules`` (by rule index), for a file's columns."""
    by_value = value_checks()
    return [
        (i, t)
        for i, rule in enumerate(rules)
        if rule["check"] in by_value
        for t in by_value[rule["check"]](rule, columns)
    ]


def screen_sql(tests: list[tuple[int, ValueTest]]) -> list[str]:
    """One aggregate per test, above 0 exactly when a row fails it (for the crawler's full read)."""
    return [t.screen or f"count(*) FILTER (WHERE {t.bad})" for _i, t in tests]


def evaluate(rules: list[dict[str, Any]], facts: Facts) -> list[tuple[dict[str, Any], Finding | None]]:
    """Every rule with its finding (``None``: it passes), in the rules' order.

    Value checks use the counts the crawler's read computed (``plan.screened``) when it did;
    otherwise they read the file themselves.
    """
    from lakegate.ingest.rules import values

    summary = checks()
    found: dict[int, Finding] = {}
    for i, rule in enumerate(rules):
        finding = summary[rule["check"]](rule, facts) if rule["check"] in summary else None
        if finding is not None:
            found[i] = finding
    tests = value_tests(rules, {c.name: c.type for c in facts.plan.columns})
    if tests and facts.content is not None:
        counts = facts.plan.screened
        if counts is None:
            counts = values.screen(facts.content, facts.plan, tests)
        pending = [(i, t, n) for (i, t), n in zip(tests, counts, strict=True) if i not in found]
        found.update(values.measure(facts.content, facts.plan, pending))
    return [(rule, found.get(i)) for i, rule in enumerate(rules)]


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def quoted_values(values: list[str]) -> str:
    """``'a', 'b'`` for a message."""
    return ", ".join(repr(v) for v in values)


def named_column(params: dict[str, Any], columns: dict[str, str]) -> tuple[str, ValueTest | None]:
    """The rule's ``column`` as lakegate names it, and a failing test when the file lacks it."""
    from lakegate.names import identifier

    name = identifier(str(params["column"]))
    return name, missing(name, columns)


def missing(column: str, columns: dict[str, str]) -> ValueTest | None:
    """A test that always fails when the rule names a column the file does not have."""
    if column in columns:
        return None
    return ValueTest("FALSE", lambda _n, _v: "", column=column, always=f"the file has no column {column}")
