"""``lakegate crawl``: catalog the files already in a store, where they lie."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from lakegate.cli.common import HomeOption, err, fail, human_bytes, opened, out
from lakegate.errors import ConfigError


# long: typer declares each option in the signature (most of these lines); the body is short
def crawl(
    url: Annotated[
        str, typer.Argument(help="What to crawl: s3://bucket/prefix/, file:///path/ or a folder.")
    ],
    *,
    database: Annotated[
        str | None,
        typer.Option("--database", "-d", help="Database of its tables (default: the prefix's name)."),
    ] = None,
    level: Annotated[
        int | None,
        typer.Option(
            "--level",
            help="Folder depth that names tables (1: each top folder is a table). Default: the folders "
            "above the first key=value or date-like folder.",
            min=0,
        ),
    ] = None,
    by_schema: Annotated[
        bool,
        typer.Option(
            "--by-schema",
            help="Sibling folders whose files have the same columns make one table, the folder its "
            "partition_0 (sales/eu, sales/us → sales).",
        ),
    ] = False,
    max_tables: Annotated[int, typer.Option("--max-tables", help="Refuse to create more new tables.")] = 20,
    force: Annotated[bool, typer.Option("--force", help="Create tables beyond --max-tables.")] = False,
    on_deleted: Annotated[
        str,
        typer.Option("--on-deleted", help="Files gone from the store: unregister (default) or report."),
    ] = "unregister",
    home: HomeOption = None,
) -> None:
    """Catalog data already in a store, in place: nothing is moved. Re-run it to pick up changes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lakegate.app import open_source
    from lakegate.ingest.crawl import Crawl

    if on_deleted not in ("unregister", "report"):
        raise fail(
            ConfigError(
                f"unknown --on-deleted {on_deleted!r}", code="cli.bad_option", hint="use unregister or report"
            )
        )
    with opened(home) as application:
        source = open_source(url, application.settings.storage)
        name = database or url.rstrip("/").rsplit("/", 1)[-1]
        crawler = Crawl(
            application.catalog,
            source,
            application.store,
            database=name,
            level=level,
            max_tables=max_tables,
            force=force,
            on_deleted=on_deleted,
            by_schema=by_schema,
        )
        columns = (
            TextColumn("crawling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
        )
        started = time.perf_counter()
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("files", total=None, rate="")

            def progress(done: int, total: int, size: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-6)
                rate = f"{done / elapsed:.0f} files/s, {size / elapsed / 1e6:.1f} MB/s"
                bar.update(task, completed=done, total=total, rate=rate)

            report = crawler.run(progress)
        grid = Table("table", "new", "changed", "unchanged", "removed", "rejected", box=None)
        for table, t in sorted(report.tables.items()):
            grid.add_row(
                f"{report.database}.{table}",
                *(str(n) for n in (t.new, t.changed, t.unchanged, t.removed, t.rejected)),
            )
        out.print(grid)
        for key, warning in report.warnings[:20]:
            err.print(f"warning: {key}: {warning}", markup=False, soft_wrap=True)
        if len(report.warnings) > 20:
            err.print(f"… and {len(report.warnings) - 20} more warnings", markup=False)
        for key, code, message in report.rejected:
            err.print(f"not cataloged: {key}: {code}: {message}", markup=False, soft_wrap=True)
        if report.skipped:
            key, why = report.skipped[0]
            err.print(
                f"{len(report.skipped)} objects are not data and were left out, e.g. {key}: {why}",
                markup=False,
                soft_wrap=True,
            )
        rate = report.read / report.seconds if report.seconds else 0.0
        err.print(
            f"read {report.read} files ({human_bytes(report.bytes_read)}) in {report.seconds:.1f} s, "
            f"{rate:.0f} files/s",
            markup=False,
        )
        if report.rejected:
            raise typer.Exit(1)


def migrate(
    home: HomeOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
    ] = False,
) -> None:
    """Judge cataloged files again by rules that changed since they were taken (see CHANGELOG.md):
    today, only true/false are booleans."""
    from lakegate.ingest.migrate import migrate_booleans

    with opened(home) as application:
        done = migrate_booleans(application.catalog, application.store, dry_run=dry_run)
    changed = [d for d in done if d.changes]
    for d in changed:
        out.print(f"{d.table}: {d.key}: {'; '.join(d.changes)}", markup=False, soft_wrap=True)
    for d in done:
        if d.skipped:
            err.print(f"not migrated: {d.key}: {d.skipped}", markup=False, soft_wrap=True)
    verb = "would change" if dry_run else "changed"
    out.print(f"{verb} {len(changed)} file{'' if len(changed) == 1 else 's'}", markup=False)
