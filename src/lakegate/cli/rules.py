"""``lakegate rules test``: what the datasets and their checks make of a key or a file."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from lakegate.app import LANDING_PREFIX
from lakegate.cli.common import HomeOption, fail, out
from lakegate.errors import ConfigError, LakegateError, Rejection
from lakegate.home import resolve_home

rules_app = typer.Typer(no_args_is_help=True, help="Try the datasets and checks on a key or a file.")


@rules_app.command("test")
def rules_test(
    key: Annotated[str, typer.Argument(help="A landing key, e.g. landing/acme/sales_20261126.csv.")],
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A local file to check as if delivered under KEY.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Where KEY would go and, with --file, whether that file would be accepted. Touches nothing.

    Exit code 0: it would be accepted (or routed, without --file); 1: it would be quarantined.
    """
    from lakegate.config import load_settings
    from lakegate.ingest.routing import Router

    try:
        resolved = resolve_home(home)
        settings = load_settings(resolved)
    except LakegateError as exc:
        raise fail(exc) from None
    key = key if key.startswith(LANDING_PREFIX) else LANDING_PREFIX + key.lstrip("/")
    grid = Table(box=None, show_header=False)
    grid.add_row("key", key)
    try:
        route = Router.from_settings(settings).route(key)
    except Rejection as exc:
        _verdict(grid, exc)
    grid.add_row("dataset", route.dataset.name if route.dataset else "(none: the folder rule)")
    grid.add_row("table", f"{route.database}.{route.table}")
    if route.partition:
        grid.add_row("partition", ", ".join(f"{k}={v}" for k, v in route.partition.items()))
    grid.add_row("lake key", route.target_key)
    if file is None:
        out.print(grid)
        return
    if not file.is_file():
        raise fail(ConfigError(f"--file {file}: no such file", code="cli.no_file"))
    from lakegate import duck
    from lakegate.crawler.detect import HEAD_BYTES, detect
    from lakegate.ingest.judging import judged
    from lakegate.ingest.schema_guard import admit_file

    schema = _table_schema(settings, resolved, route.database, route.table)

    size = file.stat().st_size
    with file.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
        stream.seek(max(size - 16, 0))
        tail = stream.read(16)
    try:
        detected = detect(head, tail if size > 16 else b"", size)
        grid.add_row("content", _content(detected))
        engine = duck.connect(threads=1)
        with judged(
            engine,
            route,
            str(file),
            key=key,
            size=size,
            detected=detected,
            verdicts=partial(_rule_rows, grid),
        ) as found:
            plan = found.plan
            if found.copy_reason:
                grid.add_row("read through", f"a derived Parquet copy ({found.copy_reason})")
            policy = Router.from_settings(settings).schema_policy(route)
            admit_file(engine, found.readable, plan, schema, policy)
    except Rejection as exc:
        _verdict(grid, exc)
    grid.add_row("columns", ", ".join(f"{c.name} {c.type}" for c in plan.columns))
    grid.add_row("rows", str(plan.rows))
    grid.add_row("verdict", "accepted")
    out.print(grid)


def _table_schema(settings: Any, home: Any, database: str, table: str) -> Any:
    """The table's columns and schema version in the home's catalog, if it has one (nothing is
    created when it has none)."""
    from lakegate.catalog import Catalog

    if settings.catalog == "sqlite" and not home.catalog_file.is_file():
        return None
    catalog = Catalog(settings.catalog_url(home))
    try:
        return catalog.schema(database, table)
    except LakegateError:
        return None
    finally:
        catalog.close()


def _content(detected: Any) -> str:
    """``csv, compression zip (orders.csv), encoding cp1252``: what a file is, for people."""
    said = f"{detected.format}, compression {detected.compression}"
    if detected.member:
        said += f" ({detected.member})"
    if detected.encoding != "utf-8":
        said += f", encoding {detected.encoding}"
    return said


def _rule_rows(grid: Table, judged: list[tuple[dict[str, Any], Any]]) -> None:
    """One line per rule: passes, or what it found and whether that rejects or warns."""
    for rule, finding in judged:
        if finding is None:
            grid.add_row(f"rule {rule['check']}", "passes")
        else:
            verdict = "rejects" if rule["severity"] == "reject" else "warns"
            grid.add_row(f"rule {rule['check']}", f"{verdict}: {finding.message}")


def _verdict(grid: Table, rejection: Rejection) -> NoReturn:
    grid.add_row("verdict", f"quarantined: {rejection.code}: {rejection}")
    out.print(grid)
    raise typer.Exit(1)
