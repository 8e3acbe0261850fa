"""The catalog's tables: ``ls``, ``describe``, ``comment`` and ``schema history|diff``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from lakegate.app import App
from lakegate.cli.common import HomeOption, fail, human_bytes, no_table, opened, out, split_table, when
from lakegate.errors import ConfigError

schema_app = typer.Typer(no_args_is_help=True, help="How a table's schema changed, version by version.")


def ls(
    target: Annotated[
        str | None, typer.Argument(help="A database, or database.table for its partitions.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """List databases and tables (rows, files, bytes), or the partitions of one table."""
    with opened(home) as application:
        catalog = application.catalog
        if target and "." in target:
            database, name = split_table(target)
            if catalog.table(database, name) is None:
                raise no_table(target)
            grid = Table("partition", "files", "rows", "bytes", box=None)
            for part in catalog.partitions(database, name):
                grid.add_row(
                    part.path or "(none)",
                    str(part.file_count),
                    str(part.row_count),
                    human_bytes(part.total_bytes),
                )
            out.print(grid)
            return
        tables = catalog.tables(target)
        if not tables:
            out.print("no tables yet: drop a file into landing/<database>/<table>/ while `lakegate up` runs")
            return
        grid = Table("table", "rows", "files", "bytes", "partitions", "schema", box=None)
        for t in tables:
            grid.add_row(
                t.qualified,
                str(t.row_count),
                str(t.file_count),
                human_bytes(t.total_bytes),
                ", ".join(t.partition_keys) or "-",
                f"v{t.schema_version}",
            )
        out.print(grid)


def describe(
    table: Annotated[str, typer.Argument(help="database.table")],
    home: HomeOption = None,
    partitions: Annotated[
        bool, typer.Option("--partitions", help="Also list each partition: files, rows, bytes.")
    ] = False,
    list_files: Annotated[
        bool,
        typer.Option(
            "--files", help="Also list each file and what reading it decided (preamble, footer, …)."
        ),
    ] = False,
) -> None:
    """Columns with their statistics, partition keys and the schema history of one table."""
    from lakegate.catalog.stats import by_partition, summarize
    from lakegate.schema import describe_diff

    with opened(home) as application:
        database, name = split_table(table)
        info = application.catalog.table(database, name)
        if info is None:
            raise no_table(table)
        out.print(
            f"{info.qualified}: {info.row_count} rows in {info.file_count} files, "
            f"{human_bytes(info.total_bytes)}, schema v{info.schema_version}, location {info.location}/"
        )
        notes = application.catalog.descriptions(database, name)
        if notes.get(""):
            out.print(notes[""], markup=False, soft_wrap=True)
        summary = summarize(info.files, [c.name for c in info.columns])
        grid = Table(
            "column", "type", "original name", "since", "min", "max", "nulls", "description", box=None
        )
        for c in info.columns:
            known = summary.columns.get(c.name, {})
            shown = [_stat(known.get(k)) for k in ("min", "max", "nulls")]
            grid.add_row(c.name, c.type, c.original, f"v{c.added_in}", *shown, notes.get(c.name, ""))
        for k in info.partition_keys:
            values = sorted({f.partition.get(k, "") for f in info.files})
            bounds = (values[0], values[-1]) if values else ("", "")
            grid.add_row(k, "VARCHAR", f"{k}=… (partition)", "", *bounds, "0", notes.get(k, ""))
        out.print(grid)
        if partitions:
            parts = Table("partition", "files", "rows", "bytes", box=None)
            for path, members in by_partition(info.files).items():
                done = summarize(members, [])
                parts.add_row(path or "(none)", str(done.files), str(done.rows), human_bytes(done.bytes))
            out.print(parts)
        if list_files:
            _print_files(application, database, name)
        out.print("schema versions (`lakegate schema history` shows them in full):")
        for v in application.catalog.versions(database, name):
            changes = describe_diff(v.diff) if v.version > 1 else []
            stamp = when(v.created_at)
            out.print(
                f"  v{v.version}  {stamp}  {'; '.join(changes) or 'created'}  (from {v.cause})", markup=False
            )


def _print_files(application: App, database: str, name: str) -> None:
    from lakegate.catalog.lineage import table_files

    grid = Table("file", "rows", "bytes", "format", "read as", box=None)
    for f in table_files(application.catalog, database, name):
        decided = "\n".join(f["decisions"]) or "as delivered"
        grid.add_row(f["key"], str(f["rows"]), human_bytes(f["size"]), f["format"], decided)
    out.print(grid)


def comment(
    target: Annotated[str, typer.Argument(help="database.table, or database.table.column")],
    text: Annotated[str, typer.Argument(help="The description (empty: remove it).")],
    home: HomeOption = None,
) -> None:
    """Describe a table or a column, for everyone who browses the catalog."""
    database, dot, rest = target.partition(".")
    table, _, column = rest.partition(".")
    if not dot or not database or not table:
        raise fail(ConfigError(f"{target!r} is not database.table[.column]", code="cli.bad_table"))
    with opened(home) as application:
        application.catalog.describe_table(database, table, text, column=column, by="cli")
    what = f"{database}.{table}" + (f".{column}" if column else "")
    out.print(f"{'described' if text.strip() else 'removed the description of'} {what}")


def _stat(value: Any) -> str:
    """A statistic for a table cell: blank when unknown, long text cut."""
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _versions(application: App, table: str) -> list[Any]:
    database, name = split_table(table)
    versions = application.catalog.versions(database, name)
    if not versions:
        raise no_table(table)
    return versions


@schema_app.command("history")
def schema_history(
    table: Annotated[str, typer.Argument(help="database.table")],
    home: HomeOption = None,
) -> None:
    """Every version of a table's schema: when, what changed, and which file changed it."""
    from lakegate.schema import describe_diff

    with opened(home) as application:
        for v in _versions(application, table):
            stamp = when(v.created_at)
            out.print(f"v{v.version}  {stamp}  from {v.cause}", markup=False, soft_wrap=True)
            types = {c.name: c.type for c in v.columns}
            changes = (
                describe_diff(v.diff, types) if v.version > 1 else [f"+ {c.name} {c.type}" for c in v.columns]
            )
            for line in changes:
                out.print(f"    {line}", markup=False)


@schema_app.command("diff")
def schema_diff(
    table: Annotated[str, typer.Argument(help="database.table")],
    old: Annotated[int, typer.Argument(help="The earlier version.")],
    new: Annotated[int, typer.Argument(help="The later version.")],
    home: HomeOption = None,
) -> None:
    """What changed in a table's schema between two versions."""
    from lakegate.schema import compare, describe_diff

    with opened(home) as application:
        versions = {v.version: v for v in _versions(application, table)}
        missing = [str(n) for n in (old, new) if n not in versions]
        if missing:
            raise fail(
                ConfigError(
                    f"{table} has no version {', '.join(missing)}",
                    code="schema.no_version",
                    hint=f"its versions are v1 to v{max(versions)}: `lakegate schema history {table}`",
                )
            )
        a, b = versions[old], versions[new]
        diff = compare(a.columns, b.columns)
        diff["partition_keys_added"] = [k for k in b.partition_keys if k not in a.partition_keys]
        lines = describe_diff(diff, {c.name: c.type for c in b.columns})
        out.print(
            f"{table} v{old} → v{new}:" if lines else f"{table}: v{old} and v{new} have the same schema"
        )
        for line in lines:
            out.print(f"    {line}", markup=False)
