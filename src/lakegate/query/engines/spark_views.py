"""A plan's tables as Spark reads them: what the Spark engine creates in a query's own session.

Spark is never left to discover a table from its folders (it would type a ``dt=`` folder as a
DATE, apply one CSV dialect to a whole folder and match CSV columns by position). Each group of
files that share a format, read options, columns and partition values is one *source*: an
explicit list of files read with an explicit schema, its partition values as text literals.
Each table is then the UNION of its sources, every column by name, cast to the table's type,
NULL where a file lacks it — the same rows and types DuckDB reads (``views.py``).

Files are read through their verified Parquet copies where they have one (acceleration writes
one for every CSV and JSON file). A delivered file without one yet is read by Spark's own CSV or
JSON reader when its dialect is one Spark reads alike; otherwise the query is refused
(``query.engine_unsupported``) with the file named — DuckDB answers it meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from lakegate.catalog.records import FileRecord, TableInfo
from lakegate.duck.readers import reader_name
from lakegate.errors import QueryError
from lakegate.keys import MEMBER, is_compacted
from lakegate.query.permissions import restrict
from lakegate.query.views import _as_read, _read_type, as_text

if TYPE_CHECKING:
    from lakegate.query.planner import Plan

_SIMPLE = {
    "BOOLEAN": "BOOLEAN", "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INT",
    "BIGINT": "BIGINT", "HUGEINT": "DECIMAL(38,0)", "UTINYINT": "SMALLINT", "USMALLINT": "INT",
    "UINTEGER": "BIGINT", "UBIGINT": "DECIMAL(20,0)", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE",
    "VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP_NTZ", "TIMESTAMP WITH TIME ZONE":
    "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMP", "BLOB": "BINARY", "UUID": "STRING", "JSON": "STRING",
    "TIME": "STRING", "INTERVAL": "STRING", "NULL": "STRING",
}  # fmt: skip
# CSV options Spark reads as DuckDB does; a file needing any other is read through its copy
_CSV_PLAIN = {"delim", "quote", "escape", "header", "encoding"}
_LINE_ENDS = {"\\n": None, "\\r\\n": None, "\\r": "\r"}  # DuckDB's new_line -> Spark's lineSep
_COMPRESSIONS = {"none", "gzip"}  # Spark reads them by the file's extension, as lakegate keeps it


def spark_type(duck: str) -> str:
    """The Spark SQL type holding the values of DuckDB type ``duck``.

    Raises: QueryError ``query.engine_unsupported`` for a type Spark has no equal of."""
    text = duck.strip().upper()
    if text in _SIMPLE:
        return _SIMPLE[text]
    if re.fullmatch(r"DECIMAL\(\d+,\s*\d+\)", text):
        return text.replace(" ", "")
    if text.endswith("[]"):
        return f"ARRAY<{spark_type(duck.strip()[:-2])}>"
    parsed = exp.DataType.build(duck, dialect="duckdb")
    if parsed.this in (exp.DataType.Type.STRUCT, exp.DataType.Type.MAP):
        return parsed.sql(dialect="spark")
    raise QueryError(
        f"Spark has no type that holds DuckDB's {duck}", code="query.engine_unsupported",
        hint="run this query on DuckDB (the workgroup's engine: duckdb)",
    )  # fmt: skip


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _named(kind: str, *definition: object) -> str:
    """The name of a source or view: a digest of its whole definition, so that a session that
    already holds one (``spark_sessions.py``) may reuse it, and no two definitions share a name."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:24]
    return f"lg_{kind}_{digest}"


@dataclass
class Source:
    """Files Spark reads with one reader call: ``format``, ``options`` and a DDL ``schema`` (the
    names as the files hold them), then ``where`` (a compacted copy's members). Named by all
    of it."""

    format: str
    paths: list[str]
    schema: str
    options: dict[str, str] = field(default_factory=dict)
    where: str | None = None
    versions: list[str] = field(default_factory=list)  # the delivered files' digests, in the name

    @property
    def name(self) -> str:
        return _named("s", self.format, self.paths, self.schema, self.options, self.where, self.versions)


@dataclass
class SparkViews:
    """What a query's session is given: its sources, then one view per table (in order)."""

    sources: list[Source]
    views: dict[str, str]  # view name (a digest of its SQL) -> its Spark SQL
    names: dict[str, str]  # database.table -> the view that stands for it


# DuckDB's strftime directives with a Spark datetime pattern of the same meaning
_DIRECTIVES = {
    "%Y": "yyyy", "%y": "yy", "%m": "MM", "%-m": "M", "%d": "dd", "%-d": "d", "%H": "HH", "%-H": "H",
    "%I": "hh", "%M": "mm", "%S": "ss", "%f": "SSSSSS", "%g": "SSS", "%p": "a", "%b": "MMM",
    "%B": "MMMM", "%a": "EEE", "%A": "EEEE", "%j": "DDD", "%z": "XX", "%%": "%",
}  # fmt: skip


