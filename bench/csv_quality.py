"""How well lakegate reads messy CSV, against DuckDB's own auto-detection.

Crawls each polluted file of ``../shared/corpora/messy-csv/csv`` (the Pollock benchmark's 70
files: other delimiters, quotes and escapes, preambles, multi-row headers, no header, ragged
rows...), reads the table back, and scores it against the clean version: the header (names as
in the clean file), the row count, and the share of cells that hold the clean value (numbers
compared as numbers, dates and times as ISO). A file lakegate refuses, or DuckDB fails to read,
scores 0. The same score is printed for ``read_csv(path)`` with DuckDB's defaults.

It also prints the F1 score: per file, the mean of the record F1 (rows that equal a clean row,
as a multiset: precision over the rows read, recall over the clean rows) and the cell F1 (cells
equal in aligned rows, over the cells read and the clean cells), columns matched by header names
compared case- and punctuation-insensitively (by position without a header), ``NA``, ``N/A``,
``\\N`` and empty all missing; the files where lakegate loses more than 0.1 to DuckDB are listed.
A file without data that lakegate quarantines as ``reject.empty`` counts as read right; a file
of several tables it quarantines as ``reject.multiple_tables`` scores 0 (the clean version holds
only the first table, which lakegate refuses to pick silently).
Target: lakegate >= 0.90 overall, no file more than 0.1 below DuckDB.

    .venv/bin/python bench/csv_quality.py [-v]
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from lakegate import duck
from lakegate.crawler.detect import detect
from lakegate.crawler.infer import read_and_infer
from lakegate.duck.readers import plan_select
from lakegate.errors import Rejection

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "messy-csv"
OWN = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "messy-csv"  # one file per failure class
Table = tuple[list[str], list[tuple[Any, ...]]]


def lakegate_read(conn: duckdb.DuckDBPyConnection, path: Path) -> Table:
    """The file as ingestion reads it (through a readable copy when the engine needs one)."""
    data = path.read_bytes()
    with ExitStack() as stack:
        ready, plan = read_and_infer(
            stack, conn, str(path), detect(data[:65536], data[-16:], len(data)), len(data)
        )
        rows = conn.execute(plan_select(ready.path, plan)).fetchall()
    return [c.original for c in plan.columns], rows


def duckdb_read(conn: duckdb.DuckDBPyConnection, path: Path) -> Table:
    result = conn.execute(f"SELECT * FROM read_csv('{path}')")
    return [d[0] for d in result.description], result.fetchall()


def clean_read(conn: duckdb.DuckDBPyConnection, path: Path, header: bool) -> Table:
    options = f"all_varchar=true, delim=',', quote='\"', header={str(header).lower()}"
    result = conn.execute(f"SELECT * FROM read_csv('{path}', {options})")
    names = [d[0] for d in result.description]
    if header:  # as written: DuckDB renames repeated names (x, x_1)
        import csv

        with open(path, newline="") as text:
            written = next(csv.reader(text), [])
        names = written if len(written) == len(names) else names
    return names, result.fetchall()


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


_MISSING = {"", "na", "n/a", "\\n", "null", "none"}


def _key(name: str) -> str:
    return re.sub(r"[\W_]+", "", str(name)).lower()


def _missing_normal(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _MISSING:
        return None
    return normal(value)


def _f1(matched: int, read: int, clean: int) -> float:
    if read == 0 and clean == 0:
        return 1.0
    if matched == 0:
        return 0.0
    precision, recall = matched / read, matched / clean
    return 2 * precision * recall / (precision + recall)


def _numbered(keys: list[str]) -> list[str]:
    """Repeated names told apart by their order (``x``, ``x#2``), in the read and the clean file alike."""
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
        out.append(k if seen[k] == 1 else f"{k}#{seen[k]}")
    return out


def f1_score(got: Table | None, want: Table, header_lines: int) -> float:
    """The mean of the record F1 and the cell F1 of a file (see the module), 0..1."""
    if got is None:
        return 0.0
    names, rows = got
    want_names, want_rows = want
    keys = _numbered([_key(n) for n in names])
    wanted = _numbered([_key(w) for w in want_names])
    if header_lines and all(w in keys for w in wanted):
        order = [keys.index(w) for w in wanted]  # clean column -> read column
    else:
        order = list(range(len(want_names)))

    def aligned(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(_missing_normal(row[i]) if i < len(row) else None for i in order)

    ours = [aligned(r) for r in rows]
    theirs = [tuple(_missing_normal(v) for v in r) for r in want_rows]
    pool: dict[tuple[Any, ...], int] = {}
    for r in theirs:
        pool[r] = pool.get(r, 0) + 1
    same_rows = 0
    for r in ours:
        if pool.get(r, 0):
            pool[r] -= 1
            same_rows += 1
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    same_cells = 0
    for _tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for i, j in zip(range(a0, a1), range(b0, b1), strict=False):
            same_cells += sum(1 for x, y in zip(ours[i], theirs[j], strict=False) if x == y)
    read_cells = len(rows) * max(len(names), 1)
    clean_cells = len(want_rows) * max(len(want_names), 1)
    record = _f1(same_rows, len(rows), len(want_rows))
    return (record + _f1(same_cells, read_cells, clean_cells)) / 2


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


def f1_per_file(corpus: Path, conn: duckdb.DuckDBPyConnection, plain: duckdb.DuckDBPyConnection) -> Scores:
    """Per reader, per file of ``corpus``: the F1 score and the (header, rows, cells) parts. A file
    whose parameters say ``refused`` (the code lakegate is to quarantine it with) is left out of
    both, and listed under ``refused`` with what lakegate did."""
    scores = Scores()
    for path in sorted((corpus / "csv").glob("*.csv")):
        params = json.loads((corpus / "parameters" / f"{path.name}_parameters.json").read_text())
        header_lines = int(params.get("header_lines", 1))
        try:
            want = clean_read(plain, corpus / "clean" / path.name, header_lines > 0)
        except duckdb.Error:
            want = ([], [])  # a clean file without data rows
        if params.get("refused"):
            try:
                lakegate_read(conn, path)
                scores.refused[path.name] = "read as one table"
            except Rejection as refused:
                scores.refused[path.name] = "refused" if refused.code == params["refused"] else refused.code
            continue
        results: dict[str, Table | None] = {}
        for name, read in (
            ("lakegate", lambda p: lakegate_read(conn, p)),
            ("duckdb", lambda p: duckdb_read(plain, p)),
        ):
            try:
                results[name] = read(path)
            except Rejection as refused:
                # a file with no data refused as such (reject.empty): nothing lost, nothing made up
                nothing = refused.code == "reject.empty" and not want[1]
                results[name] = (want[0], []) if nothing else None
            except duckdb.Error:
                results[name] = None
        for name, got in results.items():
            scores.f1[name][path.name] = f1_score(got, want, header_lines)
            scores.parts[name][path.name] = score(got, want, header_lines)
    return scores


@dataclass
class Scores:
    f1: dict[str, dict[str, float]] = field(default_factory=lambda: {"lakegate": {}, "duckdb": {}})
    parts: dict[str, dict[str, tuple[float, float, float]]] = field(
        default_factory=lambda: {"lakegate": {}, "duckdb": {}}
    )
    refused: dict[str, str] = field(default_factory=dict)


def report(title: str, scores: Scores, *, verbose: bool) -> None:
    n = len(scores.f1["lakegate"])
    if verbose:
        for name, parts in scores.parts.items():
            for path, (header, count, cells) in parts.items():
                print(f"{path:45s} {name:8s} header {header:.0f} rows {count:.0f} cells {cells:.2f}")
    print(f"messy CSV quality, {title}: {n} files (mean over files, 0-100)")
    print("| reader   | header | row count | cells | score |")
    print("|----------|--------|-----------|-------|-------|")
    totals = {}
    for name, parts in scores.parts.items():
        header, count, cells = (sum(p[i] for p in parts.values()) for i in range(3))
        totals[name] = header + count + cells
        shares = f"{header / n * 100:6.1f} | {count / n * 100:9.1f} | {cells / n * 100:5.1f}"
        print(f"| {name:8s} | {shares} | {totals[name] / (3 * n) * 100:5.1f} |")
    print(f"ratio lakegate / duckdb: {totals['lakegate'] / totals['duckdb']:.2f} (target: well above 1)")
    f1s = scores.f1
    ours_f1 = sum(f1s["lakegate"].values()) / n
    theirs_f1 = sum(f1s["duckdb"].values()) / n
    print(f"F1 (record and cell, mean over files): lakegate {ours_f1:.3f}, DuckDB auto {theirs_f1:.3f}"
          " (target: lakegate >= 0.90, no file 0.1 below DuckDB)")  # fmt: skip
    losses = sorted(
        (f1s["lakegate"][f] - f1s["duckdb"][f], f) for f in f1s["lakegate"] if f1s["lakegate"][f] < 0.999
    )
    print("files lakegate reads imperfectly (lakegate F1, DuckDB F1):" if losses else "every file read right")
    for delta, name in losses:
        mark = "  <- more than 0.1 below DuckDB" if delta < -0.1 else ""
        print(f"  {name:45s} {f1s['lakegate'][name]:.3f} {f1s['duckdb'][name]:.3f}{mark}")
    for name, what in scores.refused.items():
        print(f"  {name:45s} to be refused: {what}")


def main() -> None:
    verbose = "-v" in sys.argv
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS}")
    conn = duck.connect(threads=2)
    plain = duckdb.connect()
    report("70 Pollock files", f1_per_file(CORPUS, conn, plain), verbose=verbose)
    print()
    report("lakegate's own cases (tests/corpus/messy-csv)", f1_per_file(OWN, conn, plain), verbose=verbose)


if __name__ == "__main__":
    main()
