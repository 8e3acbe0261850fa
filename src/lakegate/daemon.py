"""The daemon ``lakegate up`` runs: ingest, acceleration, event sources, and — when ports are
given — one gateway behind the HTTP API and the PostgreSQL wire.

    daemon = Daemon(application, Serving(http_port=0), report=print_outcome, say=print)
    daemon.start()          # raises LakegateError when it cannot serve (nothing left running)
    daemon.watch(stop)      # until ``stop`` is set, reloading lakegate.yaml when it changes
    counts = daemon.stop()  # what it ingested: {"accepted": 3, ...}

It says what it serves, and warnings, through ``say`` (one message each); outcomes go to
``report`` as they happen.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate.app import LANDING_PREFIX, App, open_results
from lakegate.catalog.records import Claimant
from lakegate.cluster.heartbeat import Heartbeat
from lakegate.cluster.registry import ROLES, Registry, node_id, this_node
from lakegate.errors import ConfigError, LakegateError

if TYPE_CHECKING:
    from lakegate.auth.aws_keys import AwsKeys
    from lakegate.events.sqs import SqsConsumer
    from lakegate.ingest.accelerate import Accelerator
    from lakegate.ingest.outcomes import Outcome
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.ingest.service import IngestService
    from lakegate.pgwire.server import PgServer
    from lakegate.query.gateway import Gateway
    from lakegate.server.background import BackgroundServer
    from lakegate.server.jobs import Jobs
    from lakegate.storage.s3 import S3Store


@dataclass(frozen=True)
class Serving:
    """What ``lakegate up`` serves besides ingest (its command-line options)."""

    events_port: int | None = None
    events_host: str = "127.0.0.1"
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    tls: tuple[Path, Path] | None = None  # certificate and key (PEM)
    tls_self_signed: bool = False
    pg_port: int | None = None
    pg_host: str = "127.0.0.1"
    pg_auth: str = "scram"
    pg_require_tls: bool = False
    role: str = "all"  # all | ingest (deliveries only) | query (queries only)
    aws_port: int | None = None  # Athena, Glue and the S3 results bucket
    aws_host: str = "127.0.0.1"

    def check(self) -> None:
        """Raises: ConfigError ``cli.bad_tls`` or ``cli.bad_option`` for options that clash."""
        if self.tls is not None and not all(p.is_file() for p in self.tls):
            raise ConfigError(
                "--tls-cert and --tls-key name two existing files",
                code="cli.bad_tls",
                hint="give both PEM files, or --tls-self-signed for development",
            )
        if self.role not in ROLES:
            raise ConfigError(
                f"--role is one of {', '.join(ROLES)}, not {self.role!r}",
                code="cli.bad_option",
                hint="ingest: takes deliveries; query: answers queries; all: both",
            )
        if self.aws_port is not None and self.role == "ingest":
            raise ConfigError(
                "--aws-port answers queries, which a --role ingest node does not",
                code="cli.bad_option",
                hint="serve --aws-port on a node with --role query or all",
            )
        if self.pg_auth not in ("scram", "password") or (
            self.pg_require_tls and self.tls is None and not self.tls_self_signed
        ):
            raise ConfigError(
                "--pg-auth is scram or password, and --pg-require-tls needs a certificate",
                code="cli.bad_option",
                hint="e.g. --pg-auth scram --tls-self-signed --pg-require-tls",
            )


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


class FileWatch:
    """Tells when a file was written, replaced or removed since the last look — also a file
    swapped for another through a symbolic link (a Kubernetes config map), by its inode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = self._stat()

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        now = self._stat()
        if now == self.seen:
            return False
        self.seen = now
        return True


def s3_landing(application: App, option: str) -> S3Store:
    """The landing area, which event notifications only make sense for when it is on S3.

    Raises: ConfigError ``cli.events_need_s3``."""
    from lakegate.storage.s3 import S3Store

    landing = application.store.area("landing")
    if not isinstance(landing, S3Store):
        raise ConfigError(
            f"{option} needs an S3 landing area: a landing folder is watched directly",
            code="cli.events_need_s3",
            hint=f"set storage.landing to s3://bucket/prefix/, or drop {option}",
        )
    return landing


