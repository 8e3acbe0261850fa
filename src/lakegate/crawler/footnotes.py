"""Footnote lines after a CSV's table (``Source: ...``, ``Total,,5.5``), found at the file's end.

A trailing block is footnotes when it is short (at most ``MAX_LINES`` lines) and either follows a
blank line below a table at least twice its length, or consists only of lines without the
table's number of fields. Rows like ``Total,,5.5`` have the right number of fields, so they are
recognised after a blank line — as spreadsheets export them — or, right below the data as
government spend reports put them, by their first value (``Total``, ``Grand total``,
``Subtotal``) when at most half of their fields hold a value. The reader cannot
skip lines at the end of a file, so a file with footnotes is read through a copy without them
(and queried through a derived Parquet copy); its warnings quote the lines left out.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from lakegate.crawler.dialect import guess

TAIL_BYTES = 64 * 1024
HEAD_BYTES = 256 * 1024
MAX_LINES = 10
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Footnotes:
    offset: int  # where they start, in bytes
    lines: list[str]


def _fields(text: str, delimiter: str, quote: str) -> list[int]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, strict=False)
    try:
        return [len(r) for r in reader if "".join(r).strip()]
    except csv.Error:
        return []


_TOTAL = re.compile(r"^[\s\"',;|\t]*(grand\s+|sub-?)?totals?\b", re.IGNORECASE)


def _is_total(line: str, delimiter: str, quote: str) -> bool:
    """A totals row: its first value says so, and at most half of its fields hold a value."""
    if not _TOTAL.match(line):
        return False
    reader = csv.reader(io.StringIO(line), delimiter=delimiter, quotechar=quote, strict=False)
    try:
        fields = next(reader, [])
    except csv.Error:
        return False
    return sum(1 for f in fields if f.strip()) * 2 <= len(fields)


def _is_note(line: str, delimiter: str, quote: str, columns: int) -> bool:
    """A note padded to the table's width (``Source: finance system,,,,``): text in its first
    field alone, in a table of more than two columns."""
    reader = csv.reader(io.StringIO(line), delimiter=delimiter, quotechar=quote, strict=False)
    try:
        fields = next(reader, [])
    except csv.Error:
        return False
    filled = [f for f in fields if f.strip()]
    return columns > 2 and len(filled) == 1 and bool(fields[0].strip()) and not fields[0].strip()[0].isdigit()


def find(path: str, encoding: str = "utf-8") -> Footnotes | None:
    """The footnotes at the end of the local, uncompressed CSV ``path`` (``None``: none)."""
    size = Path(path).stat().st_size
    with open(path, "rb") as raw:
        head = raw.read(min(HEAD_BYTES, size))
        raw.seek(max(0, size - TAIL_BYTES))
        tail = raw.read()
    start = max(0, size - TAIL_BYTES)
    lines = tail.split(b"\n")
    if start:
        start += len(lines[0]) + 1  # a line cut by the tail's start is not judged
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines.pop()  # blank lines at the very end are nothing
    if len(lines) < 2:
        return None
    first = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
    last = lines[-1].decode(encoding, errors="replace")
    window = lines[-(MAX_LINES + 1) :]
    blank = any(not line.strip() for line in window)
    short = any(first.count(d) > last.count(d) for d in _DELIMITERS)
    if not (blank or short or _TOTAL.match(last) or last.rstrip().endswith(",,")):
        return None  # the cheap look finds nothing like footnotes
    dialect = guess(head.decode(encoding, errors="replace").lstrip("\ufeff"), complete=len(head) == size)
    if dialect is None:
        return None
    offsets = []
    at = start
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    # The footnote block: after the last blank line within reach, else the trailing lines that
    # do not have the table's fields.
    begin = None
    for i in range(len(lines) - 1, max(len(lines) - MAX_LINES - 2, -1), -1):
        if not lines[i].strip():
            begin = i + 1
            break
    block = lines[begin:] if begin is not None else []
    text = b"\n".join(block).decode(encoding, errors="replace")
    counts = _fields(text, dialect.delimiter, dialect.quote)
    above = (begin or 1) - 1  # lines before the blank one (in the tail read: enough to judge)
    after_blank = bool(block) and len(block) <= MAX_LINES
    if not (after_blank and (any(n != dialect.columns for n in counts) or above >= 2 * len(block))):
        begin = len(lines)
        while begin > 0 and len(lines) - begin < MAX_LINES:
            one = lines[begin - 1].decode(encoding, errors="replace")
            fields = _fields(one, dialect.delimiter, dialect.quote)
            if (
                not one.strip()
                or (fields and fields[0] != dialect.columns and dialect.quote not in one)
                or _is_total(one, dialect.delimiter, dialect.quote)
                or _is_note(one, dialect.delimiter, dialect.quote, dialect.columns)
            ):
                begin -= 1
            else:
                break
        if begin in (len(lines), 0):
            return None
        block = lines[begin:]
    assert begin is not None
    shown = [line.decode(encoding, errors="replace").strip() for line in block if line.strip()]
    return Footnotes(offsets[begin], shown)


def copy_without(path: str, footnotes: Footnotes, target: str) -> None:
    """Copy ``path`` up to its footnotes into ``target``, streamed."""
    remaining = footnotes.offset
    with open(path, "rb") as src, open(target, "wb") as out:
        while remaining > 0:
            chunk = src.read(min(1024 * 1024, remaining))
            if not chunk:
                break
            out.write(chunk)
            remaining -= len(chunk)
