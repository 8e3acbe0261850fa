"""Schema inference: columns, types, dialect and row count of one file, using DuckDB's readers.

Everything found is stored per file in the catalog, so queries build tables from it and never
re-sniff. Each file is read in full once here, which proves it parses with the stored options.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from lakegate.crawler.detect import Detected
from lakegate.crawler.dialect import Dialect, guess
from lakegate.crawler.evolve import Column
from lakegate.crawler.names import column_names
from lakegate.crawler.temporal import refine
from lakegate.crawler.types import parse_type
from lakegate.engine_setup import engine_message
from lakegate.errors import Rejection

_ISO_TZ = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"


@dataclass
class FilePlan:
    format: str
    options: dict[str, Any]
    columns: list[Column]
    rows: int
    screened: list[Any] | None = None  # the screen's aggregates, when the full read ran them
    # Per column (lakegate name): {"min", "max", "nulls"}, what is known of them
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what reading it had to put up with
    skipped_lines: list[int] = field(default_factory=list)  # lines of rows left out (ragged rows)


# Extra aggregates (SQL over the columns by lakegate name) to compute in the full read.
Screen = Callable[[list[Column]], list[str]]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_name(fmt: str, column: Column) -> str:
    """The name a file's reader gives ``column``: CSV readers are told lakegate's names, the others
    keep the file's own."""
    return column.name if fmt == "csv" else column.original


def plan_select(path: str, plan: FilePlan) -> str:
    """A SELECT of one file, read as its plan says, with lakegate's column names."""
    if plan.format == "xlsx":
        return excel_select(path, plan.options, plan.columns)
    reader = reader_sql(
        [path], plan.format, plan.options, [(reader_name(plan.format, c), c.type) for c in plan.columns]
    )
    projection = ", ".join(
        f"{value_sql(plan.format, plan.options, c)} AS {quote_ident(c.name)}" for c in plan.columns
    )
    return f"SELECT {projection or '*'} FROM {reader}"


def value_sql(fmt: str, options: dict[str, Any], column: Column) -> str:
    """A column's values from its file's reader: the reader's column, or for a column with null
    tokens of its own (``-`` in a number column of a file whose other columns hold ``-`` as a
    value), its text with those tokens as NULL, cast to the column's type."""
    source = quote_ident(reader_name(fmt, column))
    tokens = (options.get("column_nulls") or {}).get(column.name)
    if not tokens:
        return source
    listed = ", ".join(sql_literal(t) for t in tokens)
    return f"CAST(CASE WHEN trim({source}) IN ({listed}) THEN NULL ELSE {source} END AS {column.type})"


def struct_literal(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in items) + "}"


def reader_sql(
    paths: list[str],
    fmt: str,
    options: dict[str, Any],
    types: list[tuple[str, str]],
    *,
    hive: bool = False,
    extra: str = "",
) -> str:
    """The DuckDB table function call that reads ``paths`` with stored ``options`` and column types.

    ``types`` pairs each column's name *as the reader sees it* with the type to read it as.
    ``hive`` adds the ``key=value`` folders of the paths as text columns. It is always explicit:
    DuckDB would otherwise guess from the paths, and a folder would turn into a column.
    """
    hive_args = "hive_partitioning=true, hive_types_autocast=false" if hive else "hive_partitioning=false"
    files = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
    # A column seen only as nulls has the lattice's bottom type NULL; readers take it as text, as
    # they do columns with null tokens of their own (``value_sql`` turns those into values).
    own_nulls = options.get("column_nulls") or {}
    types = [(name, "VARCHAR" if typ == "NULL" or name in own_nulls else typ) for name, typ in types]
    if fmt == "parquet":
        return f"read_parquet({files}, {hive_args})"
    args = [files]
    if fmt == "csv":
        args += [
            "auto_detect=false",
            f"delim={sql_literal(options['delim'])}",
            f"quote={sql_literal(options['quote'])}",
            f"escape={sql_literal(options['escape'])}",
            f"header={'true' if options['header'] else 'false'}",
            f"skip={int(options.get('skip', 0))}",
            f"compression={sql_literal(options.get('compression', 'none'))}",
            "null_padding=false",
            f"columns={struct_literal(types)}",
            hive_args,
        ]
        if options.get("encoding"):
            args.append(f"encoding={sql_literal(options['encoding'])}")
        if options.get("nullstr"):
            args.append("nullstr=[" + ", ".join(sql_literal(t) for t in options["nullstr"]) + "]")
        if options.get("ignore_errors"):
            args.append("ignore_errors=true")  # the rows the crawler reported as skipped
        if options.get("strict_mode") is False:
            args.append("strict_mode=false")  # quotes that never close, read as the crawler did
        if options.get("new_line"):
            args.append(f"new_line={sql_literal(options['new_line'])}")
        if options.get("comment"):
            args.append(f"comment={sql_literal(options['comment'])}")
        if options.get("decimal_separator"):
            args.append(f"decimal_separator={sql_literal(options['decimal_separator'])}")
        for key in ("dateformat", "timestampformat"):
            if options.get(key):
                args.append(f"{key}={sql_literal(options[key])}")
        if extra:
            args.append(extra)
        return f"read_csv({', '.join(args)})"
    args += [
        f"format={sql_literal(options['format'])}",
        f"compression={sql_literal(_json_compression(options.get('compression', 'none')))}",
        f"columns={struct_literal(types)}",
        hive_args,
    ]
    return f"read_json({', '.join(args)})"


