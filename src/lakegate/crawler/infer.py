"""Schema inference: columns, types, dialect and row count of one file, using DuckDB's readers.

Everything found is stored per file in the catalog, so queries build tables from it and never
re-sniff. Each file is read in full once here, which proves it parses with the stored options.
Each format has its module: ``csv_files``, ``json_files``, ``parquet_files``, ``excel_files``;
text columns are typed in ``column_types`` and the full read's statistics kept in ``stats``.
"""

from __future__ import annotations

import duckdb

from lakegate.crawler.csv_files import csv_plan
from lakegate.crawler.detect import Detected
from lakegate.crawler.excel_files import excel_plan
from lakegate.crawler.json_files import json_plan
from lakegate.crawler.parquet_files import parquet_plan
from lakegate.duck.readers import FilePlan, Screen


def infer(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    size: int,
    screen: Screen | None = None,
    *,
    sheet: str = "",
    yes_no: bool = False,
) -> FilePlan:
    """Infer one file's plan, reading it in full.

    ``screen`` gives aggregates to compute in that same read (the value checks of the file's
    dataset), so they cost no read of their own; their results are the plan's ``screened``.
    Parquet is not read in full (its footer is enough), so its ``screened`` stays ``None``.
    ``sheet`` names the sheet of an Excel workbook to read (unset: its first sheet with data);
    ``yes_no``: CSV columns of only yes and no are booleans too (a dataset's ``yes_no_booleans``).

    Raises:
        Rejection: ``reject.unparseable``, ``reject.json_not_records`` or ``reject.truncated_parquet``.
    """
    if detected.format == "parquet":
        return parquet_plan(conn, path, size)
    if detected.format == "xlsx":
        return excel_plan(conn, path, sheet, screen)
    if detected.format == "json":
        return json_plan(conn, path, detected, screen)
    return csv_plan(conn, path, detected, screen, yes_no=yes_no)
