"""Schema inference: columns, types, dialect and row count of one file, using DuckDB's readers.

Everything found is stored per file in the catalog, so queries build tables from it and never
re-sniff. Each file is read in full once here, which proves it parses with the stored options.
Each format has its module: ``csv_files``, ``json_files``, ``parquet_files``, ``excel_files``;
text columns are typed in ``column_types`` and the full read's statistics kept in ``stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from typing import Any, BinaryIO

import duckdb

from lakegate.crawler.csv_files import NotAllUTF8, QuotesToRepair, csv_plan
from lakegate.crawler.detect import MIXED, Detected
from lakegate.crawler.excel_files import excel_plan
from lakegate.crawler.json_files import json_plan
from lakegate.crawler.normalize import Readable, readable
from lakegate.crawler.parquet_files import parquet_plan
from lakegate.duck.readers import FilePlan, Screen
from lakegate.errors import Rejection


def infer(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    size: int,
    screen: Screen | None = None,
    *,
    sheet: str = "",
    yes_no: bool = False,
    copy_to: str | None = None,
) -> FilePlan:
    """Infer one file's plan, reading it in full.

    ``screen`` gives aggregates to compute in that same read (the value checks of the file's
    dataset), so they cost no read of their own; their results are the plan's ``screened``.
    Parquet is not read in full (its footer is enough), so its ``screened`` stays ``None``.
    ``sheet`` names the sheet of an Excel workbook to read (unset: its first sheet with data);
    ``yes_no``: CSV columns of only yes and no are booleans too (a dataset's ``yes_no_booleans``).
    ``copy_to``: a CSV or JSON file's Parquet copy is written there in the full read, when it can
    be (the plan's ``copy`` says so).

    Raises:
        Rejection: ``reject.unparseable``, ``reject.json_not_records`` or ``reject.truncated_parquet``.
    """
    if detected.format == "parquet":
        return parquet_plan(conn, path, size)
    if detected.format == "xlsx":
        return excel_plan(conn, path, sheet, screen)
    if detected.format == "json":
        return json_plan(conn, path, detected, screen, copy_to=copy_to)
    return csv_plan(conn, path, detected, screen, yes_no=yes_no, copy_to=copy_to)


def read_and_infer(
    stack: ExitStack,
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    size: int,
    *,
    source: Callable[[], BinaryIO] | None = None,
    **options: Any,
) -> tuple[Readable, FilePlan]:
    """The file made readable (``normalize.readable``, held open by ``stack``) and its plan. What
    only a full read finds is acted on by reading it again: lines that are not UTF-8 (each line
    read by its own evidence) and quotes that never close (records repaired as a forgiving CSV
    parser reads them). ``options`` go to ``infer``.

    Raises:
        Rejection: as ``infer``.
    """
    ready = stack.enter_context(readable(path, detected, source))
    repairing: QuotesToRepair | None = None
    for _ in range(3):
        try:
            return ready, infer(conn, ready.path, ready.detected, size, **_for(ready, options))
        except NotAllUTF8:
            if detected.encoding == MIXED:
                raise
            detected = replace(detected, encoding=MIXED)
        except QuotesToRepair as exc:
            repairing, detected = exc, replace(detected, repair=exc.dialect)
        except Rejection:
            if repairing is None:
                raise
            # the repaired records do not read either: the file's own reason, with its lines
            raise Rejection(
                repairing.message, code=repairing.code, hint=repairing.hint, details=repairing.details
            ) from None
        ready = stack.enter_context(readable(path, detected, source))
    return ready, infer(conn, ready.path, ready.detected, size, **_for(ready, options))


def _for(ready: Readable, options: dict[str, Any]) -> dict[str, Any]:
    """``infer``'s options for ``ready``: a copy in the full read only of a file read in place
    (one made readable gets the copy it needs, from the readable file)."""
    return options if not ready.reason else {**options, "copy_to": None}