def _json_compression(compression: str) -> str:
    return "uncompressed" if compression == "none" else compression  # read_json's spelling


def infer(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    size: int,
    screen: Screen | None = None,
    *,
    sheet: str = "",
) -> FilePlan:
    """Infer one file's plan, reading it in full.

    ``screen`` gives aggregates to compute in that same read (the value checks of the file's
    dataset), so they cost no read of their own; their results are the plan's ``screened``.
    Parquet is not read in full (its footer is enough), so its ``screened`` stays ``None``.
    ``sheet`` names the sheet of an Excel workbook to read (unset: its first sheet with data).

    Raises:
        Rejection: ``reject.unparseable``, ``reject.json_not_records`` or ``reject.truncated_parquet``.
    """
    if detected.format == "parquet":
        return _parquet(conn, path, size)
    if detected.format == "xlsx":
        return _excel(conn, path, sheet, screen)
    if detected.format == "json":
        return _json(conn, path, detected, screen)
    return _csv(conn, path, detected, screen)


def _read_all(conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, screen: Screen | None) -> FilePlan:
    """Read every value as ``plan`` says (proving the file parses so), counting its rows.

    count(col) for every column forces every value to be parsed and converted: projection
    pushdown would otherwise let a bad value in an unread column pass. When the screen's
    aggregates fail (a pattern the engine refuses, say), the file is read again without them:
    the checks then run on their own and say what is wrong with them.
    """
    row, stats, screened = _counted(conn, f"({plan_select(path, plan)})", plan.columns, screen)
    return replace(plan, rows=int(row[0]), screened=screened, stats=stats)


STAT_TEXT = 64  # text minimums are kept to this many characters; longer maximums are not kept


def orderable(typ: str) -> bool:
    """Whether a column of type ``typ`` has a minimum and maximum worth keeping."""
    return not any(t in typ for t in ("[", "STRUCT", "MAP", "UNION", "JSON", "BLOB", "NULL"))


def _jsonable(value: Any, *, high: bool) -> Any:
    """A statistic as JSON: numbers stay numbers, the rest is text (``None``: not kept)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    text = str(value)  # dates and times as ISO text, decimals exactly
    if isinstance(value, str) and len(text) > STAT_TEXT:
        return None if high else text[:STAT_TEXT]  # a prefix is still a lower bound
    return text


def column_stats(columns: list[Column], values: list[Any]) -> dict[str, dict[str, Any]]:
    """Per column statistics from ``values``: for each column its null count, then (orderable
    columns only) its minimum and maximum."""
    out: dict[str, dict[str, Any]] = {}
    it = iter(values)
    for c in columns:
        nulls = next(it)
        found: dict[str, Any] = {"nulls": int(nulls) if nulls is not None else None}
        if orderable(c.type):
            low, high = _jsonable(next(it), high=False), _jsonable(next(it), high=True)
            found |= {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        out[c.name] = {k: v for k, v in found.items() if v is not None}
    return out


def _stat_sql(columns: list[Column]) -> list[str]:
    out = []
    for c in columns:
        col = quote_ident(c.name)
        out.append(f"count(*) - count({col})")
        if orderable(c.type):
            out += [_as_stat(f"min({col})", c.type), _as_stat(f"max({col})", c.type)]
    return out


def _as_stat(sql: str, typ: str) -> str:
    """Numbers and booleans as they are; everything else as the engine writes it as text (dates
    and times in ISO form, zoned ones with their offset, decimals exactly)."""
    numeric = typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE", "FLOAT", "BOOLEAN")
    return sql if numeric or typ.startswith("U") else f"CAST({sql} AS VARCHAR)"


def _counted(
    conn: duckdb.DuckDBPyConnection, source: str, columns: list[Column], screen: Screen | None
) -> tuple[tuple[Any, ...], dict[str, dict[str, Any]], list[Any] | None]:
    """``count(*)`` and ``count(col)`` of every column over ``source``, its statistics, and the
    screen's aggregates when there are any: the row of counts, the columns' statistics, and the
    screen's results (``None`` when the engine refused them, the file then read again without)."""
    counts = ["count(*)", *(f"count({quote_ident(c.name)})" for c in columns)]
    stats = _stat_sql(columns)
    extra = screen(columns) if screen else []
    try:
        # fetchall: a rejects table the read writes is complete only when the query finishes
        [row] = conn.execute(f"SELECT {', '.join(counts + stats + extra)} FROM {source}").fetchall()
    except duckdb.Error:
        if not extra:
            raise
        extra = []  # the checks run on their own, and say why they cannot
        [row] = conn.execute(f"SELECT {', '.join(counts + stats)} FROM {source}").fetchall()
    found = column_stats(columns, list(row[len(counts) : len(counts) + len(stats)]))
    return row[: len(counts)], found, list(row[len(counts) + len(stats) :]) if extra else None


