"""Dates, timestamps and decimal commas in CSV, decided by the evidence of a sample.

A column of ``03/04/2026`` values is typed only when its values say which part is the day: one
value with a first part above 12 makes it day-first (European), one with a second part above
12 month-first (US); when none does, the column stays text and the file's warnings say why —
never the silent guess that turns 3 April into 4 March. ISO timestamps with a zone or offset
are ``TIMESTAMP WITH TIME ZONE``; with a time but no zone ``TIMESTAMP`` (a sniffer that typed
them ``DATE`` would drop the time). Decimal commas (``1,5``) make a ``DOUBLE`` when the
delimiter is not a comma and no value uses a decimal point.

The engine's reader takes one date format and one timestamp format per file: a column whose
format differs from the one already chosen stays text, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import duckdb

from lakegate.schema import Column

SAMPLE_ROWS = 50_000

_ISO_TZ = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)"
_ISO_TS = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_NUMERIC_DATE = r"(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})( (\d{1,2}):(\d{2})(:(\d{2}))?)?"
_DECIMAL_COMMA = r"[+-]?\d+,\d+"
_INTEGER = r"[+-]?\d+"
_DECIMAL_POINT = r"[+-]?\d*\.\d+"


@dataclass
class Evidence:
    present: int
    iso_tz: int
    iso_ts: int
    numeric: int  # dd/mm/yyyy-like values, with or without a time
    first_max: int
    second_max: int
    separators: int  # distinct separators among them
    separator: str
    with_time: int
    with_seconds: int
    comma: int  # decimal comma values
    integers: int


def _evidence_sql(col: str) -> list[str]:
    def matches(pattern: str) -> str:
        return f"count(*) FILTER (WHERE regexp_full_match(trim({col}), '{pattern}'))"

    def part(n: int) -> str:
        return f"regexp_extract(trim({col}), '^{_NUMERIC_DATE}$', {n})"

    numeric = f"regexp_full_match(trim({col}), '{_NUMERIC_DATE}')"
    return [
        f"count({col})",
        matches(_ISO_TZ),
        matches(_ISO_TS),
        f"count(*) FILTER (WHERE {numeric})",
        f"coalesce(max(TRY_CAST({part(1)} AS INTEGER)) FILTER (WHERE {numeric}), 0)",
        f"coalesce(max(TRY_CAST({part(3)} AS INTEGER)) FILTER (WHERE {numeric}), 0)",
        f"count(DISTINCT {part(2)}) FILTER (WHERE {numeric})",
        f"coalesce(min({part(2)}) FILTER (WHERE {numeric}), '')",
        f"count(*) FILTER (WHERE {numeric} AND {part(5)} <> '')",
        f"count(*) FILTER (WHERE {numeric} AND {part(8)} <> '')",
        matches(_DECIMAL_COMMA),
        matches(_INTEGER),
    ]


_ISO_FORMATS = ("", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _worth_a_look(
    conn: duckdb.DuckDBPyConnection,
    sample: str,
    columns: list[Column],
    options: dict[str, Any],
    records: tuple[tuple[str, ...], ...] | None,
) -> list[Column]:
    """The columns whose type the evidence could change, found cheaply (no patterns): text whose
    every value starts like a number or date, ISO dates longer than a date, and dates or
    timestamps the sniffer read in a numeric (dd/mm or mm/dd) format. Judged on ``records``
    (the dialect guess's parsed sample) when given, else by a query over ``sample``."""
    if records is not None:
        return [c for i, c in enumerate(columns) if _looks_worth_it(c, i, options, records)]
    out: list[Column] = []
    checks: list[tuple[Column, str]] = []
    for c in columns:
        col = f"trim({_quote(c.name)})"
        numeric_format = {"DATE": "dateformat", "TIMESTAMP": "timestampformat"}.get(c.type)
        if numeric_format and options.get(numeric_format) not in _ISO_FORMATS:
            out.append(c)
        elif c.type == "DATE":
            checks.append((c, f"count(*) FILTER (WHERE length({col}) > 10)"))  # a time the type drops
        elif c.type == "VARCHAR":
            led = f"regexp_matches(left({col}, 1), '[0-9+-]')"
            checks.append((c, f"count({col}) > 0 AND count({col}) = count(*) FILTER (WHERE {led})"))
    if checks:
        [row] = conn.execute(f"SELECT {', '.join(sql for _, sql in checks)} FROM {sample}").fetchall()
        out += [c for (c, _), found in zip(checks, row, strict=True) if found]
    return out


def _looks_worth_it(c: Column, i: int, options: dict[str, Any], records: tuple[tuple[str, ...], ...]) -> bool:
    numeric_format = {"DATE": "dateformat", "TIMESTAMP": "timestampformat"}.get(c.type)
    if numeric_format and options.get(numeric_format) not in _ISO_FORMATS:
        return True
    values = [v for v in (r[i].strip() for r in records if len(r) > i) if v]
    if c.type == "DATE":
        return any(len(v) > 10 for v in values)
    return c.type == "VARCHAR" and bool(values) and all(v[0] in "0123456789+-" for v in values)


def refine(
    conn: duckdb.DuckDBPyConnection,
    text_reader: str,
    columns: list[Column],
    options: dict[str, Any],
    records: tuple[tuple[str, ...], ...] | None = None,
) -> tuple[list[Column], dict[str, Any], list[str]]:
    """The columns' types, the reader options and warnings, corrected by the evidence of the
    first ``SAMPLE_ROWS`` rows read as text by ``text_reader`` (columns by lakegate name)."""
    sample = f"(SELECT * FROM {text_reader} LIMIT {SAMPLE_ROWS})"
    try:
        candidates = _worth_a_look(conn, sample, columns, options, records)
        if not candidates:
            return columns, options, []
        checks = [sql for c in candidates for sql in _evidence_sql(_quote(c.name))]
        [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {sample}").fetchall()
    except duckdb.Error:
        return columns, options, []
    width = len(checks) // len(candidates)
    evidence = {}
    for i, c in enumerate(candidates):
        found: list[Any] = [
            v if isinstance(v, str) else int(v or 0) for v in row[i * width : (i + 1) * width]
        ]
        evidence[c.name] = Evidence(*found)
    options = dict(options)
    warnings: list[str] = []
    typed: dict[str, str] = {}
    points = any(c.type == "DOUBLE" for c in columns)  # a decimal point elsewhere: no decimal commas
    for c in candidates:
        e = evidence[c.name]
        if not e.present:
            continue
        if e.iso_tz == e.present:
            typed[c.name] = "TIMESTAMP WITH TIME ZONE"
        elif e.iso_ts == e.present and c.type == "DATE":
            typed[c.name] = "TIMESTAMP"
        elif e.numeric == e.present and e.separators == 1:
            others = [o for o in columns if o.name != c.name and o.type in ("DATE", "TIMESTAMP")]
            decided = _numeric_date(c.name, e, options, warnings, others)
            if decided:
                typed[c.name] = decided
            elif c.type != "VARCHAR":
                typed[c.name] = "VARCHAR"
        elif (
            c.type == "VARCHAR"
            and e.comma
            and e.comma + e.integers == e.present
            and options.get("delim") != ","
            and not points
        ):
            options["decimal_separator"] = ","
            typed[c.name] = "DOUBLE"
    out = [replace(c, type=typed[c.name]) if c.name in typed else c for c in columns]
    return out, options, warnings


def _numeric_date(
    name: str, e: Evidence, options: dict[str, Any], warnings: list[str], others: list[Column]
) -> str:
    """The type of a column of dd/mm/yyyy-like values, setting the reader's format ("" for text)."""
    if e.first_max > 12 >= e.second_max:
        order = "%d{s}%m{s}%Y"
    elif e.second_max > 12 >= e.first_max:
        order = "%m{s}%d{s}%Y"
    else:
        said = "could be day-first or month-first (no part above 12 in the sample)"
        warnings.append(f"{name}: its dates {said}; kept as text")
        return ""
    if e.with_time not in (0, e.present) or e.with_seconds not in (0, e.present):
        warnings.append(f"{name}: its values mix dates with and without times; kept as text")
        return ""
    fmt = order.format(s=e.separator) + (
        (" %H:%M" + (":%S" if e.with_seconds else "")) if e.with_time else ""
    )
    key, typ = ("timestampformat", "TIMESTAMP") if e.with_time else ("dateformat", "DATE")
    taken = options.get(key) or ""
    # One format per file: another column of this type in another format (ISO, say) keeps it
    if (taken and taken != fmt) or (not taken and any(o.type == typ for o in others)):
        warnings.append(f"{name}: its date format ({fmt}) differs from another column's; kept as text")
        return ""
    options[key] = fmt
    return typ


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
