"""Column types and the lattice they widen along when files disagree.

Types are DuckDB type strings (``BIGINT``, ``STRUCT("a" BIGINT, "b" VARCHAR[])``), parsed into
``DType`` trees. ``join(a, b)`` is the narrowest type both widen to without losing data:

    NULL ≤ everything                     (a column seen only empty takes the other side's type)
    TINYINT ≤ SMALLINT ≤ INTEGER ≤ BIGINT ≤ HUGEINT;  unsigned n-bit ≤ the next signed size
    any integer, FLOAT, DOUBLE, DECIMAL   → DOUBLE when they differ (DECIMAL(p,s) only joins itself)
    DATE ≤ TIMESTAMP;  TIMESTAMP_S/_MS/_NS → TIMESTAMP
    STRUCT ⊔ STRUCT   field by field; field order kept when both agree, else sorted by name
    LIST ⊔ LIST       element types joined
    anything else, and anything with VARCHAR → VARCHAR

``join`` is commutative, associative and idempotent (property-tested), so the order files
arrive in never changes a table's final schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakegate.errors import LakegateError


@dataclass(frozen=True)
class DType:
    """A parsed type: a base name, numeric parameters, and fields (STRUCT) or an element (LIST)."""

    name: str
    params: tuple[int, ...] = ()
    fields: tuple[tuple[str, DType], ...] = ()
    element: DType | None = None

    def __str__(self) -> str:
        if self.name == "LIST":
            assert self.element is not None
            return f"{self.element}[]"
        if self.name == "MAP":
            return f"MAP({self.fields[0][1]}, {self.fields[1][1]})"
        if self.name == "STRUCT":
            inner = ", ".join(f"{_quote(n)} {t}" for n, t in self.fields)
            return f"STRUCT({inner})"
        if self.params:
            return f"{self.name}({','.join(str(p) for p in self.params)})"
        return self.name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_ALIASES = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "LONG": "BIGINT",
    "INT2": "SMALLINT",
    "SHORT": "SMALLINT",
    "INT1": "TINYINT",
    "BOOL": "BOOLEAN",
    "LOGICAL": "BOOLEAN",
    "FLOAT4": "FLOAT",
    "REAL": "FLOAT",
    "FLOAT8": "DOUBLE",
    "NUMERIC": "DECIMAL",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "CHAR": "VARCHAR",
    "BPCHAR": "VARCHAR",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "TIMETZ": "TIME WITH TIME ZONE",
    "BYTEA": "BLOB",
    "BINARY": "BLOB",
    "VARBINARY": "BLOB",
}


class TypeParseError(LakegateError):
    code = "crawler.bad_type"


def parse_type(text: str) -> DType:
    """Parse a DuckDB type string.

    Raises:
        TypeParseError: for text that is not a type this module understands.
    """
    parser = _Parser(text)
    result = parser.type()
    parser.end()
    return result


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> TypeParseError:
        return TypeParseError(f"cannot parse type {self.text!r}: {what} at offset {self.pos}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def end(self) -> None:
        if self.peek():
            raise self.fail("unexpected text")

    def ident(self) -> str:
        self.skip()
        if self.peek() == '"':
            end = self.pos + 1
            out = []
            while end < len(self.text):
                if self.text[end] == '"':
                    if self.text[end + 1 : end + 2] == '"':
                        out.append('"')
                        end += 2
                        continue
                    break
                out.append(self.text[end])
                end += 1
            else:
                raise self.fail("unterminated quoted name")
            self.pos = end + 1
            return "".join(out)
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.pos)
        if not match:
            raise self.fail("expected a name")
        self.pos = match.end()
        return match.group(0)

    def words(self) -> str:
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?: +(?:WITH|TIME|ZONE|PRECISION|VARYING))*", re.I).match(
            self.text, self.pos
        )
        if not match:
            raise self.fail("expected a type name")
        self.pos = match.end()
        return " ".join(match.group(0).upper().split())

    def _skip_balanced(self) -> None:
        self.expect("(")
        depth, quote = 1, ""
        while self.pos < len(self.text) and depth:
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            self.pos += 1
        if depth:
            raise self.fail("unbalanced parentheses")

    def type(self) -> DType:
        self.skip()
        if self.text.startswith('"NULL"', self.pos):  # DuckDB's type of an all-null JSON field
            self.pos += len('"NULL"')
            name = "NULL"
        else:
            name = self.words()
        name = _ALIASES.get(name, name)
        if name == "DOUBLE PRECISION":
            name = "DOUBLE"
        if name in ("CHARACTER VARYING", "CHARACTER"):
            name = "VARCHAR"
        result: DType
        if name in ("STRUCT", "ROW"):
            self.expect("(")
            fields: list[tuple[str, DType]] = []
            while True:
                field = self.ident()
                fields.append((field, self.type()))
                if self.peek() == ",":
                    self.pos += 1
                    continue
                break
            self.expect(")")
            result = DType("STRUCT", fields=tuple(fields))
        elif name == "MAP":
            self.expect("(")
            key = self.type()
            self.expect(",")
            value = self.type()
            self.expect(")")
            result = DType("MAP", fields=(("key", key), ("value", value)))
        elif name in ("ENUM", "UNION"):
            self._skip_balanced()
            result = VARCHAR
        elif name == "LIST":
            self.expect("(")
            element = self.type()
            self.expect(")")
            result = DType("LIST", element=element)
        else:
            params: list[int] = []
            if self.peek() == "(":
                self.pos += 1
                while True:
                    self.skip()
                    digits = re.compile(r"\d+").match(self.text, self.pos)
                    if not digits:
                        raise self.fail("expected a number")
                    params.append(int(digits.group(0)))
                    self.pos = digits.end()
                    if self.peek() == ",":
                        self.pos += 1
                        continue
                    break
                self.expect(")")
            if name == "VARCHAR":
                params = []  # VARCHAR(n) is VARCHAR in DuckDB
            if name == "DECIMAL" and not params:
                params = [18, 3]
            result = DType(name, params=tuple(params))
        while self.peek() == "[":
            self.pos += 1
            self.expect("]")
            result = DType("LIST", element=result)
        return result


_SIGNED = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"]
_UNSIGNED_FITS = {"UTINYINT": "SMALLINT", "USMALLINT": "INTEGER", "UINTEGER": "BIGINT", "UBIGINT": "HUGEINT"}
_INTEGERS = set(_SIGNED) | set(_UNSIGNED_FITS)
_NUMERIC = _INTEGERS | {"FLOAT", "DOUBLE", "DECIMAL"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}

VARCHAR = DType("VARCHAR")


def _int_rank(name: str) -> int:
    return _SIGNED.index(_UNSIGNED_FITS.get(name, name))


def join(a: DType, b: DType) -> DType:
    """The narrowest type both ``a`` and ``b`` widen to without losing values."""
    if a == b:
        return a
    if a.name == "NULL":
        return b
    if b.name == "NULL":
        return a
    if "VARCHAR" in (a.name, b.name):
        return VARCHAR
    if a.name in _INTEGERS and b.name in _INTEGERS:
        if a.name in _SIGNED and b.name in _SIGNED:
            return DType(_SIGNED[max(_int_rank(a.name), _int_rank(b.name))])
        return DType(_SIGNED[max(_int_rank(a.name), _int_rank(b.name), 0)])
    if a.name in _NUMERIC and b.name in _NUMERIC:
        return DType("DOUBLE")
    if {a.name, b.name} <= _TIMESTAMPS | {"DATE"}:
        return DType("TIMESTAMP")
    if a.name == b.name == "STRUCT":
        merged: dict[str, DType] = dict(a.fields)
        for name, typ in b.fields:
            merged[name] = join(merged[name], typ) if name in merged else typ
        same_order = [n for n, _ in a.fields] == [n for n, _ in b.fields]
        # Keep the files' field order when they agree; otherwise sort, so join stays commutative.
        items = list(merged.items()) if same_order else sorted(merged.items())
        return DType("STRUCT", fields=tuple(items))
    if a.name == b.name == "LIST":
        assert a.element is not None and b.element is not None
        return DType("LIST", element=join(a.element, b.element))
    return VARCHAR


def join_text(a: str, b: str) -> str:
    """``join`` over type strings, for callers that keep types as text."""
    return str(join(parse_type(a), parse_type(b)))


LATTICE_EXAMPLES = [
    "NULL", "BOOLEAN", "TINYINT", "INTEGER", "BIGINT", "UBIGINT", "DOUBLE", "DECIMAL(10,2)", "DATE",
    "TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP WITH TIME ZONE", "VARCHAR",
]  # fmt: skip


def lattice_reference() -> str:
    """docs/types.md: the merge rules, with the table of what every pair of types becomes."""
    head = "| ⊔ | " + " | ".join(f"`{t}`" for t in LATTICE_EXAMPLES) + " |"
    rule = "|---|" + "---|" * len(LATTICE_EXAMPLES)
    rows = [
        f"| `{a}` | " + " | ".join(f"`{join_text(a, b)}`" for b in LATTICE_EXAMPLES) + " |"
        for a in LATTICE_EXAMPLES
    ]
    nested = [
        ("STRUCT(a BIGINT)", "STRUCT(a DOUBLE, b VARCHAR)"),
        ("STRUCT(a BIGINT, b DATE)", "STRUCT(b DATE, a BIGINT)"),
        ("BIGINT[]", "DOUBLE[]"),
        ("BIGINT[]", "VARCHAR"),
    ]
    nested_rows = [f"| `{a}` | `{b}` | `{join_text(a, b)}` |" for a, b in nested]
    return "\n".join(
        [
            "# Column types and how they merge",
            "",
            "<!-- generated by `make docs` from lakegate/types.py; do not edit -->",
            "",
            "When files of one table disagree about a column's type, the table takes the narrowest type",
            "both widen to without losing a value (`join`, written ⊔). The rule is commutative,",
            "associative and idempotent (property-tested), so the order files arrive in never changes a",
            "table's final schema; old files are read with a cast to the wider type. A dataset's",
            "`schema_evolution` decides which widenings are allowed: `evolve` (the default: within a",
            "family — integers, numbers, times — but a typed column never becomes `VARCHAR`; such a",
            "file is quarantined with `reject.schema.type_change`), `loose` (all of them), `add_only`",
            "(new columns only; a file that would widen is quarantined with `reject.schema.type_change`)",
            "or `freeze` (neither; `reject.schema.frozen`).",
            "",
            "- `NULL` (a column seen only empty) takes the other side's type.",
            "- Integers widen to the wider integer; an unsigned one to the next signed size that holds it.",
            "- Integers, floats and decimals of different kinds meet at `DOUBLE`;",
            "  a `DECIMAL(p,s)` only joins itself.",
            "- `DATE` and the timestamps without zone meet at `TIMESTAMP`;",
            "  a zoned timestamp only joins itself.",
            "- Structs merge field by field (a field only one side has is kept); lists merge their elements.",
            "- Anything else, and anything with `VARCHAR`, becomes `VARCHAR`.",
            "",
            head,
            rule,
            *rows,
            "",
            "Nested types:",
            "",
            "| a | b | a ⊔ b |",
            "|---|---|---|",
            *nested_rows,
            "",
        ]
    )


# -- the types a dataset's rules may expect a column to have ----------------------------------
# Families (``integer``, ``number``, ``boolean``, ``date``, ``timestamp``, ``text``) or any SQL
# type; a column fits when its inferred type widens to the expected one without loss.


@dataclass(frozen=True)
class Expected:
    label: str  # for messages: "an integer"
    type: str  # the widest type that fits: BIGINT
    readable: str  # SQL over the text ``{v}``: true when it reads as this type


_FAMILIES = {
    "integer": Expected("an integer", "BIGINT", "regexp_full_match(trim({v}), '[+-]?[0-9]+')"),
    "number": Expected("a number", "DOUBLE", "TRY_CAST(trim({v}) AS DOUBLE) IS NOT NULL"),
    "boolean": Expected("true or false", "BOOLEAN", "TRY_CAST(trim({v}) AS BOOLEAN) IS NOT NULL"),
    "date": Expected("a date", "DATE", "TRY_CAST(trim({v}) AS DATE) IS NOT NULL"),
    "timestamp": Expected("a timestamp", "TIMESTAMP", "TRY_CAST(trim({v}) AS TIMESTAMP) IS NOT NULL"),
    "text": Expected("text", "VARCHAR", "true"),
}
_ZONED = "TIMESTAMP WITH TIME ZONE"
_SQL_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN", "VARCHAR", "DATE", "TIME", "TIMESTAMP",
    "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", _ZONED, "INTERVAL", "UUID", "BLOB", "JSON",
}  # fmt: skip


def expected_type(text: str) -> Expected:
    """Raises: ValueError when ``text`` is neither a family nor a SQL type."""
    family = _FAMILIES.get(text.strip().lower())
    if family is not None:
        return family
    try:
        parsed = parse_type(text)
        if parsed.name not in _SQL_TYPES:
            raise TypeParseError(text)
        typ = str(parsed)
    except TypeParseError:
        raise ValueError(
            f"{text!r} is not a type: use integer, number, boolean, date, timestamp, text or a SQL type"
        ) from None
    return Expected(typ, typ, f"TRY_CAST({{v}} AS {typ}) IS NOT NULL")


def fits(inferred: str, expected: Expected) -> bool:
    if inferred == "NULL" or expected.type == "VARCHAR":
        return True
    if expected.type == "TIMESTAMP" and inferred == _ZONED:
        return True
    return str(join(parse_type(inferred), parse_type(expected.type))) == expected.type
