"""The ``lakegate`` command.

Every command takes ``--home DIR`` (else $LAKEGATE_HOME, else ./lakegate-data).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.table import Table

from lakegate.app import LANDING_PREFIX, App
from lakegate.catalog import records as r
from lakegate.cli import output
from lakegate.cli.access import grants_app, tokens_app, users_app, workgroups_app
from lakegate.cli.common import HomeOption, err, fail, opened, out, when
from lakegate.config import example_config
from lakegate.errors import ConfigError, LakegateError, Rejection
from lakegate.home import resolve_home
from lakegate.keys import printable

if TYPE_CHECKING:
    from lakegate.ingest.pipeline import Outcome
    from lakegate.ingest.service import IngestService
    from lakegate.query.engine import Engine
    from lakegate.storage.s3 import S3Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="lakegate: drop files into landing/, query them with read-only SQL a second later.",
)
quarantine_app = typer.Typer(no_args_is_help=True, help="Objects that were rejected, with their reasons.")
app.add_typer(quarantine_app, name="quarantine")
schema_app = typer.Typer(no_args_is_help=True, help="How a table's schema changed, version by version.")
app.add_typer(schema_app, name="schema")
archive_app = typer.Typer(
    no_args_is_help=True, help="Lake files taken out of their tables (replaced, expired, dropped)."
)
app.add_typer(archive_app, name="archive")
rules_app = typer.Typer(no_args_is_help=True, help="Try the datasets and checks on a key or a file.")
app.add_typer(rules_app, name="rules")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(grants_app, name="grants")
app.add_typer(workgroups_app, name="workgroups")

F = TypeVar("F", bound=Callable[..., Any])


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# -- init and up ------------------------------------------------------------------------------


@app.command()
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


class HomeLock:
    """One ``lakegate up`` per home."""

    def __init__(self, root: Path) -> None:
        self.path = root / ".lakegate.lock"
        self.fd = -1

    def acquire(self) -> bool:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = -1
            return False
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _no_table(table: str) -> typer.Exit:
    return fail(ConfigError(f"no table {table}", code="catalog.no_table", hint="`lakegate ls` lists them"))


def _status_line(o: Outcome) -> str:
    """One object's outcome as `lakegate up` prints it: one line, whatever its name holds."""
    return printable(_status_text(o))


def _status_text(o: Outcome) -> str:
    from lakegate.schema import describe_change

    if o.kind == "accepted":
        where = f" {o.partition}" if o.partition else ""
        warned = f"; warnings: {'; '.join(o.warnings)}" if o.warnings else ""
        changed = f"; {describe_change(o.schema_diff)}" if o.schema_diff else ""
        return f"accepted     {o.source_key} -> {o.table}{where} ({_rows(o.rows)}){changed}{warned}"
    if o.kind == "quarantined":
        return f"quarantined  {o.source_key}: {o.reason_code}: {o.reason}"
    if o.kind == "duplicate":
        return f"duplicate    {o.source_key}: identical content already in {o.table}"
    return f"{o.kind:<12} {o.source_key}: {o.reason}"


def _s3_landing(application: App, option: str) -> S3Store:
    """The landing area, which event notifications only make sense for when it is on S3."""
    from lakegate.storage.s3 import S3Store

    landing = application.store.area("landing")
    if not isinstance(landing, S3Store):
        raise ConfigError(
            f"{option} needs an S3 landing area: a landing folder is watched directly",
            code="cli.events_need_s3",
            hint=f"set storage.landing to s3://bucket/prefix/, or drop {option}",
        )
    return landing