def spark_pattern(strftime: str) -> str | None:
    """DuckDB's ``strftime`` format as a Spark datetime pattern; None when a directive has no
    equal (the file is then read through its copy)."""
    out = []
    tokens = re.findall(r"%-?.|[A-Za-z]+|[^%A-Za-z]+", strftime, flags=re.DOTALL)
    if "".join(tokens) != strftime:
        return None  # a % with nothing after it
    for token in tokens:
        if token.startswith("%"):
            if token not in _DIRECTIVES:
                return None
            out.append(_DIRECTIVES[token])
        elif token.isalpha():
            out.append("'" + token + "'")  # letters are pattern letters to Spark unless quoted
        else:
            out.append(token.replace("'", "''"))
    return "".join(out)


def _csv_options(f: FileRecord) -> dict[str, str]:
    options = f.options
    patterns = {key: spark_pattern(options.get(key) or "") for key in ("dateformat", "timestampformat")}
    extra = sorted(
        k for k, v in options.items() if k not in _CSV_PLAIN and v not in (None, False, 0, "", [], {})
    )
    extra = [k for k in extra if k not in ("new_line", "compression", "dateformat", "timestampformat")]
    extra += [key for key, pattern in patterns.items() if options.get(key) and pattern is None]
    if options.get("new_line") not in (None, "", *_LINE_ENDS):
        extra.append("new_line")
    if options.get("compression", "none") not in _COMPRESSIONS:
        extra.append("compression")
    if extra:
        raise QueryError(
            f"{f.key} is read with CSV options Spark does not have ({', '.join(extra)}) and its Parquet "
            "copy is not written yet",
            code="query.engine_unsupported",
            hint="retry once acceleration has copied it (seconds), or run this query on DuckDB",
        )
    out = {
        "sep": options["delim"], "quote": options["quote"] or "\u0000", "escape": options["escape"] or "\\",
        "header": "true" if options["header"] else "false", "mode": "FAILFAST", "multiLine": "true",
        "enforceSchema": "true",
    }  # fmt: skip
    if options.get("encoding"):
        out["encoding"] = options["encoding"]
    if options.get("dateformat"):
        out["dateFormat"] = str(patterns["dateformat"])
    if options.get("timestampformat"):  # lakegate's TIMESTAMP is Spark's TIMESTAMP_NTZ
        out["timestampFormat"] = out["timestampNTZFormat"] = str(patterns["timestampformat"])
    if _LINE_ENDS.get(options.get("new_line") or ""):
        out["lineSep"] = str(_LINE_ENDS[options["new_line"]])
    return out


def _file_source(files: list[FileRecord], url: Callable[[str], str]) -> tuple[Source, dict[str, str]]:
    """The source of ``files`` (alike) and, per lakegate column name, how the source names it."""
    first = files[0]
    paths = [url(f.key) for f in files]  # no glob characters: the lake's names have none (routing.py)
    if first.format == "parquet":
        fields = [(reader_name("parquet", c), c.type) for c in first.columns]
        options: dict[str, str] = {}
    elif first.format == "csv":
        fields = [(c.name, "NULL" if c.type == "NULL" else c.type) for c in first.columns]
        options = _csv_options(first)
    elif first.format == "json":
        if first.options.get("format") not in (None, "newline_delimited", "auto"):
            raise QueryError(
                f"{first.key} is a JSON array file whose Parquet copy is not written yet",
                code="query.engine_unsupported",
                hint="retry once acceleration has copied it (seconds), or run this query on DuckDB",
            )
        fields = [(reader_name("json", c), c.type) for c in first.columns]
        options = {"mode": "FAILFAST"}
    else:
        raise QueryError(
            f"{first.key} ({first.format}) has no Parquet copy yet", code="query.engine_unsupported",
            hint="retry once acceleration has copied it, or run this query on DuckDB",
        )  # fmt: skip
    schema = ", ".join(f"{_quote(n)} {spark_type(_read_type(t))}" for n, t in fields)
    source = Source(first.format, paths, schema, options, versions=[f.sha256 for f in files])
    return source, {c.name: reader_name(first.format, c) for c in first.columns}


