"""Which files a query can read, judged from its text and the catalog before DuckDB opens any.

A table reference is narrowed by its scope's WHERE conditions joined with AND that compare one
of its columns with a constant — ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``IN``, ``BETWEEN``:
a partition column (always VARCHAR) with text, judged from each file's partition values; any
other column with a number, text, a date or a timestamp (``DATE '…'``, ``CAST('…' AS DATE)``,
``DATE '…' - INTERVAL 90 DAY``), judged from each file's minimum, maximum and null count. A file
whose values cannot satisfy them is left out of the query's view; it holds no row the query
returns (NULL satisfies no comparison, so a file of NULLs only, or without the column, goes too).

The judgement is conservative: OR, functions, casts of columns, another column, an unknown
statistic, a type whose order lakegate does not model (FLOAT, TIME, zoned timestamps …) leave a
reference reading every file. So the files kept may be more than DuckDB reads, never fewer.

For a table of many partitions, files are found from the partition values' sorted index, not by
testing each file: a query naming one day of 100,000 is planned in a few milliseconds.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from lakegate.catalog.records import FileRecord, TableInfo

Name = tuple[str, str]  # (database, table)
Literal = tuple[str, Any]  # ("text", str) | ("number", Decimal) | ("time", datetime)


@dataclass(frozen=True)
class Condition:
    """``column op values`` (``in``: any of them); a row with NULL there never satisfies it."""

    column: str
    op: str  # = <> < <= > >= in
    values: tuple[Literal, ...]


Reference = list[Condition]  # one mention of a table: all must hold
_EVERYTHING: Reference = []

_OPS: dict[type[exp.Expr], str] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=",
}  # fmt: skip
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
_PLAIN_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
_INTEGERS = frozenset(
    sign + size for sign in ("", "U") for size in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
)


def references(tree: exp.Expr, columns: dict[Name, set[str]]) -> dict[Name, list[Reference]]:
    """For each catalog table of ``columns`` (its column names, partition keys included) that
    ``tree`` reads: one list of conditions per reference to it (a file is read when it may hold
    a row satisfying every condition of some reference). A table missing from the answer reads
    every file."""
    try:
        scopes = traverse_scope(tree)
    except (SqlglotError, RecursionError, ValueError):
        return {}
    found: dict[Name, list[Reference]] = {}
    for scope in scopes:
        sources = {alias: src for alias, (_node, src) in scope.selected_sources.items()}
        for alias, table in sources.items():
            if not isinstance(table, exp.Table) or not table.db or table.catalog:
                continue
            name = (table.db.lower(), table.name.lower())
            if name not in columns:
                continue
            conditions: Reference = []
            where = scope.expression.args.get("where") if isinstance(scope.expression, exp.Select) else None
            if where is not None:
                only = len(sources) == 1
                for node in _conjuncts(where.this):
                    conditions += _conditions(node, alias, only, columns[name])
            found.setdefault(name, []).append(conditions)
    # every mention of a table must have been judged as a reference; otherwise it reads all
    mentions: dict[Name, int] = {}
    for table in tree.find_all(exp.Table):
        name = (table.db.lower(), table.name.lower())
        mentions[name] = mentions.get(name, 0) + 1
    return {name: refs for name, refs in found.items() if len(refs) == mentions.get(name)}


def filter_references(table: TableInfo, predicate: str | None) -> list[Reference] | None:
    """The files a row filter alone can reach, judged on partition values only (a file's column
    statistics cover rows the filter hides): what a filtered grant is charged, whatever the query."""
    if predicate is None or not table.partition_keys:
        return None
    return _filter_references(table.database, table.name, tuple(table.partition_keys), predicate)


@lru_cache(maxsize=1024)
def _filter_references(
    database: str, name: str, partition_keys: tuple[str, ...], predicate: str
) -> list[Reference] | None:
    """``filter_references``, parsed once per table and filter (queries ask again and again)."""
    table = (database.lower(), name.lower())
    try:
        tree = sqlglot.parse_one(f'SELECT 1 FROM "{database}"."{name}" WHERE {predicate}', read="duckdb")
    except (SqlglotError, ValueError):
        return None
    return references(tree, {table: {k.lower() for k in partition_keys}}).get(table)


def _conjuncts(node: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(node, exp.And):
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    elif isinstance(node, exp.Paren):
        yield from _conjuncts(node.this)
    else:
        yield node


def _column(node: exp.Expr | None, alias: str, only: bool, names: set[str]) -> str | None:
    """The column of this reference ``node`` names."""
    if not isinstance(node, exp.Column) or node.args.get("db") or node.args.get("catalog"):
        return None
    qualifier = node.table
    if (qualifier and qualifier.lower() != alias.lower()) or (not qualifier and not only):
        return None
    name = node.name.lower()
    return name if name in names else None


def _conditions(node: exp.Expr, alias: str, only: bool, names: set[str]) -> list[Condition]:
    op = _OPS.get(type(node))
    if op is not None:
        left, right = node.args.get("this"), node.args.get("expression")
        column, value = _column(left, alias, only, names), literal(right)
        if column is None or value is None:
            column, value, op = _column(right, alias, only, names), literal(left), _FLIPPED[op]
        return [] if column is None or value is None else [Condition(column, op, (value,))]
    if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("unnest"):
        column = _column(node.this, alias, only, names)
        values = [literal(e) for e in node.expressions]
        if column is None or not values or any(v is None for v in values):
            return []
        return [Condition(column, "in", tuple(v for v in values if v is not None))]
    if isinstance(node, exp.Between):
        column = _column(node.this, alias, only, names)
        low, high = literal(node.args.get("low")), literal(node.args.get("high"))
        if column is None or low is None or high is None:
            return []
        return [Condition(column, ">=", (low,)), Condition(column, "<=", (high,))]
    return []


def literal(node: exp.Expr | None) -> Literal | None:
    """A constant as lakegate compares it: text, an exact number, or a point in time (dates are
    midnight: DuckDB compares a DATE with a TIMESTAMP so)."""
    if isinstance(node, exp.Paren):
        return literal(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return ("text", node.this)
        try:
            return ("number", Decimal(node.this))
        except InvalidOperation:
            return None
    if isinstance(node, exp.Neg):
        inner = literal(node.this)
        return ("number", -inner[1]) if inner is not None and inner[0] == "number" else None
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        kind = node.to.this
        text = node.this.this.strip()
        if kind == exp.DataType.Type.DATE and _ISO_DATE.fullmatch(text):
            return _time(dt.datetime.fromisoformat(text))
        if kind in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ) and _ISO_TIME.fullmatch(
            text
        ):
            return _time(dt.datetime.fromisoformat(text))
        return None
    if isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval):
        start = literal(node.this)
        if start is None or start[0] != "time":
            return None
        return _shifted(start[1], node.expression, -1 if isinstance(node, exp.Sub) else 1)
    return None


def _time(value: dt.datetime) -> Literal | None:
    return ("time", value) if dt.datetime.min < value < dt.datetime.max else None


def _shifted(start: dt.datetime, interval: exp.Interval, sign: int) -> Literal | None:
    """``start`` plus or minus a whole number of days, weeks, months or years, as DuckDB adds
    them (a month from 31 January is the last day of February)."""
    amount = literal(interval.this)
    unit = interval.unit.name.upper() if interval.unit is not None else ""
    if amount is None or not unit:
        return None
    try:
        n = int(Decimal(str(amount[1])))
    except (InvalidOperation, ValueError):
        return None
    if Decimal(str(amount[1])) != n:
        return None
    n *= sign
    try:
        if unit in ("DAY", "DAYS"):
            return _time(start + dt.timedelta(days=n))
        if unit in ("WEEK", "WEEKS"):
            return _time(start + dt.timedelta(weeks=n))
        months = {"MONTH": 1, "MONTHS": 1, "YEAR": 12, "YEARS": 12}.get(unit)
        if months is None:
            return None
        index = start.year * 12 + start.month - 1 + n * months
        year, month = divmod(index, 12)
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return _time(start.replace(year=year, month=month + 1, day=day))
    except (ValueError, OverflowError):
        return None


# -- judging files --------------------------------------------------------------------------

_Bound = tuple[bool, Any, Any]  # (only NULLs, minimum or None, maximum or None)
_UNKNOWN: _Bound = (False, None, None)
_NULLS: _Bound = (True, None, None)


def _family(typ: str) -> str | None:
    """Types whose values lakegate orders as DuckDB does; ``None``: not judged."""
    if typ in _INTEGERS or typ == "DOUBLE" or typ.startswith("DECIMAL"):
        return "number"
    return {"DATE": "time", "TIMESTAMP": "time", "VARCHAR": "text"}.get(typ)


def _as(value: Literal, typ: str) -> Any:
    """The constant ``value`` as DuckDB compares it with a column of type ``typ`` (``None``: not
    judged)."""
    kind, v = value
    if typ == "DOUBLE":
        return float(v) if kind == "number" else None
    if typ in _INTEGERS or typ.startswith("DECIMAL"):
        return v if kind == "number" and _PLAIN_NUMBER.fullmatch(str(abs(v))) else None
    if typ in ("DATE", "TIMESTAMP"):
        if kind == "time":
            return v
        pattern = _ISO_DATE if typ == "DATE" else _ISO_TIME
        return (
            dt.datetime.fromisoformat(v.strip()) if kind == "text" and pattern.fullmatch(v.strip()) else None
        )
    if typ == "VARCHAR":
        return v if kind == "text" else None
    return None


def _stat(value: Any, typ: str) -> Any:
    """A file's statistic (catalog JSON) as a value that orders right, ``None``: unknown."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if typ in _INTEGERS:
            return value if isinstance(value, int) else None
        if typ == "DOUBLE":
            return float(value) if isinstance(value, int | float) else None
        if typ.startswith("DECIMAL"):
            return Decimal(str(value)) if isinstance(value, str | int) else None
        if typ == "DATE":
            return (
                dt.datetime.fromisoformat(value)
                if isinstance(value, str) and _ISO_DATE.fullmatch(value)
                else None
            )
        if typ == "TIMESTAMP":
            return (
                dt.datetime.fromisoformat(value)
                if isinstance(value, str) and _ISO_TIME.fullmatch(value)
                else None
            )
        if typ == "VARCHAR":
            return value if isinstance(value, str) else None
    except (ValueError, InvalidOperation):
        return None
    return None


