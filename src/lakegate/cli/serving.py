"""``lakegate init`` and ``lakegate up``: make a home, and run the daemon on it until Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakegate.cli.common import HomeOption, err, fail, opened, out, status_line
from lakegate.config import example_config
from lakegate.errors import ConfigError, LakegateError
from lakegate.home import resolve_home

if TYPE_CHECKING:
    from lakegate.ingest.outcomes import Outcome


def init(home: HomeOption = None) -> None:
    """Create a home folder with landing/, lake/, quarantine/ and a commented lakegate.yaml."""
    try:
        resolved = resolve_home(home, create=True)
    except LakegateError as exc:
        raise fail(exc) from None
    if resolved.config_file.exists():
        out.print(f"{resolved.root}: already a lakegate home; {resolved.config_file.name} left as it is")
    else:
        resolved.config_file.write_text(example_config(), encoding="utf-8")
        out.print(f"created {resolved.root} (landing/, lake/, quarantine/, lakegate.yaml)")
    with opened(str(resolved.root)):
        pass


# long: typer declares each option in the signature (most of these lines); the daemon does the work
def up(
    *,
    home: HomeOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail to stderr.")] = False,
    events_port: Annotated[
        int | None, typer.Option("--events-port", help="Serve POST /v1/events/s3 for S3 event notifications.")
    ] = None,
    events_host: Annotated[
        str, typer.Option("--events-host", help="Address the events endpoint binds.")
    ] = "127.0.0.1",
    http_port: Annotated[
        int | None,
        typer.Option("--http-port", help="Serve the HTTP API on this port (0: a free one, printed)."),
    ] = None,
    http_host: Annotated[str, typer.Option("--http-host", help="Address the HTTP API binds.")] = "127.0.0.1",
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="Serve the HTTP API over TLS with this certificate (PEM)."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")
    ] = None,
    tls_self_signed: Annotated[
        bool,
        typer.Option(
            "--tls-self-signed", help="TLS with a self-signed certificate kept in the home (development)."
        ),
    ] = False,
    pg_port: Annotated[
        int | None,
        typer.Option("--pg-port", help="Serve the PostgreSQL wire protocol on this port (0: a free one)."),
    ] = None,
    pg_host: Annotated[
        str, typer.Option("--pg-host", help="Address the PostgreSQL port binds.")
    ] = "127.0.0.1",
    pg_auth: Annotated[
        str,
        typer.Option("--pg-auth", help="scram (SCRAM-SHA-256, default) or password (cleartext, TLS only)."),
    ] = "scram",
    pg_require_tls: Annotated[
        bool, typer.Option("--pg-require-tls", help="Refuse PostgreSQL connections without TLS.")
    ] = False,
    aws_port: Annotated[
        int | None,
        typer.Option(
            "--aws-port", help="Serve Athena, Glue and the S3 results bucket on this port (0: a free one)."
        ),
    ] = None,
    aws_host: Annotated[
        str, typer.Option("--aws-host", help="Address the AWS endpoint binds.")
    ] = "127.0.0.1",
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="What this node does: all, ingest (takes deliveries, answers no queries) or query "
            "(answers queries, takes no deliveries); scale each on its own with many nodes.",
        ),
    ] = "all",
) -> None:
    """Watch landing/, validate, organize and catalog every file, until Ctrl-C."""
    import faulthandler

    from lakegate.daemon import Daemon, Serving

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` prints every thread's stack
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if (tls_cert or tls_key) and not (tls_cert and tls_key):
        raise fail(ConfigError("--tls-cert and --tls-key name two existing files", code="cli.bad_tls",
                               hint="give both PEM files, or --tls-self-signed for development"))  # fmt: skip
    serving = Serving(
        events_port=events_port, events_host=events_host, http_port=http_port, http_host=http_host,
        tls=(tls_cert, tls_key) if tls_cert and tls_key and not tls_self_signed else None,
        tls_self_signed=tls_self_signed, pg_port=pg_port, pg_host=pg_host, pg_auth=pg_auth,
        pg_require_tls=pg_require_tls, role=role, aws_port=aws_port, aws_host=aws_host,
    )  # fmt: skip
    try:
        serving.check()
    except LakegateError as exc:
        raise fail(exc) from None
    with opened(home, create=True) as application:
        print_lock = threading.Lock()

        def status(o: Outcome) -> None:
            line = status_line(o)
            with print_lock:
                print(line, flush=True)

        def say(message: str) -> None:
            err.print(message, markup=False, soft_wrap=True)

        daemon = Daemon(application, serving, report=status, say=say)
        stop = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        started = time.monotonic()
        try:
            daemon.start()
        except LakegateError as exc:
            raise fail(exc) from None
        daemon.watch(stop)
        counts = daemon.stop()
        summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("accepted", "quarantined", "duplicate"))
        err.print(f"stopped after {time.monotonic() - started:.0f} s: {summary}", markup=False)


def nodes(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per node.")] = False,
) -> None:
    """The lakegate nodes sharing this home's catalog: up, gone (silent for over a lease) or stopped."""
    import json

    from rich.table import Table

    from lakegate.cluster.registry import Registry

    with opened(home) as application:
        lease = application.settings.cluster.lease_seconds
        found = [n.as_dict(lease) for n in Registry(application.catalog, lease).all()]
    if as_json:
        for node in found:
            out.print_json(json.dumps(node))
        return
    if not found:
        out.print("no node has run on this catalog yet (`lakegate up` registers one)")
        return
    table = Table("node", "state", "roles", "host", "pid", "version", "heartbeat", "HTTP", "PostgreSQL")
    for n in found:
        table.add_row(
            n["id"], n["state"], n["roles"], n["host"], str(n["pid"]), n["version"],
            f"{n['heartbeat_age_seconds']:.0f} s ago", n["http_url"] or "-", n["pg_url"] or "-",
        )  # fmt: skip
    out.print(table)
