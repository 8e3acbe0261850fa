"""Delimited text: the dialect (guessed from evidence, then the engine's sniffer), the columns,
and a read that proves every row parses — skipping and reporting the rows that do not fit.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import duckdb

from lakegate.crawler import forgiving
from lakegate.crawler.column_types import null_tokens, strict_booleans, type_columns
from lakegate.crawler.detect import Detected
from lakegate.crawler.dialect import Dialect, guess
from lakegate.crawler.stats import counted, read_all
from lakegate.crawler.temporal import refine
from lakegate.duck import engine_message
from lakegate.duck.readers import FilePlan, Screen, reader_sql, value_sql
from lakegate.duck.sql import quote_ident, sql_literal
from lakegate.errors import Rejection
from lakegate.names import column_names
from lakegate.schema import Column
from lakegate.types import parse_type

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


def csv_plan(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    detected: Detected,
    screen: Screen | None,
    *,
    yes_no: bool = False,
    copy_to: str | None = None,
) -> FilePlan:
    last_error = ""
    unclosed: UnclosedQuote | None = None
    for call, fixed, dialect in _attempts(path, detected):
        try:
            if call:
                sniffed = conn.execute(f"SELECT {_SNIFFED} FROM {call}").fetchone()
            else:
                assert dialect is not None
                sniffed = type_columns(conn, path, fixed, dialect, detected)
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            continue
        assert sniffed is not None
        options, cols = _sniffed_options(sniffed, detected)
        options |= fixed
        if dialect is not None and dialect.columns != len(cols):
            continue  # the sniffer disagrees with the evidence
        if dialect is not None and dialect.blocks:
            raise several_tables([(1 + dialect.preamble, dialect.columns, dialect.names), *dialect.blocks])
        columns = _header_columns(cols, dialect, header=options["header"])
        preamble = dialect.preamble if dialect is not None else options["skip"]
        text = {**options, "ignore_errors": True, "strict_mode": False}
        text_reader = reader_sql([path], "csv", text, [(c.name, "VARCHAR") for c in columns])
        # the guess's parsed sample says which columns are worth a closer look (its columns
        # are the file's only when the guess and the reader agree on them)
        records = dialect.rows if dialect is not None and dialect.columns == len(columns) else None
        columns, options, decided = refine(conn, text_reader, columns, options, records)
        columns, said = strict_booleans(conn, text_reader, columns, yes_no=yes_no)
        decided = [*decided, *said]
        plan = FilePlan("csv", options, columns, 0, warnings=decided)
        try:
            if dialect is not None and dialect.null_tokens:
                plan = null_tokens(conn, path, plan, dialect.null_tokens)
            if dialect is None:
                done = read_all(conn, path, plan, screen, copy_to=copy_to)
            else:
                done = _read_clean(conn, path, plan, screen, dialect, copy_to=copy_to) or _read_tolerant(
                    conn, path, plan, screen, dialect.records
                )
            if preamble:
                lines = f"{preamble} line{'s' if preamble > 1 else ''}"
                done.warnings.insert(
                    0, f"the first {lines} came before the table and were left out (a preamble)"
                )
            if unclosed is not None and detected.repair is None and len(done.columns) < unclosed.columns:
                # only another sniff read it, as fewer columns than the evidence shows: repaired
                # quotes give the table its columns back
                raise QuotesToRepair(_unparseable(str(unclosed)), unclosed.dialect)
            return done
        except duckdb.Error as exc:
            last_error = engine_message(exc)
            if _repairable(dialect) and unclosed is None:
                unclosed = _to_repair(last_error, dialect)
            continue
        except TooManySkipped as exc:
            last_error = str(exc)
            if isinstance(exc, UnclosedQuote) and unclosed is None:
                unclosed = exc
            elif _repairable(dialect) and unclosed is None:
                unclosed = _to_repair(last_error, dialect)
            continue
    rejection = _unparseable(str(unclosed or last_error))
    if unclosed is not None and detected.repair is None:
        raise QuotesToRepair(rejection, unclosed.dialect)
    raise rejection


def several_tables(blocks: list[tuple[int, int, tuple[str, ...]]]) -> Rejection:
    """The refusal of a file that holds one table after another, each block as (its first line,
    its fields, its header's names): rows are never dropped, nor read as another table's."""

    def shown(names: tuple[str, ...]) -> str:
        return ", ".join(names[:4]) + (", …" if len(names) > 4 else "")

    said = "; ".join(
        f"from line {line}: {n} columns ({shown(names)})" if names else f"from line {line}: {n} columns"
        for line, n, names in blocks
    )
    return Rejection(
        f"the file holds {len(blocks)} tables one after another: {said}",
        code="reject.multiple_tables",
        hint="deliver each table as a file of its own",
        details={"blocks": [{"line": line, "columns": n, "names": list(names)} for line, n, names in blocks]},
    )


def _repairable(dialect: Dialect | None) -> bool:
    """Whether the evidence splits the records clearly where the engine failed to read them."""
    return dialect is not None and (dialect.forgiving or dialect.consistency >= CONFIDENT)


def _to_repair(error: str, dialect: Dialect | None) -> UnclosedQuote:
    """The engine cannot read the records the evidence found: quotes to repair."""
    assert dialect is not None
    options = {"delim": dialect.delimiter, "quote": dialect.quote, "escape": dialect.escape}
    return UnclosedQuote(error, options, None, dialect.columns)


def _unparseable(error: str) -> Rejection:
    return Rejection(
        f"the file cannot be parsed as CSV: {error}",
        code="reject.unparseable",
        hint="fix the line named above and deliver the file again",
        details={"engine_error": error},
    )


def _sniffed_options(sniffed: tuple[Any, ...], detected: Detected) -> tuple[dict[str, Any], list[Any]]:
    """The reader options a sniff (DuckDB's or our own) decided, and the columns it saw."""
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
    if detected.encoding != "utf-8":
        options["encoding"] = detected.encoding
    return options, list(cols)


def _header_columns(cols: list[Any], dialect: Dialect | None, *, header: bool) -> list[Column]:
    """The columns by name as the header wrote them (repeated names get _2, _3), typed as sniffed."""
    originals = [c["name"] for c in cols] if header else [""] * len(cols)
    if dialect is not None and dialect.header_rows >= 1 and len(dialect.names) == len(cols):
        # the header as written: the sniffer renames repeated names (x, x_1) and joins no rows
        originals = [n.strip() for n in dialect.names]
    names = column_names(originals)
    if not header:
        originals = names
    types = [str(parse_type(c["type"])) for c in cols]
    return [Column(n, o, t) for n, o, t in zip(names, originals, types, strict=True)]


def _read_clean(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    plan: FilePlan,
    screen: Screen | None,
    dialect: Dialect,
    *,
    copy_to: str | None = None,
) -> FilePlan | None:
    """The full read of a file whose sample every record agreed on: strict, in one query. ``None``
    when it is not that clean after all (a bad row or value further on, or fewer rows than the
    sample had: a quote that never closes), for the tolerant read to sort out."""
    if dialect.consistency < 1.0:
        return None
    try:
        done = read_all(conn, path, plan, screen, copy_to=copy_to)
    except duckdb.Error:
        return None
    return done if done.rows >= dialect.records else None


class TooManySkipped(Exception):
    pass


class UnclosedQuote(TooManySkipped):
    """A quote opens and never closes, even read leniently: the file is to be read again from a
    copy whose records a forgiving CSV parser repaired (``normalize``), named by its dialect."""

    def __init__(self, message: str, options: dict[str, Any], line: int | None, columns: int) -> None:
        super().__init__(message)
        self.dialect = (str(options["delim"]), str(options["quote"]), str(options["escape"]), line or 0)
        self.columns = columns  # the table's, by the evidence


class QuotesToRepair(Rejection):
    """The file's rejection when no dialect reads it, and the dialect under which only quotes that
    never close stood in the way (``normalize`` repairs them; read again, it may be accepted)."""

    def __init__(self, rejection: Rejection, dialect: tuple[str, str, str, int]) -> None:
        super().__init__(
            rejection.message, code=rejection.code, hint=rejection.hint, details=rejection.details
        )
        self.dialect = dialect


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
            total, stats, screened = counted(conn, reader, columns, screen)
            rejects = conn.execute(
                f"SELECT line, error_type, column_name, error_message, csv_line FROM {table} ORDER BY line"
            ).fetchall()
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {table}_scans")
        not_utf8 = [int(r[0]) for r in rejects if r[1] in ("INVALID ENCODING", "INVALID_UNICODE")]
        if not_utf8:
            raise NotAllUTF8(not_utf8)
        cast = [r for r in rejects if r[1] == "CAST" and r[2]]
        _header_again(cast, plan)
        if cast:
            widen = {identifier_of(columns, r[2]) for r in cast}
            columns = [replace(c, type="VARCHAR") if c.name in widen else c for c in columns]
            continue
        assert total is not None
        kept = int(total[0])
        if len(rejects) > max(2, MAX_SKIPPED_SHARE * (kept + len(rejects))):
            raise TooManySkipped(
                f"{len(rejects)} of {kept + len(rejects)} rows do not fit the dialect: {rejects[0][3]}"
            )
        if not rejects and kept >= expected:  # read whole and clean: this read was the full read
            return replace(plan, columns=columns, rows=kept, screened=screened, stats=stats)
        options = {**plan.options, "ignore_errors": True} if rejects else plan.options
        done = read_all(conn, path, replace(plan, columns=columns, options=options), screen)
        # The engine's plain read (what queries do) can stop at a quote that never closes, where
        # the probe went on: fewer rows than the probe, or than the sample holds, means that.
        if done.rows != kept or kept + len(rejects) < expected:
            if plan.options.get("strict_mode") is False:
                line = rejects[0][0] if rejects else unclosed_quote_line(path, plan.options)
                where = f"on line {line} " if line else ""
                raise UnclosedQuote(
                    f"a quote opens {where}and never closes, so the rows after it cannot be told apart",
                    plan.options,
                    line,
                    len(columns),
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
    raise TooManySkipped("the column types never settled")


def _header_again(cast: list[tuple[Any, ...]], plan: FilePlan) -> None:
    """Refuse a file whose header comes again further on (another table after the first, past
    the sample the guess saw): its values are no data of the first table's columns."""
    if not plan.options.get("header"):
        return
    header = [c.original.strip() for c in plan.columns]
    o = plan.options
    for line, *_rest, text in cast:
        [fields] = list(forgiving.records([text or ""], o["delim"], o["quote"], o["escape"])) or [[]]
        if [f.strip() for f in fields] == header:
            names = tuple(header)
            first = 1 + int(o.get("skip") or 0)
            raise several_tables([(first, len(header), names), (int(line), len(header), names)])


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
