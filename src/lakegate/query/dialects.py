"""Athena (Trino) SQL, translated to DuckDB with the same meaning — or refused.

sqlglot transpiles most of Trino's SQL. What it leaves with another meaning is fixed here, with
the table schemas from the catalog: a division of two integers truncates in Trino (``7 / 2`` is
3), so it becomes DuckDB's integer division; ``regexp_replace`` back-references are ``$1`` in
Trino and ``\\1`` in DuckDB; ``format_datetime`` and ``parse_datetime`` take Joda-Time patterns
(``yyyy-MM-dd HH:mm``), translated to strftime ones. Anything that cannot be translated with the
same semantics — ``"$path"``, a division whose operands' types are unknown, a Joda letter with no
strftime twin, a construct sqlglot cannot write for DuckDB — is refused with
``guard.dialect``, never run differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from lakegate.errors import GuardError

DIALECTS = ("duckdb", "athena", "trino")

# Joda-Time pattern letters (longest first) and their strftime twins
_JODA = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSSSSS", "%f"), ("SSS", "%g"),
    ("EEEE", "%A"), ("EEE", "%a"), ("a", "%p"), ("ZZ", "%z"), ("Z", "%z"), ("z", "%Z"),
    ("M", "%-m"), ("d", "%-d"), ("H", "%-H"), ("h", "%-I"), ("m", "%-M"), ("s", "%-S"),
]  # fmt: skip
_INTEGER_NAMES = (
    "TINYINT",
    "SMALLINT",
    "INT",
    "BIGINT",
    "INT128",
    "UTINYINT",
    "USMALLINT",
    "UINT",
    "UBIGINT",
)
_INTEGERS = {exp.DataType.Type[name] for name in _INTEGER_NAMES if name in exp.DataType.Type.__members__}

# How sqlglot reads Trino's parse_datetime and format_datetime (Joda patterns), when it has nodes for them
_PARSE_NODES = tuple(getattr(exp, n) for n in ("ParseDatetime",) if hasattr(exp, n))
_JODA_NODES = _PARSE_NODES + tuple(getattr(exp, n) for n in ("FormatDatetime",) if hasattr(exp, n))

# database -> table -> column -> type, for the tables a query names
Schemas = dict[str, dict[str, dict[str, str]]]


def _refuse(what: str, hint: str) -> GuardError:
    return GuardError(
        f"{what}, which lakegate cannot run with Athena's meaning", code="guard.dialect", hint=hint
    )


def joda_to_strftime(pattern: str) -> str:
    """A Joda-Time pattern as a strftime one. Raises: GuardError ``guard.dialect``."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":  # quoted text; '' is a quote, inside quoted text too
            if pattern.startswith("''", i):
                out.append("'")
                i += 2
                continue
            j, text = i + 1, []
            while True:
                if j >= len(pattern):
                    raise _refuse(f"the pattern {pattern!r} has a quote that never closes", "close the quote")
                if pattern.startswith("''", j):
                    text.append("'")
                    j += 2
                elif pattern[j] == "'":
                    break
                else:
                    text.append(pattern[j])
                    j += 1
            out.append("".join(text).replace("%", "%%"))
            i = j + 1
            continue
        for joda, strf in _JODA:
            if pattern.startswith(joda, i):
                out.append(strf)
                i += len(joda)
                break
        else:
            char = pattern[i]
            if char.isalpha():
                raise _refuse(
                    f"the Joda pattern letter {char!r} (in {pattern!r})",
                    "use yyyy MM dd HH mm ss and the like",
                )
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def referenced(tree: exp.Expression) -> set[tuple[str, str]]:
    return {(t.db.lower(), t.name.lower()) for t in tree.find_all(exp.Table) if t.db}