def _parquet(conn: duckdb.DuckDBPyConnection, path: str, size: int = 0) -> FilePlan:
    """A Parquet file's plan from its footer alone: columns (as the engine types them), rows and
    column statistics (read with pyarrow for a local file: a quarter of the engine's cost).

    The footer is the sender's word: a row count no file of its size could hold is refused
    (``reject.corrupt_parquet``), so it never reaches the catalog's counts and estimates."""
    lit = sql_literal(path)
    try:
        footer = _local_footer(path)
        chunks, schema = footer if footer is not None else (None, "")
        described = _DESCRIBED.get(schema) if schema else None
        if described is None:
            described = conn.execute(
                f"DESCRIBE SELECT * FROM read_parquet({lit}, hive_partitioning=false)"
            ).fetchall()
            if schema:
                if len(_DESCRIBED) >= 256:
                    _DESCRIBED.clear()
                _DESCRIBED[schema] = described
        if chunks is None:
            chunks = conn.execute(
                "SELECT row_group_id, row_group_num_rows, path_in_schema, stats_min_value, stats_max_value, "
                f"stats_null_count FROM parquet_metadata({lit})"
            ).fetchall()
    except duckdb.Error as exc:
        raise Rejection(
            f"the Parquet file cannot be read: {engine_message(exc)}",
            code="reject.truncated_parquet",
            hint="deliver the complete file again",
        ) from None
    originals = [d[0] for d in described]
    names = column_names(originals)
    cols = [Column(n, o, str(parse_type(d[1]))) for n, o, d in zip(names, originals, described, strict=True)]
    groups = {c[0]: c[1] for c in chunks}  # each row group once
    rows = int(sum(groups.values()))
    if "://" not in path:
        size = max(size, Path(path).stat().st_size)
    if rows > most_rows(size) or any(n < 0 for n in groups.values()):
        raise Rejection(
            f"the Parquet footer claims {rows:,} rows, more than a file of {size:,} bytes can hold",
            code="reject.corrupt_parquet",
            hint="the file was damaged or made by hand; deliver it again as its writer made it",
            details={"claimed_rows": rows, "size": size},
        )
    return FilePlan("parquet", {}, cols, rows, stats=_footer_stats(chunks, cols))


