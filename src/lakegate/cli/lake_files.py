"""The lake's files: ``archive list|purge``, ``drop``, ``retention`` and ``accelerate``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakegate.cli.common import HomeOption, fail, no_table, opened, out, when
from lakegate.errors import ConfigError

archive_app = typer.Typer(
    no_args_is_help=True, help="Lake files taken out of their tables (replaced, expired, dropped)."
)


@archive_app.command("list")
def archive_list(
    all_: Annotated[bool, typer.Option("--all", help="Include purged files.")] = False,
    home: HomeOption = None,
) -> None:
    """Files in the archive area, with why they left their table."""
    from lakegate.catalog.records import PURGED_FILE
    from lakegate.ingest.archive import KEPT

    states = (*KEPT, PURGED_FILE) if all_ else KEPT
    with opened(home) as application:
        rows = application.catalog.archived(states)
        if not rows:
            out.print("the archive is empty")
            return
        grid = Table("id", "when", "table", "kept at", "state", "reason", box=None)
        for a in rows:
            stamp = when(a.archived_at)
            grid.add_row(str(a.id), stamp, f"{a.database}.{a.table}", a.archive_key, a.state, a.reason)
        out.print(grid)


@archive_app.command("purge")
def archive_purge(
    ids: Annotated[list[int], typer.Argument(help="Ids from `lakegate archive list`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    home: HomeOption = None,
) -> None:
    """Delete archived files for good."""
    from lakegate.ingest.archive import KEPT, Archive

    with opened(home) as application:
        known = {a.id: a for a in application.catalog.archived(KEPT, limit=10**9)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise fail(
                ConfigError(
                    f"no archived file with id {', '.join(map(str, unknown))}",
                    code="archive.unknown",
                    hint="`lakegate archive list` shows the ids",
                )
            )
        for i in ids:
            row = known[i]
            if not yes:
                out.print(f"would delete {row.archive_key} ({row.database}.{row.table}, {row.size} bytes)")
                continue
            Archive(application.catalog, application.store).purge(row)
            out.print(f"purged {i}: {row.archive_key}")
        if not yes:
            out.print("nothing deleted: add --yes to delete them")


def drop(
    table: Annotated[str, typer.Argument(help="The table, as database.table.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really drop it.")] = False,
    home: HomeOption = None,
) -> None:
    """Take a table out of the catalog; its files move to the archive (purge deletes them)."""
    from lakegate.ingest.archive import Archive

    database, dot, name = table.partition(".")
    if not dot or not database or not name:
        raise fail(ConfigError(f"{table!r} is not database.table", code="cli.bad_table"))
    with opened(home) as application:
        info = application.catalog.table(database, name)
        if info is None:
            raise no_table(table)
        if not yes:
            out.print(
                f"would drop {table}: {info.file_count} files, {info.row_count} rows move to the archive"
            )
            out.print("nothing changed: add --yes to drop it")
            return
        count = application.catalog.drop_table(database, name, "dropped by `lakegate drop`")
        moved = Archive(application.catalog, application.store).settle()
        out.print(
            f"dropped {table}: {count} files archived ({moved} moved); `lakegate archive list` shows them"
        )


def retention(
    yes: Annotated[bool, typer.Option("--yes", help="Archive the expired partitions now.")] = False,
    home: HomeOption = None,
) -> None:
    """Partitions past their dataset's retention_days (`lakegate up` archives them hourly)."""
    from lakegate.ingest.archive import Archive
    from lakegate.ingest.routing import Router

    with opened(home) as application:
        router = Router.from_settings(application.settings)
        if yes:
            done = Archive(application.catalog, application.store).expire(router)
            for name, count in done.items():
                out.print(f"{name}: {count} files archived")
            if not done:
                out.print("nothing has expired")
            return
        found = Archive(application.catalog, application.store).expired(router)
        for dataset, info, paths in found:
            for path in paths:
                out.print(f"{info.qualified} {path or '(unpartitioned)'}: expired ({dataset})")
        out.print("add --yes to archive them" if found else "nothing has expired")


def accelerate(
    table: Annotated[
        str | None, typer.Argument(help="A database or database.table; unset: every table.")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Delete the Parquet copies and write them again.")
    ] = False,
    status_only: Annotated[
        bool, typer.Option("--status", help="Only say how many files are accelerated.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Write the Parquet copies queries read instead of CSV and JSON files (`lakegate up` does
    this in the background), verified against the files; --rebuild starts them over."""
    from lakegate.catalog import acceleration
    from lakegate.ingest.accelerate import Accelerator

    database, _, name = (table or "").partition(".")
    with opened(home) as application:
        if not status_only:
            accelerator = Accelerator(application.catalog, application.store, lambda: application.settings)
            if rebuild:
                done = accelerator.rebuild(database or None, name or None)
            else:
                done = accelerator.run_pending()
            for d in done:
                detail = f"{d.rows} rows, {d.bytes} bytes" if d.outcome == "accelerated" else d.reason
                out.print(f"{d.outcome:<12} {d.key} ({d.seconds:.2f} s{', ' + detail if detail else ''})",
                          markup=False, soft_wrap=True)  # fmt: skip
        counts = acceleration.progress(application.catalog)
        fast, slow = counts["accelerated"], counts["in_place"]
        out.print(f"{fast} CSV/JSON files read through Parquet copies, {slow} in place")
