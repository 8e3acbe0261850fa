"""Which partitions a query can read, judged from its text before it runs.

A workgroup's byte limit is checked against the files a query will read, so a query that names
one day of a table partitioned by day is charged for that day only, as Athena does. The
judgement is conservative: a table reference is narrowed only by its scope's WHERE conditions
joined with AND that compare one of its partition columns (always VARCHAR) with string
literals — ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``IN``, ``BETWEEN``. Anything else
(OR, functions, casts, another column, a number) leaves that reference reading every file; so
the estimate may be larger than what DuckDB reads, never smaller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

Partition = dict[str, str]
Test = Callable[[Partition], bool]
_EVERYTHING: list[Test] = []  # a reference without conditions: every partition

_COMPARE: dict[type[exp.Expr], Callable[[str, str], bool]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
}
_FLIPPED: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.EQ: exp.EQ, exp.NEQ: exp.NEQ, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.GT: exp.LT, exp.GTE: exp.LTE,
}  # fmt: skip


def partition_tests(
    sql: str, partition_keys: dict[tuple[str, str], list[str]]
) -> dict[tuple[str, str], list[list[Test]]]:
    """For each catalog table ``(database, table)`` that has partition keys: one list of tests
    per reference to it in ``sql`` (a partition is read when it passes every test of some
    reference). A table missing from the answer, or a query that cannot be judged, reads all."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        scopes = traverse_scope(tree)
    except (SqlglotError, RecursionError, ValueError):
        return {}
    found: dict[tuple[str, str], list[list[Test]]] = {}
    for scope in scopes:
        sources = {alias: src for alias, (_node, src) in scope.selected_sources.items()}
        tables = {a: s for a, s in sources.items() if isinstance(s, exp.Table)}
        for alias, table in tables.items():
            name = (table.db.lower(), table.name.lower())
            keys = partition_keys.get(name)
            if not keys or not table.db or table.catalog:
                continue
            tests: list[Test] = []
            where = scope.expression.args.get("where") if isinstance(scope.expression, exp.Select) else None
            if where is not None:
                only = len(sources) == 1
                for condition in _conjuncts(where.this):
                    test = _test(condition, alias, only, keys)
                    if test is not None:
                        tests.append(test)
            found.setdefault(name, []).append(tests or _EVERYTHING)
    # every mention of a table must have been judged as a reference; otherwise it reads all
    mentions: dict[tuple[str, str], int] = {}
    for table in tree.find_all(exp.Table):
        name = (table.db.lower(), table.name.lower())
        mentions[name] = mentions.get(name, 0) + 1
    return {name: tests for name, tests in found.items() if len(tests) == mentions.get(name)}


def reads(tests: list[list[Test]] | None, partition: Partition) -> bool:
    """Whether a file of ``partition`` may be read under ``tests`` (``None``: no judgement)."""
    if tests is None:
        return True
    return any(all(_safe(t, partition) for t in reference) for reference in tests)


def _safe(test: Test, partition: Partition) -> bool:
    try:
        return test(partition)
    except KeyError:  # the file has no value for the key: keep it
        return True


def _conjuncts(node: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(node, exp.And):
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    elif isinstance(node, exp.Paren):
        yield from _conjuncts(node.this)
    else:
        yield node


def _key(node: exp.Expr, alias: str, only: bool, keys: list[str]) -> str | None:
    """The partition key ``node`` names, when it is a column of this reference."""
    if not isinstance(node, exp.Column) or node.args.get("db") or node.args.get("catalog"):
        return None
    qualifier = node.table
    if (qualifier and qualifier.lower() != alias.lower()) or (not qualifier and not only):
        return None
    name = node.name.lower()
    return name if name in keys else None


def _text(node: exp.Expr) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _test(condition: exp.Expr, alias: str, only: bool, keys: list[str]) -> Test | None:
    kind = type(condition)
    if kind in _COMPARE:
        left, right = condition.args.get("this"), condition.args.get("expression")
        if left is None or right is None:
            return None
        key, value = _key(left, alias, only, keys), _text(right)
        if key is None or value is None:
            key, value, kind = _key(right, alias, only, keys), _text(left), _FLIPPED[kind]
        if key is None or value is None:
            return None
        compare, k, v = _COMPARE[kind], key, value
        return lambda p: compare(p[k], v)
    if isinstance(condition, exp.In) and not condition.args.get("query"):
        key = _key(condition.this, alias, only, keys)
        values = [_text(e) for e in condition.expressions]
        if key is None or not values or any(v is None for v in values):
            return None
        members, k = set(values), key
        return lambda p: p[k] in members
    if isinstance(condition, exp.Between):
        key = _key(condition.this, alias, only, keys)
        low, high = _text(condition.args["low"]), _text(condition.args["high"])
        if key is None or low is None or high is None:
            return None
        k, lo, hi = key, low, high
        return lambda p: lo <= p[k] <= hi
    return None