def _table(table: TableInfo, url: Callable[[str], str]) -> tuple[list[Source], str]:
    """The sources of ``table`` and its SELECT over them, with the table's exact schema."""
    out_cols = [(c.name, _read_type(c.type)) for c in table.columns] + [
        (k, "VARCHAR") for k in table.partition_keys
    ]
    if not table.files:
        select = ", ".join(f"CAST(NULL AS {spark_type(t)}) AS {_quote(n)}" for n, t in out_cols)
        return [], f"SELECT {select} WHERE false"
    groups: dict[str, list[FileRecord]] = {}
    types = dict(out_cols)
    for original in (as_text(f, types) for f in table.files):  # widened to text: read as text
        f = original if original.derived_key and is_compacted(original.derived_key) else _as_read(original)
        compacted = f.derived_key if f.derived_key and is_compacted(f.derived_key) else None
        key = json.dumps(
            [compacted, f.format, f.options, [(c.name, c.original, c.type) for c in f.columns], f.partition],
            sort_keys=True,
        )
        groups.setdefault(key, []).append(f)
    sources: list[Source] = []
    parts: list[str] = []
    for members in groups.values():
        first = members[0]
        if first.derived_key and is_compacted(first.derived_key):
            read = _as_read(first)
            fields = [(c.name, c.type) for c in read.columns] + [(MEMBER, "VARCHAR")]
            schema = ", ".join(f"{_quote(n)} {spark_type(_read_type(t))}" for n, t in fields)
            wanted = ", ".join(_literal(m.key) for m in members)
            source = Source(
                "parquet", [url(first.derived_key)], schema, where=f"{_quote(MEMBER)} IN ({wanted})",
                versions=[m.sha256 for m in members],
            )  # fmt: skip
            by_name = {c.name: c.name for c in read.columns}
            columns = {c.name: c for c in read.columns}
        else:
            source, by_name = _file_source(members, url)
            columns = {c.name: c for c in first.columns}
        sources.append(source)
        projection = []
        for col_name, typ in out_cols:
            col = columns.get(col_name)
            if col is not None:
                ref = _quote(by_name[col_name])
                same = _read_type(col.type) == typ
                projection.append(
                    f"{ref if same else f'CAST({ref} AS {spark_type(typ)})'} AS {_quote(col_name)}"
                )
            elif col_name in first.partition:
                projection.append(f"{_literal(first.partition[col_name])} AS {_quote(col_name)}")
            else:
                projection.append(f"CAST(NULL AS {spark_type(typ)}) AS {_quote(col_name)}")
        parts.append(f"SELECT {', '.join(projection)} FROM {_quote(source.name)}")
    return sources, "\nUNION ALL\n".join(parts)


def to_spark(sql: str) -> str:
    """DuckDB SQL (a grant's row filter, a view's restriction) as Spark SQL."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def spark_views(plan: Plan, url: Callable[[str], str]) -> SparkViews:
    """The sources and views of every table of ``plan``, as its caller may read it; ``url``
    gives the address Spark reads a stored key at."""
    sources: list[Source] = []
    views: dict[str, str] = {}
    names: dict[str, str] = {}
    for qualified, read in plan.tables.items():
        table_sources, select = _table(read.table, url)
        sources += [s for s in table_sources if s not in sources]
        if read.access is not None:  # the whole table, then what the caller may read of it
            whole = _named("v", select)
            views[whole] = select
            select = to_spark(restrict(f"SELECT * FROM {whole}", read.access, read.names))
        view_name = _named("v", select)
        views[view_name] = select
        names[qualified] = view_name
    return SparkViews(sources, views, names)


def _series(table: exp.Table, series: exp.GenerateSeries) -> exp.Expr:
    """DuckDB's ``range(...)`` / ``generate_series(...)`` in FROM as Spark's ``range`` (whose
    column is ``id``, whose end is exclusive), under the column name DuckDB gives."""
    exclusive = bool(series.args.get("is_end_exclusive"))
    alias = table.args.get("alias")
    columns = alias.columns if alias is not None else []
    column = columns[0].name if columns else ("range" if exclusive else "generate_series")
    start, end, step = series.args.get("start"), series.args.get("end"), series.args.get("step")
    bounds = [e.sql(dialect="spark") for e in (start, end) if e is not None]
    if not exclusive and end is not None:
        bounds[-1] = f"({bounds[-1]}) + 1"
    if step is not None:
        bounds.append(step.sql(dialect="spark"))
    name = alias.name if alias is not None and alias.name else column
    return sqlglot.parse_one(
        f"(SELECT id AS {_quote(column)} FROM range({', '.join(bounds)})) AS {_quote(name)}", read="spark"
    )


def query_sql(sql: str, names: dict[str, str]) -> str:
    """The caller's statement (DuckDB SQL, as planned) in Spark SQL, each table read through its
    view."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for table in list(tree.find_all(exp.Table)):
        if isinstance(table.this, exp.GenerateSeries):
            table.replace(_series(table, table.this))
            continue
        qualified = f"{table.db}.{table.name}" if table.db else table.name
        view = names.get(qualified)
        if view is not None:
            alias = table.alias_or_name
            table.replace(
                exp.Table(this=exp.to_identifier(view), alias=exp.TableAlias(this=exp.to_identifier(alias)))
            )
    _as_duckdb_computes(tree)
    return tree.sql(dialect="spark")


def _as_duckdb_computes(tree: exp.Expr) -> None:
    """Arithmetic whose type differs between the engines, made DuckDB's: ``/`` and ``avg`` give a
    DOUBLE on DuckDB, a DECIMAL rounded to 6 places on Spark when the operands are DECIMALs."""
    for div in list(tree.find_all(exp.Div)):
        div.left.replace(exp.cast(div.left.copy(), exp.DataType.Type.DOUBLE))
    for avg in list(tree.find_all(exp.Avg)):
        inner = avg.this
        targets = inner.expressions if isinstance(inner, exp.Distinct) else [inner]
        for target in list(targets):
            target.replace(exp.cast(target.copy(), exp.DataType.Type.DOUBLE))
