"""How well lakegate reads messy CSV, against DuckDB's own auto-detection.

Crawls each polluted file of ``../shared/corpora/messy-csv/csv`` (the Pollock benchmark's 70
files: other delimiters, quotes and escapes, preambles, multi-row headers, no header, ragged
rows...), reads the table back, and scores it against the clean version: the header (names as
in the clean file), the row count, and the share of cells that hold the clean value (numbers
compared as numbers, dates and times as ISO). A file lakegate refuses, or DuckDB fails to read,
scores 0. The same score is printed for ``read_csv(path)`` with DuckDB's defaults.

    .venv/bin/python bench/csv_quality.py [-v]
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

import duckdb

from lakegate import duck
from lakegate.crawler.detect import detect
from lakegate.crawler.infer import infer
from lakegate.crawler.normalize import readable
from lakegate.duck.readers import plan_select
from lakegate.errors import Rejection

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "messy-csv"
Table = tuple[list[str], list[tuple[Any, ...]]]


def lakegate_read(conn: duckdb.DuckDBPyConnection, path: Path) -> Table:
    """The file as ingestion reads it (through a readable copy when the engine needs one)."""
    data = path.read_bytes()
    with readable(str(path), detect(data[:65536], data[-16:], len(data))) as ready:
        plan = infer(conn, ready.path, ready.detected, len(data))
        rows = conn.execute(plan_select(ready.path, plan)).fetchall()
    return [c.original for c in plan.columns], rows


def duckdb_read(conn: duckdb.DuckDBPyConnection, path: Path) -> Table:
    result = conn.execute(f"SELECT * FROM read_csv('{path}')")
    return [d[0] for d in result.description], result.fetchall()


def clean_read(conn: duckdb.DuckDBPyConnection, path: Path, header: bool) -> Table:
    options = f"all_varchar=true, delim=',', quote='\"', header={str(header).lower()}"
    result = conn.execute(f"SELECT * FROM read_csv('{path}', {options})")
    return [d[0] for d in result.description], result.fetchall()


_DATES = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")
_TIMES = ("%H:%M:%S", "%H:%M")


def normal(value: Any) -> Any:
    """One cell as comparable: None for empty, a float for numbers, ISO for dates and times."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in _DATES:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    for fmt in _TIMES:
        try:
            return dt.datetime.strptime(text, fmt).time().isoformat()
        except ValueError:
            pass
    return text


def score(got: Table | None, want: Table, header_lines: int) -> tuple[float, float, float]:
    """(header right, row count right, share of right cells), each 0..1.

    Rows are aligned first (a reader that leaves out one broken row is not charged for every
    row after it); the cells of aligned rows are compared one by one, in column order.
    """
    if got is None:
        return 0.0, 0.0, 0.0
    names, rows = got
    want_names, want_rows = want
    if header_lines == 0:  # no header: right when the reader made up names instead of using data
        header = float(all(re.fullmatch(r"(col|column)\d+", n) for n in names))
    else:
        header = float([n.strip() for n in names] == [n.strip() for n in want_names])
    count = float(len(rows) == len(want_rows))
    ours = [tuple(normal(v) for v in r) for r in rows]
    theirs = [tuple(normal(v) for v in r) for r in want_rows]
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    cells = 0
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for i, j in zip(range(a0, a1), range(b0, b1), strict=False):  # equal rows, and replaced ones pairwise
            cells += (
                sum(1 for x, y in zip(ours[i], theirs[j], strict=False) if x == y)
                if tag != "equal"
                else len(theirs[j])
            )
    total = max(1, len(want_rows) * max(1, len(want_names)))
    return header, count, cells / total


def main() -> None:
    verbose = "-v" in sys.argv
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS}")
    conn = duck.connect(threads=2)
    plain = duckdb.connect()
    totals = {"lakegate": [0.0, 0.0, 0.0], "duckdb": [0.0, 0.0, 0.0]}
    files = sorted((CORPUS / "csv").glob("*.csv"))
    for path in files:
        params = json.loads((CORPUS / "parameters" / f"{path.name}_parameters.json").read_text())
        header_lines = int(params.get("header_lines", 1))
        try:
            want = clean_read(plain, CORPUS / "clean" / path.name, header_lines > 0)
        except duckdb.Error:
            want = ([], [])  # a clean file without data rows
        results: dict[str, Table | None] = {}
        for name, read in (
            ("lakegate", lambda p: lakegate_read(conn, p)),
            ("duckdb", lambda p: duckdb_read(plain, p)),
        ):
            try:
                results[name] = read(path)
            except (Rejection, duckdb.Error):
                results[name] = None
        for name, got in results.items():
            parts = score(got, want, header_lines)
            totals[name] = [t + p for t, p in zip(totals[name], parts, strict=True)]
            if verbose:
                header, count, cells = parts
                print(f"{path.name:45s} {name:8s} header {header:.0f} rows {count:.0f} cells {cells:.2f}")
    n = len(files)
    print(f"messy CSV quality, {n} Pollock files (mean over files, 0-100)")
    print("| reader   | header | row count | cells | score |")
    print("|----------|--------|-----------|-------|-------|")
    for name, (header, count, cells) in totals.items():
        overall = (header + count + cells) / (3 * n) * 100
        shares = f"{header / n * 100:6.1f} | {count / n * 100:9.1f} | {cells / n * 100:5.1f}"
        print(f"| {name:8s} | {shares} | {overall:5.1f} |")
    ours = sum(totals["lakegate"]) / (3 * n)
    theirs = sum(totals["duckdb"]) / (3 * n)
    print(f"ratio lakegate / duckdb: {ours / theirs:.2f} (target: well above 1)")


if __name__ == "__main__":
    main()