class Daemon:
    def __init__(
        self,
        application: App,
        serving: Serving,
        *,
        report: Callable[[Outcome], None],
        say: Callable[[str], None],
    ) -> None:
        self.application = application
        self.serving = serving
        self.report = report
        self.say = say
        self.lock = HomeLock(application.home.root)
        self.accelerator: Accelerator | None = None
        self.service: IngestService | None = None
        self.webhook: BackgroundServer | None = None
        self.consumer: SqsConsumer | None = None
        self.gateway: Gateway | None = None
        self.api: BackgroundServer | None = None
        self.pg: PgServer | None = None
        self.aws: BackgroundServer | None = None
        self.jobs: Jobs | None = None
        self.tls: tuple[Path, Path] | None = None
        self.heartbeat: Heartbeat | None = None
        self._replays: Pipeline | None = None
        self._running: list[Any] = []  # what started, to stop

    # -- starting -------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the home, build and start everything. Raises: LakegateError (``home.busy``,
        ``cli.port_busy``, a store or queue that refuses lakegate...) with nothing left running."""
        if not self.lock.acquire():
            raise ConfigError(
                f"another `lakegate up` is already running on {self.application.home.root}",
                code="home.busy",
                hint="stop it first, or use another --home",
            )
        try:
            self._check(self.application.store.check)
            self._build()
            self._principals()
            self._start()
        except BaseException:
            self.stop()
            raise

    def _check(self, check: Callable[[], None]) -> None:
        """A dependency that is down for now is warned about (lakegate keeps trying); one that
        refuses lakegate stops it."""
        try:
            check()
        except LakegateError as exc:
            if not exc.transient:
                raise
            self.say(f"warning: {exc.one_line()}; lakegate keeps trying")

    def _build(self) -> None:
        application, serving = self.application, self.serving
        settings = application.settings
        home = application.home.root
        shared = all(
            getattr(settings.storage, area).startswith("s3://") for area in ("landing", "lake", "quarantine")
        )
        node = this_node(home, node_id(home, settings.cluster.node_id), serving.role, shared)
        lease = settings.cluster.lease_seconds
        self.heartbeat = Heartbeat(Registry(application.catalog, lease), node, Claimant(node.id, lease))
        if serving.role != "query":
            self._ingest(self.heartbeat)
        self._tls()
        if serving.http_port is None and serving.pg_port is None and serving.aws_port is None:
            return
        if serving.role == "ingest":
            self._http()  # health, metrics, the console and uploads: no queries on this node
            return
        self._serve_queries()

    def _ingest(self, heartbeat: Heartbeat) -> None:
        from lakegate.ingest.accelerate import Accelerator
        from lakegate.ingest.service import IngestService

        application = self.application
        accelerator = Accelerator(
            application.catalog, application.store, lambda: application.settings,
            may_run=lambda: heartbeat.leads,
            threads=self._accelerate_threads,
            busy=self._ingest_busy,
        )  # fmt: skip

        def reported(o: Outcome) -> None:
            self.report(o)
            if o.kind == "accepted":
                accelerator.wake()  # its Parquet copy can be written now

        self.accelerator = accelerator
        self.service = IngestService(application, on_outcome=reported, cluster=heartbeat)
        self._event_sources()

    def _ingest_busy(self) -> bool:
        return self.service is not None and self.service.busy()

    def _accelerate_threads(self) -> int:
        """Threads for the next Parquet copy: every core (or ``ingest.accelerate_threads``) while
        no delivery is being taken; one while one is, so files become queryable first."""
        service = getattr(self, "service", None)
        if service is not None and service.busy():
            return 1
        return self.application.settings.ingest.accelerate_threads or os.cpu_count() or 1

    def _tls(self) -> None:
        serving = self.serving
        if serving.tls_self_signed:
            from lakegate.server.tls import self_signed

            self.tls = self_signed(self.application.home.root / "tls")
        else:
            self.tls = serving.tls

    def _serve_queries(self) -> None:
        serving = self.serving
        from lakegate.auth.slots import SharedAdmission
        from lakegate.query.engines.spark_engine import spark_for
        from lakegate.query.gateway import Gateway
        from lakegate.query.history import History

        catalog, heartbeat = self.application.catalog, self.heartbeat
        assert heartbeat is not None
        history = History(catalog, heartbeat.node.id, heartbeat.claimant.lease_seconds)
        admission = None
        if not catalog.is_sqlite:  # a PostgreSQL catalog may have other nodes: turns are shared
            admission = SharedAdmission(catalog, heartbeat.node.id, heartbeat.claimant.lease_seconds)
            heartbeat.renewals.append(admission.renew)

        def queries_renewed() -> None:
            history.renew()
            if heartbeat.leads:
                history.finish_lost()

        heartbeat.renewals.append(queries_renewed)
        spark = spark_for(catalog, self.application.query_store(), self.application.settings)  # engines.spark
        self.gateway = Gateway(catalog, self._engine(), admission=admission, history=history, **spark)
        self.jobs = self._jobs(self.gateway)
        if serving.http_port is not None:
            self._http()
        if serving.aws_port is not None:
            from lakegate.server.aws.app import make_aws_app
            from lakegate.server.background import BackgroundServer

            aws_app = make_aws_app(self.application, self.gateway, self.jobs)
            self.aws = BackgroundServer(aws_app, serving.aws_host, serving.aws_port, "aws", self.tls)
        if serving.pg_port is not None:
            from lakegate.pgwire.server import PgServer
            from lakegate.pgwire.session import Options

            options = Options(auth=serving.pg_auth, require_tls=serving.pg_require_tls)
            self.pg = PgServer(self.gateway, serving.pg_host, serving.pg_port, tls=self.tls, options=options)

    def _event_sources(self) -> None:
        events, serving = self.application.settings.events, self.serving
        if serving.events_port is None and not events.sqs_queue_url:
            return
        landing = s3_landing(
            self.application, "--events-port" if serving.events_port else "events.sqs_queue_url"
        )

        service = self.service
        assert service is not None

        def notify(key: str) -> None:
            service.notify(LANDING_PREFIX + key)

        if serving.events_port is not None:
            from lakegate.events.webhook import make_app
            from lakegate.server.background import BackgroundServer

            self.webhook = BackgroundServer(
                make_app(landing.bucket, landing.prefix, notify),
                serving.events_host,
                serving.events_port,
                "events",
            )
        if events.sqs_queue_url:
            from lakegate.events.s3_notifications import LandingFilter
            from lakegate.events.sqs import SqsConsumer, sqs_client

            self.consumer = SqsConsumer(
                sqs_client(self.application.settings),
                events.sqs_queue_url,
                LandingFilter(landing.bucket, landing.prefix),
                notify,
                wait_seconds=events.sqs_wait_seconds,
            )
            self._check(self.consumer.check)

    def _engine(self) -> Any:
        """The query engine: engine processes (``query.isolation: process``) or threads here."""
        from lakegate.query.engines.duck_engine import QueryEngine

        application, settings = self.application, self.application.settings.query
        if settings.isolation != "process":
            return QueryEngine(application.catalog, application.query_store(), settings)
        from lakegate import duck
        from lakegate.query.engines.isolated import IsolatedEngine

        engine = IsolatedEngine(
            str(application.home.root),
            application.settings.model_dump(),
            settings,
            processes=settings.processes,
            margin_mb=settings.process_memory_margin_mb,
            allow_tcp_ports=duck.store_ports(application.query_store()),
        )
        threading.Thread(target=engine.warm_up, name="lakegate-engine-warm-up", daemon=True).start()
        return engine

    def _aws_keys(self) -> AwsKeys:
        from lakegate.server.aws.app import aws_keys

        return aws_keys(self.application)

    def _jobs(self, gateway: Gateway) -> Jobs:
        """Background queries, shared by the HTTP API and the AWS endpoint."""
        from lakegate.auth.principals import Principals
        from lakegate.query.liveness import AccessWatch
        from lakegate.query.permissions import Grants
        from lakegate.server.jobs import Jobs

        application = self.application
        catalog = application.catalog
        return Jobs(
            gateway, folder=application.home.root / "results",
            watch=AccessWatch(Principals(catalog), Grants(catalog)),
            shared=open_results(application.home, application.settings.storage),
        )  # fmt: skip

    def _http(self) -> None:
        from lakegate.server.app import make_app
        from lakegate.server.background import BackgroundServer

        application, serving, service = self.application, self.serving, self.service
        api = make_app(
            application.catalog,
            application.store,
            self._pipeline,
            self.gateway,
            ingest_counts=lambda: dict(service.counts) if service is not None else {},
            results=application.home.root / "results",
            shared_results=open_results(application.home, application.settings.storage),
            http=application.settings.http,
            cluster=self.heartbeat,
            jobs=self.jobs,
            aws_keys=self._aws_keys,
        )
        self.api = BackgroundServer(
            api, serving.http_host, serving.http_port or 0, "http", self.tls,
            max_connections=application.settings.http.max_connections,
        )  # fmt: skip

    def _pipeline(self) -> Pipeline:
        """The pipeline quarantine replays run through: the ingest service's, or on a query
        node one of its own (replays are rare)."""
        if self.service is not None:
            return self.service.pipeline
        if self._replays is None:
            from lakegate.ingest.pipeline import Pipeline
            from lakegate.ingest.routing import Router

            application = self.application
            claimant = self.heartbeat.claimant if self.heartbeat else None
            router = Router.from_settings(application.settings)
            self._replays = Pipeline(application.catalog, application.store, router=router, claimant=claimant)
        return self._replays

    def _principals(self) -> None:
        from lakegate.auth.principals import FIRST_ADMIN, Principals

        people = Principals(self.application.catalog)
        for change in people.apply(self.application.settings.principals):
            self.say(f"principals (lakegate.yaml): {change}")
        first_token = people.ensure_admin()
        if first_token:
            self.say(
                f"created the first admin, {FIRST_ADMIN!r}; its token, shown only now:\n  {first_token}\n"
                f"(`lakegate tokens create {FIRST_ADMIN}` makes more, `lakegate users add NAME` adds people)"
            )

    def _start(self) -> None:
        serving = self.serving
        assert self.heartbeat is not None
        self.heartbeat.start()  # registered, and leading or not, before any work is taken
        self._running.append(self.heartbeat)
        for part in (self.service, self.accelerator):
            if part is not None:
                part.start()
                self._running.append(part)
        if self.webhook:
            self.webhook.start()
            self._running.append(self.webhook)
            self.say(f"S3 events: POST http://{serving.events_host}:{serving.events_port}/v1/events/s3")
        if self.consumer:
            self.consumer.start()
            self._running.append(self.consumer)
            self.say(f"S3 events: reading the SQS queue {self.consumer.queue_url}")
        if self.api:
            self.api.start()
            self._running.append(self.api)
            bound = self.api.bound_port()  # --http-port 0: the one the system picked
            scheme = "https" if self.tls else "http"
            self.heartbeat.advertise(http_url=f"{scheme}://{serving.http_host}:{bound}/")
            trust = f"; clients trust {self.tls[0]}" if serving.tls_self_signed and self.tls else ""
            self.say(
                f"web console: {scheme}://{serving.http_host}:{bound}/ (sign in with a token)\n"
                f"HTTP API: {scheme}://{serving.http_host}:{bound}/v1/ (OpenAPI at /openapi.json{trust})"
            )
        if self.pg:
            self._start_pg(self.pg)
        if self.aws:
            self.aws.start()
            self._running.append(self.aws)
            scheme = "https" if self.tls else "http"
            self.say(
                f"AWS (Athena, Glue, S3 results): endpoint_url={scheme}://{serving.aws_host}:"
                f"{self.aws.bound_port()} (keys: `lakegate tokens create NAME --aws`)"
            )
        self._announce()

    def _start_pg(self, pg: PgServer) -> None:
        serving = self.serving
        pg.start()  # its port is open already (a taken one stopped start-up before)
        self._running.append(pg)
        ssl_mode = "require" if serving.pg_require_tls else ("prefer" if self.tls else "disable")
        where = f"{serving.pg_host}:{pg.bound_port()}"
        assert self.heartbeat is not None
        self.heartbeat.advertise(pg_url=f"postgresql://{where}/lakegate")
        self.say(
            f"PostgreSQL: postgresql://<user>@{where}/lakegate?sslmode={ssl_mode} "
            "(the password is one of the user's tokens)"
        )

    def _announce(self) -> None:
        from lakegate.query.sandbox import landlock_abi

        application, heartbeat = self.application, self.heartbeat
        assert heartbeat is not None
        sandbox = "kernel-enforced read-only query threads" if landlock_abi() else "NO Landlock (guard only)"
        if self.service is None:
            does = f"answering queries only (--role query; {sandbox})"
        else:
            workers = (
                f"{self.service.processes} worker processes"
                if self.service.processes
                else f"{application.settings.ingest.workers} worker threads"
            )
            only = ", deliveries only (--role ingest)" if self.serving.role == "ingest" else f", {sandbox}"
            landing = application.store.area("landing").url("")
            does = f"drop files into {landing}<database>/<table>/ ({workers}{only})"
        others = len(heartbeat.registry.alive()) - 1
        peers = f"; {others} other node{'' if others == 1 else 's'} share the catalog" if others > 0 else ""
        where = f"{application.home.root} as node {heartbeat.node.id}{peers}"
        self.say(f"lakegate is up on {where}: {does}. Ctrl-C stops.")
        storage = application.settings.storage
        if storage.uses_s3() and not storage.s3.query_access_key:
            self.say(
                "warning: storage.s3.query_access_key is not set, so queries read S3 with the ingest "
                "identity; give them a read-only one"
            )

    # -- running and stopping -------------------------------------------------------------------

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Run until ``stop`` is set, applying lakegate.yaml whenever it changes."""
        config = FileWatch(self.application.home.config_file)
        while not stop.wait(interval):
            if config.changed():
                self.reload()

    def reload(self) -> None:
        """Apply a changed lakegate.yaml: datasets and routing at once; the rest at the next start."""
        from lakegate.config import load_settings

        try:
            new = load_settings(self.application.home)
        except LakegateError as exc:
            self.say(f"lakegate.yaml not reloaded, the settings in force stay: {exc.one_line()}")
            return
        current = self.application.settings
        later = [
            n for n in ("catalog", "storage", "events", "query") if getattr(new, n) != getattr(current, n)
        ]
        if new.ingest.model_copy(update={"default_route": current.ingest.default_route}) != current.ingest:
            later.insert(2, "ingest")
        current.datasets = new.datasets
        current.ingest.default_route = new.ingest.default_route
        if self.service is not None:
            self.service.reload()
        note = f"; changes to {', '.join(later)} take effect when lakegate up restarts" if later else ""
        count = len(new.datasets)
        self.say(
            f"reloaded lakegate.yaml: {count} dataset{'' if count == 1 else 's'}, default route "
            f"{'on' if new.ingest.default_route else 'off'}{note}"
        )

    def stop(self) -> dict[str, int]:
        """Stop what runs, servers first; what was ingested by outcome."""
        running, self._running = self._running, []
        for server in (self.webhook, self.api, self.pg, self.aws):
            if server is not None and server in running:
                server.stop()
            elif server is not None:
                server.socket.close()  # bound, never started: start-up stopped before
        if self.jobs is not None:
            self.jobs.shutdown()  # background queries still running are cancelled
        if self.gateway is not None:
            self.gateway.close()
            self.gateway = None
        for part in (self.consumer, self.accelerator, self.service, self.heartbeat):
            if part is not None and part in running:
                part.stop()  # the heartbeat last: it hands what is still held to the other nodes
        self.lock.release()
        return dict(self.service.counts) if self.service is not None else {}
