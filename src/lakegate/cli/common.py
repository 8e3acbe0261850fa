"""What every `lakegate` command shares: the --home option, the consoles, opening the home, and
how failures and times are printed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from lakegate.app import App, open_app
from lakegate.errors import ConfigError, LakegateError
from lakegate.keys import printable

if TYPE_CHECKING:
    from lakegate.ingest.outcomes import Outcome


HomeOption = Annotated[
    str | None,
    typer.Option("--home", help="The lakegate home folder (default: $LAKEGATE_HOME, else ./lakegate-data)."),
]
out = Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)


def fail(exc: LakegateError) -> typer.Exit:
    err.print(exc.one_line(), markup=False, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def opened(home: str | None, *, create: bool = False) -> Iterator[App]:
    try:
        application = open_app(home, create=create)
    except LakegateError as exc:
        raise fail(exc) from None
    try:
        yield application
    except LakegateError as exc:
        raise fail(exc) from None
    finally:
        application.close()


def when(timestamp: float) -> str:
    """A catalog time as listings show it: local time to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def plural_rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def no_table(table: str) -> typer.Exit:
    return fail(ConfigError(f"no table {table}", code="catalog.no_table", hint="`lakegate ls` lists them"))


def split_table(name: str) -> tuple[str, str]:
    database, dot, table = name.partition(".")
    if not dot or not database or not table:
        raise ConfigError(f"{name!r} is not database.table", code="cli.bad_table", hint="e.g. sales.orders")
    return database, table


def status_line(o: Outcome) -> str:
    """One object's outcome as `lakegate up` prints it: one line, whatever its name holds."""
    return printable(status_text(o))


def status_text(o: Outcome) -> str:
    from lakegate.schema import describe_change

    if o.kind == "accepted":
        where = f" {o.partition}" if o.partition else ""
        warned = f"; warnings: {'; '.join(o.warnings)}" if o.warnings else ""
        changed = f"; {describe_change(o.schema_diff)}" if o.schema_diff else ""
        return f"accepted     {o.source_key} -> {o.table}{where} ({plural_rows(o.rows)}){changed}{warned}"
    if o.kind == "quarantined":
        shown = f" (quarantine id {o.object_id})" if o.object_id else ""
        return f"quarantined  {o.source_key}: {o.reason_code}: {o.reason}{shown}"
    if o.kind == "duplicate":
        return f"duplicate    {o.source_key}: identical content already in {o.table}"
    return f"{o.kind:<12} {o.source_key}: {o.reason}"


def remote_query(
    server: str,
    token: str | None,
    query: str,
    dialect: str,
    reuse: float | None = None,
    *,
    engine: str | None = None,
) -> tuple[Any, float]:
    """A query answered by a remote lakegate (as Arrow, exact types, the whole result): its
    rows and how long it took."""
    import time

    from lakegate.query.dbapi import connect

    if not token:
        raise fail(ConfigError("--server needs --token (or LAKEGATE_TOKEN)", code="cli.no_token"))
    started = time.perf_counter()
    try:
        with connect(server=server, token=token, dialect=dialect, reuse_max_age_minutes=reuse) as connection:
            connection.engine = engine
            table = connection.execute(query).fetch_arrow()
    except LakegateError as exc:
        raise fail(exc) from None
    return table, (time.perf_counter() - started) * 1000
