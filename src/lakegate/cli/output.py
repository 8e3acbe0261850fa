"""Writing query results: aligned text for people, CSV and JSON for programs."""

from __future__ import annotations

import csv
import json
import sys
from typing import TextIO

import pyarrow as pa

from lakegate import duck
from lakegate.query.results import json_objects


def as_text(table: pa.Table) -> list[list[str | None]]:
    """Every value as DuckDB casts it to VARCHAR (None for NULL), row by row."""
    if table.num_columns == 0:
        return []
    conn = duck.connect(threads=1)
    conn.register("result_table", table)
    select = ", ".join(f'CAST("{i}" AS VARCHAR)' for i in range(table.num_columns))
    renamed = table.rename_columns([str(i) for i in range(table.num_columns)])
    conn.register("result_table", renamed)
    rows = conn.execute(f"SELECT {select} FROM result_table").fetchall()
    conn.close()
    return [list(r) for r in rows]


def write_csv(table: pa.Table, out: TextIO = sys.stdout) -> None:
    """RFC 4180: header row (also for zero rows), quoting as needed, NULL as an empty field."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.column_names)
    for row in as_text(table):
        writer.writerow(["" if v is None else v for v in row])


def write_json(table: pa.Table, out: TextIO = sys.stdout) -> None:
    """A JSON array of objects; numbers stay numbers, dates and timestamps become ISO strings."""
    json.dump(json_objects(table), out, ensure_ascii=False)
    out.write("\n")


def write_table(table: pa.Table, out: TextIO = sys.stdout) -> None:
    """Aligned columns with a header rule; NULL shown as NULL; long values are never cut."""
    names = table.column_names
    rows = [["NULL" if v is None else v.replace("\n", "\\n") for v in row] for row in as_text(table)]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    numeric = [
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
        for t in table.schema.types
    ]

    def line(cells: list[str]) -> str:
        return " | ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out.write(line(names) + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(line(row) + "\n")
