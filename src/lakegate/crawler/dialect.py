"""Guessing a CSV file's dialect from a sample, by evidence that survives a few bad rows.

DuckDB's sniffer wants every sampled row to agree: one row with a missing or extra separator
and it settles for a single column holding whole lines. This guess instead parses the sample
with each candidate delimiter, quote and escape, and keeps the one under which most records
have the same number of fields — more than one. It also finds:

* **preamble lines** before the table (titles, notes, blank separators): leading records with
  fewer fields than the table, or with at most one value;
* **header rows**: one, none (decided by evidence — a first row whose values look like the
  data's types, or that repeats nowhere as text), or several stacked rows (a multi-row header,
  whose names are joined with spaces).

The crawler hands the result to DuckDB's sniffer as fixed options; the sniffer then types the
columns and the reader skips rows that do not fit, which the crawler reports with their lines.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass, replace

from lakegate.crawler import forgiving

DELIMITERS = (",", ";", "\t", "|", " ")
QUOTES = ('"', "'")
SAMPLE_RECORDS = 400
SPACE_PENALTY = 0.25
# What people write for "no value"; read as NULL in a column whose other values all have a type.
NULL_TOKENS = ("NA", "N/A", "n/a", "#N/A", "NULL", "null", "\\N", "-", "--")


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    quote: str
    escape: str  # the quote itself when quotes are doubled
    columns: int  # fields in the table's records
    consistency: float  # share of sampled records with that many fields
    preamble: int  # lines before the table (header included in neither)
    header_rows: int  # 0, 1 or more (a multi-row header)
    names: tuple[str, ...] = ()  # the header's names (a multi-row header's joined with spaces)
    records: int = 0  # data records in the sample (a reader that returns fewer lost some)
    null_tokens: tuple[str, ...] = ()  # NULL_TOKENS seen in the sample's data
    rows: tuple[tuple[str, ...], ...] = ()  # the sample's data records, as parsed
    forgiving: bool = False  # only the forgiving parser splits the records so (quotes to repair)
    # tables after the first in the same file: (their first line, fields, their header's names)
    blocks: tuple[tuple[int, int, tuple[str, ...]], ...] = ()


def _records(sample: str, delimiter: str, quote: str, escape: str) -> list[list[str]]:
    kwargs = {"delimiter": delimiter, "quotechar": quote, "strict": False}
    if escape != quote:
        kwargs |= {"escapechar": escape, "doublequote": False}
    reader = csv.reader(io.StringIO(sample), **kwargs)  # type: ignore[arg-type]
    out: list[list[str]] = []
    try:
        for record in reader:
            out.append(record)
            if len(out) >= SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    return out


def _lines_of(sample: str, records: int, delimiter: str, quote: str, escape: str) -> int:
    """How many physical lines the first ``records`` records take (quoted fields may span lines)."""
    if records == 0:
        return 0
    kwargs = {"delimiter": delimiter, "quotechar": quote, "strict": False}
    if escape != quote:
        kwargs |= {"escapechar": escape, "doublequote": False}
    reader = csv.reader(io.StringIO(sample), **kwargs)  # type: ignore[arg-type]
    for _ in range(records):
        next(reader)
    return reader.line_num


def guess(sample: str, *, complete: bool) -> Dialect | None:
    """The most consistent dialect of ``sample`` (text from the file's start), or ``None`` when no
    candidate gives records of more than one field. ``complete``: the sample is the whole file
    (else its last record may be cut short and is not judged)."""
    best: tuple[tuple[float, int, int, int, int, int, bool], Dialect] | None = None
    for delimiter in DELIMITERS:
        if delimiter not in sample:
            continue
        for quote in QUOTES:
            for escape in (quote, "\\"):
                if escape == "\\" and "\\" not in sample:
                    continue
                found = _consistent(_records(sample, delimiter, quote, escape), complete=complete)
                if quote in sample and (found is None or found[3] < 1.0):
                    lines = io.StringIO(sample, newline="")
                    careful = list(
                        itertools.islice(forgiving.records(lines, delimiter, quote, escape), SAMPLE_RECORDS)
                    )
                    other = _consistent(careful, complete=complete)
                    if other is not None and (found is None or other[3] > found[3]):
                        found = (*other[:4], True)
                if found is None:
                    continue
                raw, columns, hits, consistency, by_forgiving = found
                # Prefer what most records agree on, then more such records (a wrong quote
                # character swallows lines into one record), then the double quote, then more
                # columns (a delimiter that happens to be in every row of one column makes fewer),
                # then the usual delimiters, then doubled quotes over backslash escapes.
                rank = (
                    round(consistency - (delimiter == " ") * SPACE_PENALTY, 6),  # spaces are mostly text
                    hits,
                    _wrapped(sample, delimiter, quote),  # 'a','b' is quoted, not text with quotes
                    -QUOTES.index(quote),
                    columns,
                    -DELIMITERS.index(delimiter),
                    escape == quote,
                )
                if best is None or rank > best[0]:
                    start = _table_start(raw, columns)
                    body = [r for r in raw[start:] if "".join(r).strip()]
                    header_rows, names = _header(body, columns)
                    data = len(body) - header_rows
                    seen = {f.strip() for r in body[header_rows:] for f in r} & set(NULL_TOKENS)
                    tokens = tuple(t for t in NULL_TOKENS if t in seen)
                    rows = tuple(tuple(r) for r in body[header_rows:])
                    dialect = Dialect(
                        delimiter,
                        quote,
                        escape,
                        columns,
                        consistency,
                        0,
                        header_rows,
                        names,
                        data,
                        tokens,
                        rows,
                        by_forgiving,
                    )
                    dialect = _with_preamble(dialect, sample, start)
                    found_blocks = _blocks(body, columns, header_rows, names)
                    if found_blocks:
                        # each block's first line: the lines its records before it take
                        kept = [k for k in range(start, len(raw)) if "".join(raw[k]).strip()]
                        blocks = tuple(
                            (_lines_of(sample, kept[i], delimiter, quote, escape) + 1, n, b)
                            for i, n, b in found_blocks
                        )
                        dialect = replace(dialect, blocks=blocks)
                    best = (rank, dialect)
    return None if best is None else best[1]


def _consistent(
    raw: list[list[str]], *, complete: bool
) -> tuple[list[list[str]], int, int, float, bool] | None:
    """The records, the number of fields most of them have (more than one), how many have it and
    their share; ``None`` without such records."""
    if not complete and len(raw) > 1:
        raw = raw[:-1]  # cut short by the sample's end
    records = [r for r in raw if "".join(r).strip()]  # blank lines are no records
    if not records:
        return None
    counts = Counter(len(r) for r in records)
    columns, hits = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if columns < 2:
        return None
    return raw, columns, hits, hits / len(records), False


def _wrapped(sample: str, delimiter: str, quote: str) -> int:
    """How many fields of ``sample`` are wholly wrapped in ``quote`` (``'di'`` between
    delimiters): evidence that ``quote`` quotes — an apostrophe inside a word is none."""
    d, q = re.escape(delimiter), re.escape(quote)
    return len(re.findall(rf"(?:^|{d}){q}[^{q}\n]*{q}(?={d}|\r?$)", sample, re.MULTILINE))


def _blocks(
    body: list[list[str]], columns: int, header_rows: int, names: tuple[str, ...]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """Tables that follow the first in ``body`` (the records from the first table's header on):
    where its header comes again, or a header of another width starts a run of records of that
    width. Each as (its index in ``body``, its fields, its header's names)."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    if header_rows != 1:
        return found  # tables one after another each have their header
    header = [n.strip() for n in names]
    width = columns
    for i in range(1, len(body)):
        record = [f.strip() for f in body[i]]
        repeated = record == header and len(record) == width
        run = body[i + 1 : i + 3]
        other = (
            len(record) not in (width, 0)
            and len(run) == 2
            and all(len(r) == len(record) for r in run)
            and all(v and len(v) <= 64 for v in record)
            and len(set(record)) == len(record)
            and _header(body[i : i + 20], len(record))[0] >= 1  # names over values
        )
        if repeated or other:
            found.append((i, len(record), tuple(record)))
            width = len(record)
    return found


def _with_preamble(dialect: Dialect, sample: str, start: int) -> Dialect:
    if start == 0:
        return dialect
    return replace(
        dialect, preamble=_lines_of(sample, start, dialect.delimiter, dialect.quote, dialect.escape)
    )


def _table_start(records: list[list[str]], columns: int) -> int:
    """The first record of the table: leading records with fewer fields than the table, or with
    at most one value (titles, notes, separators such as ``Report,,,,``), are a preamble."""
    for i, record in enumerate(records):
        values = sum(1 for f in record if f.strip())
        if len(record) >= columns and not (columns > 2 and values <= 1):
            return i
    return 0


_NUMBER = re.compile(r"^[+-]?[$€£]?\s*\d[\d,.' ]*%?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$|^\d{1,2}:\d{2}(:\d{2})?$")


def _kind(value: str) -> str:
    text = value.strip()
    if not text:
        return "empty"
    if _NUMBER.match(text):
        return "number"
    if _DATE.match(text):
        return "date"
    return "text"


def _header(records: list[list[str]], columns: int) -> tuple[int, tuple[str, ...]]:
    """How many of the first records are header rows, and the names they give (joined when stacked)."""
    if not records:
        return 0, ()
    body = [r for r in records[1:] if len(r) == columns][:50]
    if not body:
        return 1, ()
    typed = [c for c in range(columns) if any(_kind(r[c]) in ("number", "date") for r in body)]

    def header_like(record: list[str]) -> bool:
        if len(record) != columns:
            return False
        kinds = [_kind(v) for v in record]
        if typed:  # a header holds text where the data holds numbers or dates
            return all(kinds[c] in ("text", "empty") for c in typed)
        # all-text data: a header row's values do not come back in the data, and are all present
        seen = {v.strip() for r in body for v in r}
        return all(v.strip() for v in record) and not any(v.strip() in seen for v in record)

    rows = 0
    while rows < min(3, len(records) - 1) and header_like(records[rows]):
        rows += 1
    if rows == 0:
        return 0, ()
    names = tuple(" ".join(records[r][c].strip() for r in range(rows)).strip() for c in range(columns))
    return rows, names
