"""Glue's partition ``Expression``: a SQL predicate over the partition keys, whose values are
strings (``dt = '2026-11-01' AND region IN ('EU', 'US')``, ``dt BETWEEN '2026-11' AND '2026-12'``,
``region LIKE 'E%'``, ``NOT``, ``OR``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``IS [NOT] NULL``).

Parsed with sqlglot and evaluated here, never by an engine: a name that is not a partition key,
or anything but a comparison of keys and literals, is refused.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakegate.errors import LakegateError

_COMPARE: dict[type[exp.Expr], Callable[[str, str], bool]] = {
    exp.EQ: operator.eq, exp.NEQ: operator.ne, exp.GT: operator.gt,
    exp.GTE: operator.ge, exp.LT: operator.lt, exp.LTE: operator.le,
}  # fmt: skip


def _refused(expression: str, why: str) -> LakegateError:
    return LakegateError(
        f"the partition Expression {expression[:200]!r} cannot be used: {why}",
        code="aws.bad_request",
        hint="compare partition keys with string literals: dt = '2026-11-01' AND region IN ('EU')",
    )


@lru_cache(maxsize=256)
def parse(expression: str) -> exp.Expr:
    """Raises: LakegateError ``aws.bad_request`` when it is not one predicate."""
    try:
        found = [e for e in sqlglot.parse(expression, read="hive") if e is not None]
    except (ParseError, TokenError) as exc:
        raise _refused(expression, str(exc).splitlines()[0]) from None
    if len(found) != 1:
        raise _refused(expression, "it is not one predicate")
    return found[0]


def matches(expression: str, keys: list[str], values: dict[str, str]) -> bool:
    """Whether a partition (its ``values`` by key) satisfies ``expression``.

    Raises: LakegateError ``aws.bad_request``."""
    known = {k.lower(): k for k in keys}
    return bool(_truth(parse(expression), expression, known, values))


def _value(node: exp.Expr, expression: str, known: dict[str, str], values: dict[str, str]) -> Any:
    if isinstance(node, exp.Paren):
        return _value(node.this, expression, known, values)
    if isinstance(node, exp.Column):
        key = known.get(node.name.lower())
        if key is None or node.table:
            raise _refused(expression, f"{node.sql()} is not a partition key ({', '.join(known.values())})")
        return values.get(key)
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + str(node.this.this)
    if isinstance(node, exp.Null):
        return None
    raise _refused(expression, f"{node.sql()} is neither a partition key nor a literal")


def _truth(node: exp.Expr, expression: str, known: dict[str, str], values: dict[str, str]) -> bool | None:
    def value(n: exp.Expr) -> Any:
        return _value(n, expression, known, values)

    def truth(n: exp.Expr) -> bool | None:
        return _truth(n, expression, known, values)

    if isinstance(node, exp.Paren):
        return truth(node.this)
    if isinstance(node, exp.And):
        left, right = truth(node.left), truth(node.right)
        return False if left is False or right is False else (None if None in (left, right) else True)
    if isinstance(node, exp.Or):
        left, right = truth(node.left), truth(node.right)
        return True if left or right else (None if None in (left, right) else False)
    if isinstance(node, exp.Not):
        inner = truth(node.this)
        return None if inner is None else not inner
    if isinstance(node, exp.Is):
        return value(node.this) is None
    for kind, compare in _COMPARE.items():
        if isinstance(node, kind):
            a, b = value(node.this), value(node.expression)
            return None if a is None or b is None else bool(compare(a, b))
    if isinstance(node, exp.In):
        a = value(node.this)
        return None if a is None else a in [value(e) for e in node.expressions]
    if isinstance(node, exp.Between):
        a, low, high = value(node.this), value(node.args["low"]), value(node.args["high"])
        return None if None in (a, low, high) else low <= a <= high
    if isinstance(node, exp.Like):
        a, pattern = value(node.this), value(node.expression)
        return None if a is None or pattern is None else _like(pattern).fullmatch(a) is not None
    raise _refused(expression, f"{node.sql()} is not a comparison")


@lru_cache(maxsize=256)
def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.S)