def _may_hold(op: str, values: list[Any], low: Any, high: Any) -> bool:
    """Whether some value between ``low`` and ``high`` (either ``None``: unbounded) can satisfy
    ``op values``."""

    def within(v: Any) -> bool:
        return (low is None or low <= v) and (high is None or v <= high)

    if op in ("=", "in"):
        return any(within(v) for v in values)
    v = values[0]
    if op == "<>":
        return not (low is not None and low == high == v)
    if op == "<":
        return low is None or low < v
    if op == "<=":
        return low is None or low <= v
    if op == ">":
        return high is None or high > v
    return high is None or high >= v  # >=


class FileIndex:
    """A table's files, indexed for pruning: partition values sorted per key, column statistics
    read once. Built for one version of a table (a cached ``TableInfo``) and shared by queries.

    Given the index of an earlier version whose files the new one begins with (files arrived,
    none left), it builds on that one's work: only the new files are indexed."""

    def __init__(self, table: TableInfo, earlier: FileIndex | None = None) -> None:
        self.table = table
        self.files = table.files
        self.types = {c.name: c.type for c in table.columns}
        self.keys = set(table.partition_keys)
        self._partitions: dict[str, tuple[list[str], dict[str, list[int]], list[int]]] = {}
        self._bounds: dict[str, list[_Bound]] = {}
        self._earlier = earlier if earlier is not None and self._extends(earlier) else None
        if self._earlier is not None:  # what the earlier one built, extended now; then let it go
            for key in list(self._earlier._partitions):
                self._partition_index(key)
            for column in list(self._earlier._bounds):
                self._column_bounds(column)
            self._earlier = None

    def _extends(self, earlier: FileIndex) -> bool:
        old = earlier.files
        if len(old) > len(self.files) or earlier.types != self.types or earlier.keys != self.keys:
            return False
        head = self.files[: len(old)]
        # the same files (their content, whatever copy they have now): the same partitions and statistics
        return all(map(operator.is_, old, head)) or all(
            a.key == b.key and a.sha256 == b.sha256 for a, b in zip(old, head, strict=True)
        )

    def select(self, refs: list[Reference] | None) -> list[FileRecord]:
        """The files a query with these references may read (``None``: not judged, all)."""
        if refs is None or any(not ref for ref in refs):
            return self.files
        kept: set[int] = set()
        for ref in refs:
            judged = [(c, self._judge(c)) for c in ref]
            tests = [t for _c, t in judged if t is not None]
            candidates = self._by_partition([c for c in ref if c.column in self.keys])
            if candidates is None and not tests:
                return self.files  # nothing judged: every file
            for i in range(len(self.files)) if candidates is None else candidates:
                if i not in kept and all(test(i) for test in tests):
                    kept.add(i)
        return [self.files[i] for i in sorted(kept)]

    def _judge(self, c: Condition) -> Callable[[int], bool] | None:
        """A test of file positions for ``c`` (``None``: every file may hold it)."""
        if c.column in self.keys:
            if any(kind != "text" for kind, _v in c.values):
                return None
            values = [v for _k, v in c.values]
            files, column, op = self.files, c.column, c.op

            def in_partition(i: int) -> bool:
                value = files[i].partition.get(column)
                return value is None or _may_hold(op, values, value, value)

            return in_partition
        typ = self.types.get(c.column)
        if typ is None or _family(typ) is None:
            return None
        converted = [_as(v, typ) for v in c.values]
        if any(v is None for v in converted):
            return None
        bounds, op = self._column_bounds(c.column), c.op

        def in_range(i: int) -> bool:
            only_nulls, low, high = bounds[i]
            return not only_nulls and _may_hold(op, converted, low, high)

        return in_range

    def _column_bounds(self, column: str) -> list[_Bound]:
        found = self._bounds.get(column)
        if found is None:
            family = _family(self.types[column])
            start, found = 0, []
            if self._earlier is not None and column in self._earlier._bounds:
                found = list(self._earlier._bounds[column])
                start = len(found)
            found += [self._bound(f, column, family) for f in self.files[start:]]
            self._bounds[column] = found
        return found

    @staticmethod
    def _bound(f: FileRecord, column: str, family: str | None) -> _Bound:
        own = next((c for c in f.columns if c.name == column), None)
        if own is None:
            return _NULLS  # the file has no such column: NULL in every row
        stats = f.stats.get(column, {})
        if f.row_count == 0 or stats.get("nulls") == f.row_count:
            return _NULLS
        if _family(own.type) != family:
            return _UNKNOWN  # typed otherwise in this file: its order may not be the table's
        return (False, _stat(stats.get("min"), own.type), _stat(stats.get("max"), own.type))

    def _by_partition(self, conditions: list[Condition]) -> set[int] | None:
        """Positions of the files whose partition values may satisfy ``conditions`` (``None``:
        none of them narrows by the index: every file)."""
        allowed: dict[str, set[str]] = {}  # per key, the values every condition on it allows
        for c in conditions:
            if c.op == "<>" or any(kind != "text" for kind, _v in c.values):
                continue
            values, where, _missing = self._partition_index(c.column)
            wanted = [v for _k, v in c.values]
            if c.op in ("=", "in"):
                chosen = {v for v in wanted if v in where}
            else:
                v = wanted[0]
                cut = {"<": bisect.bisect_left, "<=": bisect.bisect_right}.get(c.op)
                if cut is not None:
                    chosen = set(values[: cut(values, v)])
                else:
                    chosen = set(
                        values[(bisect.bisect_right if c.op == ">" else bisect.bisect_left)(values, v) :]
                    )
            allowed[c.column] = chosen if c.column not in allowed else allowed[c.column] & chosen
        best: set[int] | None = None
        for key, chosen in sorted(allowed.items(), key=lambda item: len(item[1])):
            _values, where, missing = self._partition_index(key)
            found = set(missing)
            for value in chosen:
                found.update(where[value])
            best = found if best is None else best & found
        return best

    def _partition_index(self, key: str) -> tuple[list[str], dict[str, list[int]], list[int]]:
        index = self._partitions.get(key)
        if index is None:
            values: list[str] = []
            where: dict[str, list[int]] = {}
            missing: list[int] = []
            start = 0
            if self._earlier is not None and key in self._earlier._partitions:
                # the earlier index's lists are shared: extended by copies, never in place
                old_values, old_where, old_missing = self._earlier._partitions[key]
                values, where, missing = list(old_values), dict(old_where), list(old_missing)
                start = len(self._earlier.files)
            for i in range(start, len(self.files)):
                value = self.files[i].partition.get(key)
                if value is None:
                    missing.append(i)
                elif value in where:
                    where[value] = [*where[value], i]
                else:
                    where[value] = [i]
                    bisect.insort(values, value)
            index = (values, where, missing)
            self._partitions[key] = index
        return index
