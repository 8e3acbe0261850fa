"""``lakegate sql`` and ``lakegate history``: queries through a gateway of their own (recorded like
any), or on a remote lakegate.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from lakegate.cli import output
from lakegate.cli.common import HomeOption, err, fail, opened, out, plural_rows, remote_query, when
from lakegate.errors import ConfigError


def sql(
    query: Annotated[str, typer.Argument(help="One read-only SQL statement over database.table names.")],
    *,
    home: HomeOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    as_principal: Annotated[
        str | None,
        typer.Option(
            "--as", help="Run as this principal, seeing only its grants (default: the home's admin)."
        ),
    ] = None,
    dialect: Annotated[
        str, typer.Option("--dialect", help="duckdb, or athena/trino (translated with the same meaning).")
    ] = "duckdb",
    server: Annotated[
        str | None, typer.Option("--server", help="Ask a remote lakegate (http://host:port) instead.")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="LAKEGATE_TOKEN", help="The token for --server.")
    ] = None,
    reuse: Annotated[
        float | None,
        typer.Option(
            "--reuse",
            min=0.001,
            help="With --server: answer from the server's kept result of the identical query over the "
            "same files, if at most this many minutes old.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine", help="duckdb or spark (engines.spark.url) instead of the workgroup's; admins."
        ),
    ] = None,
) -> None:
    """Run a read-only SQL query and print the result (recorded in the history, like any)."""
    from lakegate.query import dbapi

    if fmt not in ("table", "csv", "json"):
        raise fail(
            ConfigError(f"unknown --format {fmt!r}", code="cli.bad_format", hint="use table, csv or json")
        )
    writer = {"table": output.write_table, "csv": output.write_csv, "json": output.write_json}[fmt]
    if reuse is not None and server is None:
        raise fail(
            ConfigError(
                "--reuse needs --server: results are kept by a running lakegate, not by this command",
                code="cli.reuse_local",
                hint="lakegate sql --server http://host:port --reuse 60 '...'",
            )
        )
    if server is not None:
        table, elapsed = remote_query(server, token, query, dialect, reuse, engine=engine)
        writer(table, sys.stdout)
        sys.stdout.flush()
        if fmt == "table":
            err.print(f"{plural_rows(table.num_rows)} in {elapsed:.0f} ms (on {server})", markup=False)
        return
    with opened(home) as application:
        connection = dbapi.local(application, as_principal, dialect=dialect, via="cli")
        connection.engine = engine
        try:
            cursor = connection.execute(query)
            table, elapsed_ms = cursor.fetch_arrow(), cursor.elapsed_ms
        finally:
            connection.gateway.close()
        writer(table, sys.stdout)
        sys.stdout.flush()
        if fmt == "table":
            err.print(f"{plural_rows(table.num_rows)} in {elapsed_ms:.0f} ms", markup=False)


def history(
    principal: Annotated[str | None, typer.Option("--principal", help="Only this principal's.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 50,
    home: HomeOption = None,
) -> None:
    """Past queries of every principal (the audit log of who read what)."""
    from lakegate.auth.principals import home_admin
    from lakegate.query.history import History

    admin = home_admin()
    with opened(home) as application:
        found = History(application.catalog).of(admin, principal=principal, limit=limit)
    if not found:
        out.print("no queries yet")
        return
    grid = Table("when", "principal", "state", "rows", "ms", "tables", "sql", box=None)
    for q in found:
        ms = f"{q.elapsed_ms:.0f}" if q.elapsed_ms is not None else ""
        state = q.state if not q.error_code else f"{q.state} {q.error_code}"
        grid.add_row(when(q.submitted_at), q.principal, state, str(q.rows or 0), ms, ", ".join(q.tables),
                     " ".join(q.sql.split())[:80])  # fmt: skip
    out.print(grid)
