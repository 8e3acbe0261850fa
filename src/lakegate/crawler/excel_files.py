"""Excel workbooks: which sheet is read, its header, and each column's type from its cells."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import duckdb

from lakegate.crawler.stats import read_all
from lakegate.duck import engine_message
from lakegate.duck.readers import FilePlan, Screen, xlsx_reader
from lakegate.duck.sql import sql_literal
from lakegate.errors import Rejection
from lakegate.names import column_names
from lakegate.schema import Column
from lakegate.types import parse_type


def workbook_sheets(path: str) -> list[str]:
    """The names of an Excel workbook's sheets, in their order.

    Raises:
        Rejection: ``reject.unparseable`` when the file is not a readable workbook.
    """
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as book:
            root = ElementTree.fromstring(book.read("xl/workbook.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise Rejection(
            f"the file looks like an Excel workbook but cannot be read as one: {exc}",
            code="reject.unparseable",
            hint="save it again from Excel as .xlsx (or export it as CSV) and deliver it again",
        ) from None
    return [e.get("name", "") for e in root.iter() if e.tag.endswith("}sheet") or e.tag == "sheet"]


def excel_plan(conn: duckdb.DuckDBPyConnection, path: str, sheet: str, screen: Screen | None) -> FilePlan:
    from lakegate import duck

    duck.load_extension(conn, "excel")
    sheets = workbook_sheets(path)
    if sheet and sheet not in sheets:
        raise Rejection(
            f"the workbook has no sheet {sheet!r}; it has {', '.join(map(repr, sheets))}",
            code="reject.sheet",
            hint="name one of its sheets in the dataset's `sheet`, or deliver the workbook with that sheet",
            details={"sheets": sheets},
        )
    described: list[Any] = []
    with_data: list[str] = []
    for name in [sheet] if sheet else sheets:
        try:
            found = conn.execute(
                f"DESCRIBE SELECT * FROM read_xlsx({sql_literal(path)}, sheet={sql_literal(name)}, "
                "stop_at_empty=false, ignore_errors=true, empty_as_varchar=true)"
            ).fetchall()
        except duckdb.Error as exc:
            if "No rows found" in str(exc):
                continue
            raise Rejection(
                f"sheet {name!r} of the workbook cannot be read: {engine_message(exc)}",
                code="reject.unparseable",
                hint="save it again from Excel as .xlsx (or export it as CSV) and deliver it again",
            ) from None
        with_data.append(name)
        if not described:
            described, sheet = found, name
    if not described:
        raise Rejection(
            "the workbook's sheets hold no data", code="reject.empty", hint="deliver it again with data"
        )
    warnings = []
    if len(with_data) > 1:
        others = ", ".join(repr(n) for n in with_data[1:])
        warnings.append(
            f"sheet {sheet!r} was read; the workbook's other sheets with data ({others}) were not "
            "(name the sheet to read in the dataset's `sheet`)"
        )
    originals = [d[0] for d in described]
    # Without a header row, the reader names columns by their cells (A1, B1...): no names at all.
    header = not all(re.fullmatch(r"[A-Z]{1,3}1", o) for o in originals)
    names = column_names(originals if header else [""] * len(originals))
    options: dict[str, Any] = {"sheet": sheet, "header": header, "text_columns": []}
    typed = [str(parse_type(d[1])) for d in described]
    columns = [Column(n, o if header else n, "VARCHAR") for n, o in zip(names, originals, strict=True)]
    # Cells the typed read could not take (text in a number column) make their column text;
    # numbers that are all whole become integers.
    n = len(columns)
    aliases = ", ".join(f"column{i}" for i in range(n))
    pair = (
        f"(SELECT * FROM {xlsx_reader(path, options, text=False)}) AS t({aliases}) "
        f"POSITIONAL JOIN (SELECT * FROM {xlsx_reader(path, options, text=True)}) AS s({aliases})"
    )
    checks = []
    for i, typ in enumerate(typed):
        checks.append(f"count(s.column{i}) - count(t.column{i})")
        whole = (
            f"t.column{i} = trunc(t.column{i}) AND abs(t.column{i}) < 9e15" if typ == "DOUBLE" else "false"
        )
        checks.append(f"count(*) FILTER (WHERE t.column{i} IS NOT NULL AND NOT ({whole}))")
    [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {pair}").fetchall()
    for i, typ in enumerate(typed):
        lost, fractional = row[2 * i], row[2 * i + 1]
        if lost:
            options["text_columns"].append(columns[i].name)
        elif typ == "DOUBLE" and not fractional:
            columns[i] = replace(columns[i], type="BIGINT")
        else:
            columns[i] = replace(columns[i], type=typ)
    plan = FilePlan("xlsx", options, columns, 0, warnings=warnings)
    return read_all(conn, path, plan, screen)