# long: one rewrite per Athena construct, in the order they must apply; each is a few lines
def to_duckdb(sql: str, dialect: str, schemas_for: Callable[[set[tuple[str, str]]], Schemas]) -> str:
    """``sql`` in ``dialect`` as DuckDB SQL with the same meaning.

    ``schemas_for`` gives the column types of the catalog tables it names (those the caller may
    read; others are left out and refused later as unknown).

    Raises:
        GuardError: ``guard.dialect`` for what cannot be translated, ``guard.syntax``.
    """
    if dialect == "duckdb":
        return sql
    if dialect not in DIALECTS:
        raise GuardError(
            f"unknown dialect {dialect!r}", code="guard.dialect", hint=f"use {', '.join(DIALECTS)}"
        )
    try:
        trees = sqlglot.parse(sql, read="trino")
    except (ParseError, TokenError) as exc:
        raise GuardError(
            f"syntax error (Athena SQL): {str(exc).splitlines()[0]}", code="guard.syntax"
        ) from None
    if len(trees) != 1 or trees[0] is None:
        raise GuardError(
            "one statement at a time", code="guard.multiple_statements", hint="send them one by one"
        )
    tree = cast(exp.Expression, trees[0])
    for column in tree.find_all(exp.Column):
        if column.name.lower() == "$path":
            raise _refuse('"$path" (files are not exposed to queries)', "leave it out")
    schemas: dict[str, Any] = dict(schemas_for(referenced(tree)))
    try:
        typed = annotate_types(
            qualify(tree.copy(), schema=schemas, dialect="trino", validate_qualify_columns=False),
            schema=schemas,
        )
    except (OptimizeError, SqlglotError):
        typed = annotate_types(tree.copy())
    divisions = list(typed.find_all(exp.Div))
    for original, checked in zip(tree.find_all(exp.Div), divisions, strict=False):
        kinds = [_kind(checked.this), _kind(checked.expression)]
        if all(k == "integer" for k in kinds):
            original.replace(exp.IntDiv(this=original.this.copy(), expression=original.expression.copy()))
        elif "unknown" in kinds:
            raise _refuse(
                f"the division {original.sql(dialect='trino')} (its operands' types are not known)",
                "cast an operand to DOUBLE (a fraction) or BIGINT (a truncated quotient)",
            )
    for regexp in list(tree.find_all(exp.RegexpReplace)):
        replacement = regexp.args.get("replacement")
        if replacement is not None:
            if not isinstance(replacement, exp.Literal):
                raise _refuse("regexp_replace with a computed replacement", "use a literal replacement")
            text = re.sub(r"\$(\d)", r"\\\1", replacement.this)
            regexp.set("replacement", exp.Literal.string(text))
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "format_datetime":
            value, pattern = _two(call, "format_datetime")
            call.replace(
                exp.Anonymous(
                    this="strftime", expressions=[value, exp.Literal.string(joda_to_strftime(pattern))]
                )
            )
        elif call.name.lower() == "parse_datetime":
            value, pattern = _two(call, "parse_datetime")
            call.replace(
                exp.Anonymous(
                    this="strptime", expressions=[value, exp.Literal.string(joda_to_strftime(pattern))]
                )
            )
    for node in list(tree.find_all(*_JODA_NODES)) if _JODA_NODES else []:
        fmt = node.args.get("format")
        if not isinstance(fmt, exp.Literal):
            raise _refuse(
                "parse_datetime or format_datetime without a literal pattern", "give the pattern as a string"
            )
        function = "strptime" if isinstance(node, _PARSE_NODES) else "strftime"
        node.replace(
            exp.Anonymous(
                this=function, expressions=[node.this.copy(), exp.Literal.string(joda_to_strftime(fmt.this))]
            )
        )
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise _refuse(
            f"this query ({str(exc).splitlines()[0]})", "write it in DuckDB SQL (dialect duckdb)"
        ) from None


def _two(call: exp.Anonymous, name: str) -> tuple[exp.Expression, str]:
    args = call.expressions
    if len(args) != 2 or not isinstance(args[1], exp.Literal):
        raise _refuse(f"{name} without a literal pattern", "give the pattern as a string literal")
    return args[0].copy(), str(args[1].this)


def _kind(node: Any) -> str:
    dtype = getattr(node, "type", None)
    if dtype is None or dtype.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
        return "unknown"
    return "integer" if dtype.this in _INTEGERS else "other"