@app.command()
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
) -> None:
    """Watch landing/, validate, organize and catalog every file, until Ctrl-C."""
    import faulthandler

    from lakegate.ingest.service import IngestService
    from lakegate.query.sandbox import landlock_abi

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` prints every thread's stack
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    with opened(home, create=True) as application:
        lock = HomeLock(application.home.root)
        if not lock.acquire():
            raise fail(
                ConfigError(
                    f"another `lakegate up` is already running on {application.home.root}",
                    code="home.busy",
                    hint="stop it first, or use another --home",
                )
            )
        print_lock = threading.Lock()

        def status(o: Outcome) -> None:
            line = _status_line(o)
            with print_lock:
                print(line, flush=True)

        try:
            application.store.check()
        except LakegateError as exc:
            if not exc.transient:
                lock.release()
                raise fail(exc) from None
            err.print(f"warning: {exc.one_line()}; lakegate keeps trying", soft_wrap=True)
        from lakegate.ingest.accelerate import Accelerator

        accelerator = Accelerator(application.catalog, application.store, lambda: application.settings)

        def reported(o: Outcome) -> None:
            status(o)
            if o.kind == "accepted":
                accelerator.wake()  # its Parquet copy can be written now

        service = IngestService(application, on_outcome=reported)
        webhook = consumer = None
        events = application.settings.events
        if events_port is not None or events.sqs_queue_url:
            try:
                landing = _s3_landing(application, "--events-port" if events_port else "events.sqs_queue_url")
            except LakegateError as exc:
                lock.release()
                raise fail(exc) from None

            def notify(key: str) -> None:
                service.notify(LANDING_PREFIX + key)

            if events_port is not None:
                from lakegate.events.webhook import make_app
                from lakegate.server.background import BackgroundServer

                webhook = BackgroundServer(
                    make_app(landing.bucket, landing.prefix, notify), events_host, events_port, "events"
                )
            if events.sqs_queue_url:
                from lakegate.events.s3_notifications import LandingFilter
                from lakegate.events.sqs import SqsConsumer, sqs_client

                consumer = SqsConsumer(
                    sqs_client(application.settings),
                    events.sqs_queue_url,
                    LandingFilter(landing.bucket, landing.prefix),
                    notify,
                    wait_seconds=events.sqs_wait_seconds,
                )
                try:
                    consumer.check()
                except LakegateError as exc:
                    if not exc.transient:
                        lock.release()
                        raise fail(exc) from None
                    err.print(f"warning: {exc.one_line()}; lakegate keeps trying", soft_wrap=True)
        api = None
        queries: Engine | None = None
        tls = None
        if tls_self_signed:
            from lakegate.server.tls import self_signed

            tls = self_signed(application.home.root / "tls")
        elif tls_cert or tls_key:
            if not (tls_cert and tls_key and tls_cert.is_file() and tls_key.is_file()):
                lock.release()
                bad = ConfigError(
                    "--tls-cert and --tls-key name two existing files",
                    code="cli.bad_tls",
                    hint="give both PEM files, or --tls-self-signed for development",
                )
                raise fail(bad)
            tls = (tls_cert, tls_key)
        if pg_auth not in ("scram", "password") or (pg_require_tls and tls is None):
            lock.release()
            raise fail(ConfigError(
                "--pg-auth is scram or password, and --pg-require-tls needs a certificate",
                code="cli.bad_option", hint="e.g. --pg-auth scram --tls-self-signed --pg-require-tls",
            ))  # fmt: skip
        if http_port is not None or pg_port is not None:
            from lakegate.query.engine import QueryEngine

            query_settings = application.settings.query
            if query_settings.isolation == "process":
                from lakegate import duck
                from lakegate.query.isolated import IsolatedEngine

                queries = IsolatedEngine(
                    str(application.home.root),
                    application.settings.model_dump(),
                    query_settings,
                    processes=query_settings.processes,
                    margin_mb=query_settings.process_memory_margin_mb,
                    allow_tcp_ports=duck.store_ports(application.query_store()),
                )
                threading.Thread(target=queries.warm_up, name="lakegate-engine-warm-up", daemon=True).start()
            else:
                queries = QueryEngine(application.catalog, application.query_store(), query_settings)
        from lakegate.query.gateway import Gateway

        gateway = (
            Gateway(application.catalog, queries) if queries is not None else None
        )  # HTTP's and pgwire's
        if http_port is not None:
            from lakegate.server.app import make_app as make_api
            from lakegate.server.background import BackgroundServer

            api = BackgroundServer(
                make_api(
                    application.catalog,
                    application.store,
                    lambda: service.pipeline,
                    gateway,
                    ingest_counts=lambda: dict(service.counts),
                    results=application.home.root / "results",
                    http=application.settings.http,
                ),
                http_host,
                http_port,
                "http",
                tls,
                max_connections=application.settings.http.max_connections,
            )
        pg = None
        if pg_port is not None:
            from lakegate.pgwire.server import PgServer
            from lakegate.pgwire.session import Options

            assert gateway is not None
            pg = PgServer(gateway, pg_host, pg_port, tls=tls,
                          options=Options(auth=pg_auth, require_tls=pg_require_tls))  # fmt: skip
        from lakegate.auth.principals import FIRST_ADMIN, Principals

        people = Principals(application.catalog)
        for change in people.apply(application.settings.principals):
            err.print(f"principals (lakegate.yaml): {change}", markup=False, soft_wrap=True)
        first_token = people.ensure_admin()
        if first_token:
            err.print(
                f"created the first admin, {FIRST_ADMIN!r}; its token, shown only now:\n  {first_token}\n"
                f"(`lakegate tokens create {FIRST_ADMIN}` makes more, `lakegate users add NAME` adds people)",
                markup=False,
                soft_wrap=True,
            )
        stop = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        started = time.monotonic()
        service.start()
        accelerator.start()
        if webhook:
            webhook.start()
            err.print(f"S3 events: POST http://{events_host}:{events_port}/v1/events/s3", soft_wrap=True)
        if consumer:
            consumer.start()
            err.print(f"S3 events: reading the SQS queue {consumer.queue_url}", soft_wrap=True)
        if api:
            api.start()
            bound = api.bound_port()  # --http-port 0: the one the system picked
            scheme = "https" if tls else "http"
            trust = f"; clients trust {tls[0]}" if tls_self_signed and tls else ""
            err.print(
                f"web console: {scheme}://{http_host}:{bound}/ (sign in with a token)\n"
                f"HTTP API: {scheme}://{http_host}:{bound}/v1/ (OpenAPI at /openapi.json{trust})",
                soft_wrap=True,
            )
        if pg:
            try:
                pg.start()
            except OSError as exc:
                lock.release()
                busy = ConfigError(
                    f"the PostgreSQL port {pg_host}:{pg_port} cannot be opened: {exc}",
                    code="cli.port_busy",
                    hint="pick another --pg-port, or 0",
                )
                raise fail(busy) from None
            ssl_mode = "require" if pg_require_tls else ("prefer" if tls else "disable")
            err.print(
                f"PostgreSQL: postgresql://<user>@{pg_host}:{pg.bound_port()}/lakegate?sslmode={ssl_mode} "
                "(the password is one of the user's tokens)",
                soft_wrap=True,
            )
        sandbox = "kernel-enforced read-only query threads" if landlock_abi() else "NO Landlock (guard only)"
        workers = (
            f"{service.processes} worker processes"
            if service.processes
            else f"{application.settings.ingest.workers} worker threads"
        )
        err.print(
            f"lakegate is up on {application.home.root}: drop files into "
            f"{application.store.area('landing').url('')}<database>/<table>/ ({workers}, {sandbox}). "
            "Ctrl-C stops.",
            markup=False,
            soft_wrap=True,
        )
        storage = application.settings.storage
        if storage.uses_s3() and not storage.s3.query_access_key:
            err.print(
                "warning: storage.s3.query_access_key is not set, so queries read S3 with the ingest "
                "identity; give them a read-only one",
                soft_wrap=True,
            )
        config = _FileWatch(application.home.config_file)
        while not stop.wait(0.5):
            if config.changed():
                _reload(application, service)
        for server in (webhook, api, pg):
            if server:
                server.stop()
        if api is not None and api.app.state.jobs is not None:
            api.app.state.jobs.shutdown()  # background queries still running are cancelled
        if gateway is not None:
            gateway.close()
        if consumer:
            consumer.stop()
        accelerator.stop()
        service.stop()
        lock.release()
        counts = service.counts
        summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("accepted", "quarantined", "duplicate"))
        err.print(f"stopped after {time.monotonic() - started:.0f} s: {summary}", markup=False)


class _FileWatch:
    """Tells when a file was written, replaced or removed since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        now = self._stat()
        if now == self.seen:
            return False
        self.seen = now
        return True


def _reload(application: App, service: IngestService) -> None:
    """Apply a changed lakegate.yaml: datasets and routing at once; the rest at the next start."""
    from lakegate.config import load_settings

    try:
        new = load_settings(application.home)
    except LakegateError as exc:
        err.print(
            f"lakegate.yaml not reloaded, the settings in force stay: {exc.one_line()}",
            markup=False,
            soft_wrap=True,
        )
        return
    current = application.settings
    later = [n for n in ("catalog", "storage", "events", "query") if getattr(new, n) != getattr(current, n)]
    if new.ingest.model_copy(update={"default_route": current.ingest.default_route}) != current.ingest:
        later.insert(2, "ingest")
    current.datasets = new.datasets
    current.ingest.default_route = new.ingest.default_route
    service.reload()
    note = f"; changes to {', '.join(later)} take effect when lakegate up restarts" if later else ""
    count = len(new.datasets)
    err.print(
        f"reloaded lakegate.yaml: {count} dataset{'' if count == 1 else 's'}, default route "
        f"{'on' if new.ingest.default_route else 'off'}{note}",
        markup=False,
        soft_wrap=True,
    )


# -- sql ----------------------------------------------------------------------------------------


@app.command()
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
        table, elapsed = _remote_query(server, token, query, dialect, reuse)
        writer(table, sys.stdout)
        sys.stdout.flush()
        if fmt == "table":
            err.print(f"{_rows(table.num_rows)} in {elapsed:.0f} ms (on {server})", markup=False)
        return
    with opened(home) as application:
        connection = dbapi.local(application, as_principal, dialect=dialect, via="cli")
        try:
            cursor = connection.execute(query)
            table, elapsed_ms = cursor.fetch_arrow(), cursor.elapsed_ms
        finally:
            connection.gateway.close()
        writer(table, sys.stdout)
        sys.stdout.flush()
        if fmt == "table":
            err.print(f"{_rows(table.num_rows)} in {elapsed_ms:.0f} ms", markup=False)


@app.command()
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


# -- crawl ----------------------------------------------------------------------------------------


@app.command()
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
    from lakegate.crawler.bootstrap import Crawl

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
            f"read {report.read} files ({_human_bytes(report.bytes_read)}) in {report.seconds:.1f} s, "
            f"{rate:.0f} files/s",
            markup=False,
        )
        if report.rejected:
            raise typer.Exit(1)


# -- catalog listings ---------------------------------------------------------------------------


def _remote_query(
    server: str, token: str | None, query: str, dialect: str, reuse: float | None = None
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
            table = connection.execute(query).fetch_arrow()
    except LakegateError as exc:
        raise fail(exc) from None
    return table, (time.perf_counter() - started) * 1000


def _split_table(name: str) -> tuple[str, str]:
    database, dot, table = name.partition(".")
    if not dot or not database or not table:
        raise ConfigError(f"{name!r} is not database.table", code="cli.bad_table", hint="e.g. sales.orders")
    return database, table


@app.command("ls")
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
            database, name = _split_table(target)
            if catalog.table(database, name) is None:
                raise _no_table(target)
            grid = Table("partition", "files", "rows", "bytes", box=None)
            for part in catalog.partitions(database, name):
                grid.add_row(
                    part.path or "(none)",
                    str(part.file_count),
                    str(part.row_count),
                    _human_bytes(part.total_bytes),
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
                _human_bytes(t.total_bytes),
                ", ".join(t.partition_keys) or "-",
                f"v{t.schema_version}",
            )
        out.print(grid)


@app.command()
def describe(
    table: Annotated[str, typer.Argument(help="database.table")],
    home: HomeOption = None,
    partitions: Annotated[
        bool, typer.Option("--partitions", help="Also list each partition: files, rows, bytes.")
    ] = False,
) -> None:
    """Columns with their statistics, partition keys and the schema history of one table."""
    from lakegate.catalog.stats import by_partition, summarize
    from lakegate.schema import describe_diff

    with opened(home) as application:
        database, name = _split_table(table)
        info = application.catalog.table(database, name)
        if info is None:
            raise _no_table(table)
        out.print(
            f"{info.qualified}: {info.row_count} rows in {info.file_count} files, "
            f"{_human_bytes(info.total_bytes)}, schema v{info.schema_version}, location {info.location}/"
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
                parts.add_row(path or "(none)", str(done.files), str(done.rows), _human_bytes(done.bytes))
            out.print(parts)
        out.print("schema versions (`lakegate schema history` shows them in full):")
        for v in application.catalog.versions(database, name):
            changes = describe_diff(v.diff) if v.version > 1 else []
            stamp = when(v.created_at)
            out.print(
                f"  v{v.version}  {stamp}  {'; '.join(changes) or 'created'}  (from {v.cause})", markup=False
            )


@app.command()
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
    database, name = _split_table(table)
    versions = application.catalog.versions(database, name)
    if not versions:
        raise _no_table(table)
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


# -- put ----------------------------------------------------------------------------------------


@app.command()
def put(
    file: Annotated[Path, typer.Argument(help="The file to deliver.", exists=True, dir_okay=False)],
    to: Annotated[str, typer.Option("--to", help="database.table to deliver it to.")],
    partition: Annotated[
        list[str] | None, typer.Option("--partition", "-p", help="key=value, repeatable, in folder order.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Deliver a file as a drop into landing/ would (processed at once if `lakegate up` is not running)."""
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.ingest.routing import Router

    with opened(home, create=True) as application:
        database, table = _split_table(to)
        parts = [database, table, *(partition or []), file.name]
        for p in partition or []:
            if "=" not in p or "/" in p:
                raise fail(ConfigError(f"--partition {p!r} is not key=value", code="cli.bad_partition"))
        key = LANDING_PREFIX + "/".join(parts)
        with file.open("rb") as stream:
            application.store.write(key, stream)
        lock = HomeLock(application.home.root)
        if lock.acquire():
            try:
                obj = Pipeline(
                    application.catalog,
                    application.store,
                    router=Router.from_settings(application.settings),
                ).process(key)
            finally:
                lock.release()
        else:
            obj = _wait_for(application, key, timeout=60)
        if obj is None:
            out.print(f"delivered {key}; `lakegate up` is still working on it")
        elif obj.state == r.DONE:
            rows = (obj.plan or {}).get("rows", 0)
            out.print(f"accepted {key} -> {obj.qualified_table} ({_rows(rows)})", markup=False)
        elif obj.state == r.SKIPPED:
            out.print(f"duplicate {key}: identical content already in {obj.qualified_table}")
        else:
            err.print(f"quarantined {key}: {obj.reason_code}: {obj.reason}", markup=False, soft_wrap=True)
            raise typer.Exit(1)


def _wait_for(application: App, key: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        active = application.catalog.active_for(key)
        if active is not None:
            seen = active.id
        elif seen is not None:
            return application.catalog.get_object(seen)
        time.sleep(0.1)
    return None


# -- quarantine ---------------------------------------------------------------------------------


@quarantine_app.command("list")
def quarantine_list(home: HomeOption = None) -> None:
    """Every quarantined object with its reason (newest first)."""
    from lakegate.ingest.quarantine import Quarantine

    with opened(home) as application:
        rows = Quarantine(application.catalog, application.store).list()
        if not rows:
            out.print("quarantine is empty")
            return
        grid = Table("id", "when", "object", "kept at", "reason", box=None)
        for o in rows:
            stamp = when(o.updated_at)
            grid.add_row(str(o.id), stamp, o.source_key, o.target_key or "", f"{o.reason_code}: {o.reason}")
        out.print(grid)


def _quarantined(application: App, object_id: int) -> Any:
    from lakegate.ingest.quarantine import Quarantine

    return Quarantine(application.catalog, application.store).get(object_id)


@quarantine_app.command("show")
def quarantine_show(
    object_id: Annotated[int, typer.Argument(help="The id `lakegate quarantine list` shows.")],
    home: HomeOption = None,
) -> None:
    """One quarantined object: why, where it is kept, and the details of its reason."""
    import json

    from lakegate.ingest.quarantine import describe

    with opened(home) as application:
        shown = describe(_quarantined(application, object_id))
        grid = Table(box=None, show_header=False)
        grid.add_row("id", str(shown["id"]))
        grid.add_row("object", shown["object"])
        grid.add_row("state", shown["state"])
        grid.add_row("kept at", shown["kept_at"] or "(purged)")
        grid.add_row("reason", f"{shown['reason_code']}: {shown['reason']}")
        if shown["how_to_fix"]:
            grid.add_row("how to fix", str(shown["how_to_fix"]))
        for name, value in shown["details"].items():
            grid.add_row(name, value if isinstance(value, str) else json.dumps(value))
        grid.add_row("size", f"{shown['size']} bytes")
        grid.add_row("sha256", shown["sha256"] or "")
        grid.add_row("landed", when(shown["landed_at"]))
        out.print(grid)


@quarantine_app.command("replay")
def quarantine_replay(
    object_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids from `lakegate quarantine list`.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every quarantined object.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Those quarantined with this code.")] = None,
    home: HomeOption = None,
) -> None:
    """Put quarantined objects back in landing, to be taken again after a fix to the rules or files.

    Exit code 1 when any of them is quarantined again or could not be replayed.
    """
    from lakegate.errors import CatalogError
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.ingest.quarantine import Quarantine
    from lakegate.ingest.routing import Router

    with opened(home) as application:
        catalog = application.catalog
        quarantine = Quarantine(catalog, application.store)
        if object_ids:
            chosen = [quarantine.get(i) for i in object_ids]
        elif every or reason:
            chosen = [o for o in quarantine.list(reason) if o.state == r.QUARANTINED]
        else:
            raise ConfigError(
                "name the objects to replay", code="cli.nothing_chosen", hint="give ids, --all or --reason"
            )
        outcomes: list[Outcome] = []
        pipeline = Pipeline(
            catalog,
            application.store,
            router=Router.from_settings(application.settings),
            on_outcome=outcomes.append,
        )
        lock = HomeLock(application.home.root)
        daemon_running = not lock.acquire()  # if `lakegate up` runs, it takes the objects back in landing
        refused = 0
        try:
            for obj in chosen:
                if obj.state != r.QUARANTINED:
                    err.print(f"not replayed {obj.id}: it was {obj.state}", soft_wrap=True)
                    refused += 1
                    continue
                try:
                    done = quarantine.replay(obj, pipeline)
                except CatalogError as exc:
                    if exc.code != "catalog.state_conflict":  # else `lakegate up` finished the replay
                        err.print(f"not replayed {obj.id}: {exc.one_line()}", soft_wrap=True)
                        refused += 1
                        continue
                    done = catalog.get_object(obj.id) or obj
                if done.state != r.REPLAYED:
                    continue  # postponed: reported below
                if not daemon_running:
                    pipeline.process(obj.source_key)
        finally:
            lock.release()
        for o in outcomes:
            if o.kind != "replayed" or daemon_running:  # replayed, then taken: the outcome says it all
                out.print(_status_line(o))
        if refused or any(o.kind in ("quarantined", "replay postponed") for o in outcomes):
            raise typer.Exit(1)


@quarantine_app.command("purge")
def quarantine_purge(
    object_ids: Annotated[list[int], typer.Argument(help="Ids from `lakegate quarantine list`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    home: HomeOption = None,
) -> None:
    """Delete quarantined objects for good. Nothing delivered is deleted without this."""
    from lakegate.ingest.quarantine import Quarantine

    with opened(home) as application:
        chosen = [_quarantined(application, i) for i in object_ids]
        if not yes:
            for obj in chosen:
                out.print(f"would delete {obj.target_key} ({obj.source_key}, {obj.size} bytes)")
            out.print("nothing deleted: add --yes to delete them")
            return
        quarantine = Quarantine(application.catalog, application.store)
        for obj in chosen:
            quarantine.purge(obj)
            out.print(f"purged {obj.id}: {obj.target_key}")


# -- archive, retention, drop ------------------------------------------------------------------


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


@app.command()
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
            raise _no_table(table)
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


@app.command()
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


@app.command()
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


# -- rules --------------------------------------------------------------------------------------


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