def most_rows(size: int) -> int:
    """The most rows a Parquet file of ``size`` bytes can hold: each page has a header of at
    least 10 bytes and at most 2^31 - 1 values."""
    return (size // 10 + 1) * (2**31 - 1)


# The engine's columns for a Parquet schema (pyarrow's text of it): files of one schema are
# described once, as a crawl of many files of one table needs.
_DESCRIBED: dict[str, list[Any]] = {}


def _local_footer(path: str) -> tuple[list[tuple[Any, ...]], str] | None:
    """A local Parquet file's column chunks as ``parquet_metadata`` gives them (row group, its
    rows, column path, min, max, null count), and its schema as text, read by pyarrow; ``None``
    when it cannot be."""
    if "://" in path:
        return None
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        out: list[tuple[Any, ...]] = []
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                st = chunk.statistics
                known = st is not None and st.has_min_max
                out.append((
                    g, group.num_rows, chunk.path_in_schema,
                    st.min if known else None, st.max if known else None,
                    st.null_count if st is not None and st.has_null_count else None,
                ))  # fmt: skip
        return out, str(meta.schema).split("\n", 1)[-1]  # without its first line: the object's address
    except Exception:  # anything pyarrow cannot read, the engine reads or explains
        return None


def _footer_value(text: Any, typ: str) -> Any:
    """A footer's min or max (text from the engine, a value from pyarrow) as a statistic:
    numbers as numbers, the rest as text."""
    if text is None or not isinstance(text, str):
        return None if isinstance(text, bytes) else text
    try:
        if typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT") or typ.startswith("UINT"):
            return int(text)
        if typ in ("DOUBLE", "FLOAT"):
            return float(text)
        if typ == "BOOLEAN":
            return text.lower() == "true"
        if typ.startswith("DECIMAL"):
            return Decimal(text)
    except (ValueError, ArithmeticError):
        return None
    return text


def _footer_stats(chunks: list[Any], columns: list[Column]) -> dict[str, dict[str, Any]]:
    """Column statistics from a Parquet footer's column chunks (top-level columns; what the writer
    recorded, so some may be missing: then that bound is not known)."""
    by_path: dict[str, list[Any]] = {}
    for chunk in chunks:
        by_path.setdefault(chunk[2], []).append(chunk)
    values: list[Any] = []
    for c in columns:
        mine = by_path.get(c.original, [])
        counts = [m[5] for m in mine]
        values.append(None if not mine or None in counts else sum(counts))
        if orderable(c.type):
            lows = [_footer_value(m[3], c.type) for m in mine]
            highs = [_footer_value(m[4], c.type) for m in mine]
            values.append(None if not mine or None in lows else min(lows))
            values.append(None if not mine or None in highs else max(highs))
    return column_stats(columns, values)


SAMPLE_BYTES = 256 * 1024  # of text, for the dialect guess
MAX_SKIPPED_SHARE = 0.1  # a dialect that has to skip more rows than this is the wrong dialect
CONFIDENT = 0.9  # a guessed dialect this consistent is not second-guessed by the engine's sniffer
_REJECTS = "lakegate_rejects"
_REJECT_TABLES = itertools.count()


def _text_sample(path: str, compression: str, encoding: str) -> tuple[str, bool] | None:
    """The first ``SAMPLE_BYTES`` of a local file's text, and whether that is all of it."""
    import gzip

    if "://" in path or compression not in ("none", "gzip"):
        return None
    opener = gzip.open if compression == "gzip" else open
    try:
        with opener(path, "rb") as stream:
            data = stream.read(SAMPLE_BYTES + 1)
    except (OSError, EOFError):
        return None
    complete = len(data) <= SAMPLE_BYTES
    return data[:SAMPLE_BYTES].decode(encoding, errors="replace").lstrip("\ufeff"), complete


def _attempts(path: str, detected: Detected) -> list[tuple[str, dict[str, Any], Dialect | None]]:
    """Sniffer calls to try, best first: the dialect guessed from evidence (rows that do not fit
    are skipped and reported), then DuckDB's own sniffing of a sample and of the whole file."""
    lit, compression = sql_literal(path), sql_literal(detected.compression)
    if detected.encoding != "utf-8":  # the reader decodes Latin-1 and UTF-16 itself
        compression += f", encoding={sql_literal(detected.encoding)}"
    out: list[tuple[str, dict[str, Any], Dialect | None]] = []
    sample = _text_sample(path, detected.compression, detected.encoding)
    dialect = guess(sample[0], complete=sample[1]) if sample else None
    if dialect is not None:
        header_rows = dialect.header_rows
        # A backslash that escapes in a few rows of the sample may be plain text elsewhere: the
        # doubled-quote reading is tried too.
        for escape in dict.fromkeys((dialect.escape, dialect.quote)):
            fixed: dict[str, Any] = {
                "delim": dialect.delimiter,
                "quote": dialect.quote,
                "escape": escape,
                "skip": dialect.preamble + max(header_rows - 1, 0),
                "header": header_rows > 0,
            }
            args = ", ".join(
                f"{k}={sql_literal(v) if isinstance(v, str) else str(v).lower()}" for k, v in fixed.items()
            )
            for size in (20480, -1):
                # strict_mode off: the sniffer only types the columns here, and a stray quote in
                # one row must not stop it; the read itself stays strict and skips that row.
                options = (
                    f"ignore_errors=true, strict_mode=false, sample_size={size}, compression={compression}"
                )
                out.append((f"sniff_csv({lit}, {args}, {options})", fixed, dialect))
            out.append(("", fixed, dialect))  # the engine's sniffer gave up: type the columns ourselves
    if dialect is None or dialect.consistency < CONFIDENT:
        for size in (20480, -1):  # when the sample misled the sniffer, look at the whole file
            out.append((f"sniff_csv({lit}, sample_size={size}, compression={compression})", {}, None))
    return out


_SNIFFED = ", ".join([
    "Delimiter", "Quote", "Escape", "NewLineDelimiter", "Comment", "SkipRows", "HasHeader", "Columns",
    "DateFormat", "TimestampFormat",
])  # fmt: skip


def _csv(conn: duckdb.DuckDBPyConnection, path: str, detected: Detected, screen: Screen | None) -> FilePlan:
    last_error = ""
    for call, fixed, dialect in _attempts(path, detected):
        try:
            if call:
                sniffed = conn.execute(f"SELECT {_SNIFFED} FROM {call}").fetchone()
            else:
                assert dialect is not None
                sniffed = _type_columns(conn, path, fixed, dialect, detected)
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            continue
        assert sniffed is not None
        delim, quote, escape, newline, comment, skip, header, cols, datefmt, tsfmt = sniffed
        quote = '"' if quote in ("(empty)", "") else quote
        escape = quote if escape in ("(empty)", "") else escape
        options: dict[str, Any] = {
            "delim": delim,
            "quote": quote,
            "escape": escape,
            "header": bool(header),
            "skip": int(skip or 0),
            "compression": detected.compression,
            "new_line": "" if newline in ("(empty)", None) else newline,  # DuckDB spelling, e.g. \\r\\n
            "comment": "" if comment in ("(empty)", None) else comment,
            "dateformat": datefmt or "",
            "timestampformat": tsfmt or "",
        }
        options |= fixed
        if detected.encoding != "utf-8":
            options["encoding"] = detected.encoding
        if dialect is not None and dialect.columns != len(cols):
            continue  # the sniffer disagrees with the evidence
        originals = [c["name"] for c in cols] if options["header"] else [""] * len(cols)
        if dialect is not None and dialect.header_rows > 1:
            originals = list(dialect.names)
        names = column_names(originals)
        if not options["header"]:
            originals = names
        types = [str(parse_type(c["type"])) for c in cols]
        columns = [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]
        preamble = dialect.preamble if dialect is not None else options["skip"]
        text = {**options, "ignore_errors": True, "strict_mode": False}
        text_reader = reader_sql([path], "csv", text, [(c.name, "VARCHAR") for c in columns])
        # the guess's parsed sample says which columns are worth a closer look (its columns
        # are the file's only when the guess and the reader agree on them)
        records = dialect.rows if dialect is not None and dialect.columns == len(columns) else None
        columns, options, decided = refine(conn, text_reader, columns, options, records)
        plan = FilePlan("csv", options, columns, 0, warnings=decided)
        try:
            if dialect is not None and dialect.null_tokens:
                plan = _null_tokens(conn, path, plan, dialect.null_tokens)
            if dialect is None:
                done = _read_all(conn, path, plan, screen)
            else:
                done = _read_clean(conn, path, plan, screen, dialect) or _read_tolerant(
                    conn, path, plan, screen, dialect.records
                )
            if preamble:
                lines = f"{preamble} line{'s' if preamble > 1 else ''}"
                done.warnings.insert(
                    0, f"the first {lines} came before the table and were left out (a preamble)"
                )
            return done
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            continue
        except _TooManySkipped as exc:
            last_error = str(exc)
            continue
    raise Rejection(
        f"the file cannot be parsed as CSV: {last_error}",
        code="reject.unparseable",
        hint="fix the line named above and deliver the file again",
        details={"engine_error": last_error},
    )


_CANDIDATE_TYPES = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN")


def _castable(value: str, where: str = "TRUE") -> list[str]:
    """Per candidate type, how many rows meeting ``where`` have ``value`` readable as that type."""
    return [
        # TRY_CAST rounds '1.5' to an integer: integers are recognised by their digits
        f"count(*) FILTER (WHERE {where} AND regexp_full_match(trim({value}), '[+-]?[0-9]+'))"
        if t == "BIGINT"
        else f"count(*) FILTER (WHERE {where} AND TRY_CAST({value} AS {t}) IS NOT NULL)"
        for t in _CANDIDATE_TYPES
    ]


def _type_columns(
    conn: duckdb.DuckDBPyConnection, path: str, fixed: dict[str, Any], dialect: Dialect, detected: Detected
) -> tuple[Any, ...]:
    """What ``sniff_csv`` would answer, for a file it cannot sniff: each column's narrowest type
    that every value of it casts to (text when none does), from one read of the whole file."""
    raw = [(f"c{i}", "VARCHAR") for i in range(dialect.columns)]
    options = {**fixed, "compression": detected.compression, "ignore_errors": True, "strict_mode": False}
    if detected.encoding != "utf-8":
        options["encoding"] = detected.encoding
    reader = reader_sql([path], "csv", options, raw)
    checks = [sql for name, _ in raw for sql in (f"count({name})", *_castable(name))]
    [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {reader}").fetchall()
    width = 1 + len(_CANDIDATE_TYPES)
    columns = []
    for i, name in enumerate(dialect.names or [f"column{i}" for i in range(dialect.columns)]):
        present, *fits = row[i * width : (i + 1) * width]
        typ = next(
            (t for t, n in zip(_CANDIDATE_TYPES, fits, strict=True) if present and n == present), "VARCHAR"
        )
        columns.append({"name": name, "type": typ if present else "VARCHAR"})
    return (
        fixed["delim"],
        fixed["quote"],
        fixed["escape"],
        "",
        "",
        fixed["skip"],
        fixed["header"],
        columns,
        "",
        "",
    )


def _null_tokens(
    conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, tokens: tuple[str, ...]
) -> FilePlan:
    """Read ``tokens`` (``NA``, ``-``...) as NULL when that gives their columns a real type.

    Each column with tokens takes the type all its other values have; a column where a token is
    a value of its own (a country code ``NA`` is Namibia) keeps them as text. The reader's null
    strings apply to every column, so when some column keeps its tokens, the others convert
    theirs in the projection (``column_nulls``). Decided over the whole file, read as text.
    """
    listed = ", ".join(sql_literal(t) for t in tokens)
    options = {**plan.options, "ignore_errors": True}
    text = reader_sql([path], "csv", options, [(c.name, "VARCHAR") for c in plan.columns])
    checks = []
    for c in plan.columns:
        col, real = quote_ident(c.name), f"trim({quote_ident(c.name)}) NOT IN ({listed})"
        checks += [f"count({col})", f"count(*) FILTER (WHERE NOT {real})", *_castable(f"trim({col})", real)]
    try:
        [row] = conn.execute(f"SELECT {', '.join(checks)} FROM {text}").fetchall()
    except duckdb.Error:
        return plan
    width = 2 + len(_CANDIDATE_TYPES)
    retype: dict[str, str] = {}
    valued = False  # some column holds a token as a value of its own
    for i, c in enumerate(plan.columns):
        present, nulls, *fits = row[i * width : (i + 1) * width]
        if not nulls:
            continue
        typ = next((t for t, n in zip(_CANDIDATE_TYPES, fits, strict=True) if n == present - nulls > 0), None)
        if typ is None:
            valued = True  # a token is a value in this column: it keeps its tokens as text
        else:
            retype[c.name] = typ
    if not retype:
        return plan
    columns = [replace(c, type=retype[c.name]) if c.name in retype else c for c in plan.columns]
    where = ", ".join(c.name for c in columns if c.name in retype)
    said = f"{', '.join(tokens)} read as empty values (in {where})"
    if valued:  # the reader's null strings are the whole file's: these columns convert their own
        options = {**plan.options, "column_nulls": {name: list(tokens) for name in retype}}
    else:
        options = {**plan.options, "nullstr": ["", *tokens]}
    return replace(plan, columns=columns, options=options, warnings=[*plan.warnings, said])


def _read_clean(
    conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, screen: Screen | None, dialect: Dialect
) -> FilePlan | None:
    """The full read of a file whose sample every record agreed on: strict, in one query. ``None``
    when it is not that clean after all (a bad row or value further on, or fewer rows than the
    sample had: a quote that never closes), for the tolerant read to sort out."""
    if dialect.consistency < 1.0:
        return None
    try:
        done = _read_all(conn, path, plan, screen)
    except duckdb.Error:
        return None
    return done if done.rows >= dialect.records else None


class _TooManySkipped(Exception):
    pass


class NotAllUTF8(Exception):
    """Lines of a file read as UTF-8 are not UTF-8: it is to be read again, line by line by
    the evidence of each (``normalize.MIXED``), never with those rows left out."""

    def __init__(self, lines: list[int]) -> None:
        super().__init__(f"lines {lines[:10]} are not UTF-8")
        self.lines = lines


def _read_tolerant(
    conn: duckdb.DuckDBPyConnection, path: str, plan: FilePlan, screen: Screen | None, expected: int
) -> FilePlan:
    """Read a file whose dialect came from evidence: rows without the table's fields are skipped
    (and reported with their lines), never shifted; a value that does not fit its column's type
    widens the column to text instead of losing the row.

    ``expected`` is how many data records the guess saw in its sample. A strict reader that
    returns fewer met a quote that never closes and read the rest of the file as one field:
    then quotes are read leniently (``strict_mode=false``), and the file's warnings say so.
    """
    columns = list(plan.columns)
    for _ in range(len(columns) + 1):
        probe = replace(plan, columns=columns, options={**plan.options, "ignore_errors": True})
        table = f"{_REJECTS}_{next(_REJECT_TABLES)}"  # the engine creates each rejects table once
        reader = reader_sql(
            [path], "csv", probe.options, [(c.name, c.type) for c in columns],
            extra=f"store_rejects=true, rejects_table='{table}', rejects_scan='{table}_scans'",
        )  # fmt: skip
        if probe.options.get("column_nulls"):
            projection = ", ".join(
                f"{value_sql('csv', probe.options, c)} AS {quote_ident(c.name)}" for c in columns
            )
            reader = f"(SELECT {projection} FROM {reader})"
        try:
            total, stats, screened = _counted(conn, reader, columns, screen)
            rejects = conn.execute(
                f"SELECT line, error_type, column_name, error_message FROM {table} ORDER BY line"
            ).fetchall()
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {table}_scans")
        not_utf8 = [int(r[0]) for r in rejects if r[1] in ("INVALID ENCODING", "INVALID_UNICODE")]
        if not_utf8:
            raise NotAllUTF8(not_utf8)
        cast = [r for r in rejects if r[1] == "CAST" and r[2]]
        if cast:
            widen = {identifier_of(columns, r[2]) for r in cast}
            columns = [replace(c, type="VARCHAR") if c.name in widen else c for c in columns]
            continue
        assert total is not None
        kept = int(total[0])
        if len(rejects) > max(2, MAX_SKIPPED_SHARE * (kept + len(rejects))):
            raise _TooManySkipped(
                f"{len(rejects)} of {kept + len(rejects)} rows do not fit the dialect: {rejects[0][3]}"
            )
        if not rejects and kept >= expected:  # read whole and clean: this read was the full read
            return replace(plan, columns=columns, rows=kept, screened=screened, stats=stats)
        options = {**plan.options, "ignore_errors": True} if rejects else plan.options
        done = _read_all(conn, path, replace(plan, columns=columns, options=options), screen)
        # The engine's plain read (what queries do) can stop at a quote that never closes, where
        # the probe went on: fewer rows than the probe, or than the sample holds, means that.
        if done.rows != kept or kept + len(rejects) < expected:
            if plan.options.get("strict_mode") is False:
                line = rejects[0][0] if rejects else unclosed_quote_line(path, plan.options)
                where = f"on line {line} " if line else ""
                raise _TooManySkipped(
                    f"a quote opens {where}and never closes, so the rows after it cannot be told apart"
                )
            lenient = replace(plan, columns=columns, options={**plan.options, "strict_mode": False})
            done = _read_tolerant(conn, path, lenient, screen, expected)
            where = f" (line {rejects[0][0]})" if rejects else ""
            done.warnings.insert(0, f"a quote in this file never closes{where}: quotes were read leniently")
            return done
        if rejects:
            lines = [int(r[0]) for r in rejects]
            shown = ", ".join(str(n) for n in lines[:10]) + (", …" if len(lines) > 10 else "")
            done.warnings.append(
                f"{len(lines)} row{'s' if len(lines) > 1 else ''} skipped for not having the table's "
                f"{len(columns)} fields (line{'s' if len(lines) > 1 else ''} {shown})"
            )
            done.skipped_lines = lines
        return done
    raise _TooManySkipped("the column types never settled")


def unclosed_quote_line(path: str, options: dict[str, Any]) -> int | None:
    """The line where a quote opens that no later line closes, in a local file read as
    ``options`` say (``None`` when it cannot be told: compressed, remote, or no such quote)."""
    if "://" in path or options.get("compression", "none") != "none":
        return None
    quote, escape = options.get("quote", '"'), options.get("escape", '"')
    inside, opened = False, None
    try:
        with open(path, encoding=options.get("encoding") or "utf-8", errors="replace", newline="") as text:
            for number, raw in enumerate(text, start=1):
                line = (
                    raw.replace(escape + escape, "").replace(escape + quote, "") if escape != quote else raw
                )
                if line.count(quote) % 2:  # a doubled quote inside a field counts twice: no change
                    inside = not inside
                    opened = number if inside else None
    except OSError:
        return None
    return opened if inside else None


def identifier_of(columns: list[Column], reader_column: str) -> str:
    """A column's lakegate name from the name the reader reported in an error."""
    for c in columns:
        if reader_column in (c.name, c.original):
            return c.name
    return reader_column


def _json(conn: duckdb.DuckDBPyConnection, path: str, detected: Detected, screen: Screen | None) -> FilePlan:
    layouts = [detected.json_layout]
    if detected.json_layout == "newline_delimited":
        layouts.append("unstructured")  # objects over several lines: one pretty-printed object, say
    described: list[Any] = []
    for layout in layouts:
        options = {"format": layout, "compression": detected.compression}
        lit = sql_literal(path)
        auto = (
            f"read_json({lit}, format={sql_literal(layout)}, "
            f"compression={sql_literal(_json_compression(detected.compression))}, sample_size=-1, "
            "hive_partitioning=false)"
        )
        try:
            described = conn.execute(f"DESCRIBE SELECT * FROM {auto}").fetchall()
            break
        except duckdb.Error as exc:
            message = engine_message(exc)
            if layout != layouts[-1]:
                continue
            code = "reject.unparseable"
            if "array of objects" in message or "records" in message.lower() or "STRUCT" in message:
                code = "reject.json_not_records"
            raise Rejection(
                f"the file cannot be read as JSON records: {message}",
                code=code,
                hint="deliver one JSON object per line (NDJSON), a JSON array of objects, or one object",
                details={"engine_error": message},
            ) from None
    if len(described) == 1 and described[0][0] == "json":
        [(count,)] = conn.execute(f"SELECT count(*) FROM {auto}").fetchall()
        if not count:
            raise Rejection(
                "the JSON holds no records", code="reject.empty", hint="deliver it again with data"
            )
        raise Rejection(
            "the JSON holds values that are not objects, so it has no columns",
            code="reject.json_not_records",
            hint="deliver one JSON object per line (NDJSON), a JSON array of objects, or one object",
        )
    originals = [d[0] for d in described]
    names = column_names(originals)
    types: list[str] = []
    for original, (_, typ, *_rest) in zip(originals, described, strict=True):
        types.append(_refine_json_type(conn, auto, original, typ))
    columns = [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]
    try:
        return _read_all(conn, path, FilePlan("json", options, columns, 0), screen)
    except duckdb.Error as exc:
        message = engine_message(exc)
        raise Rejection(
            f"the file cannot be read as JSON records: {message}",
            code="reject.unparseable",
            details={"engine_error": message},
        ) from None


def _refine_json_type(conn: duckdb.DuckDBPyConnection, reader: str, original: str, typ: str) -> str:
    """DuckDB leaves mixed or all-null fields as JSON and zoned ISO timestamps as VARCHAR; fix both."""
    quoted = '"' + original.replace('"', '""') + '"'
    if typ == "JSON":
        row = conn.execute(f"SELECT count({quoted}) FROM {reader}").fetchone()
        return "NULL" if row and row[0] == 0 else "VARCHAR"
    if typ == "VARCHAR":
        zoned = f"regexp_matches({quoted}, {sql_literal(_ISO_TZ)})"
        row = conn.execute(
            f"SELECT count({quoted}), count(*) FILTER (WHERE {zoned}) FROM {reader}"
        ).fetchone()
        if row and row[0] > 0 and row[0] == row[1]:
            return "TIMESTAMP WITH TIME ZONE"
    return str(parse_type(typ))


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


def _xlsx_reader(path: str, options: dict[str, Any], *, text: bool) -> str:
    args = [
        sql_literal(path),
        f"sheet={sql_literal(options['sheet'])}",
        f"header={'true' if options['header'] else 'false'}",
        "stop_at_empty=false",
        "all_varchar=true" if text else "ignore_errors=true, empty_as_varchar=true",
    ]
    return f"read_xlsx({', '.join(args)})"


def excel_select(path: str, options: dict[str, Any], columns: list[Column]) -> str:
    """A SELECT of one sheet with lakegate's names. Cells are read with the types Excel gave them;
    a column with cells of several kinds is read as the text Excel shows. Empty rows are left out."""
    typed, text = _xlsx_reader(path, options, text=False), _xlsx_reader(path, options, text=True)
    as_text = set(options.get("text_columns", []))
    projection = []
    for i, c in enumerate(columns):
        source = f"{'s' if c.name in as_text else 't'}.column{i}"
        projection.append(
            f"CAST({source} AS {'VARCHAR' if c.type == 'NULL' else c.type}) AS {quote_ident(c.name)}"
        )
    n = len(columns)
    aliases = ", ".join(f"column{i}" for i in range(n))
    return (
        f"SELECT {', '.join(projection)} FROM (SELECT * FROM {typed}) AS t({aliases}) "
        f"POSITIONAL JOIN (SELECT * FROM {text}) AS s({aliases}) "
        f"WHERE NOT ({' AND '.join(f's.column{i} IS NULL' for i in range(n))})"
    )


def _excel(conn: duckdb.DuckDBPyConnection, path: str, sheet: str, screen: Screen | None) -> FilePlan:
    from lakegate import engine_setup

    engine_setup.load_extension(conn, "excel")
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
        f"(SELECT * FROM {_xlsx_reader(path, options, text=False)}) AS t({aliases}) "
        f"POSITIONAL JOIN (SELECT * FROM {_xlsx_reader(path, options, text=True)}) AS s({aliases})"
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
    return _read_all(conn, path, plan, screen)


__all__ = ["FilePlan", "infer", "plan_select", "quote_ident", "reader_name", "reader_sql", "sql_literal"]
