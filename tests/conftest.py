"""Shared fixtures: homes, stores, catalogs on SQLite and on a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lakegate.app import App, open_app
from lakegate.catalog import Catalog
from lakegate.storage import LocalStore, MemoryStore, ObjectStore
from lakegate.storage.s3 import S3Store
from tests import s3server, sqsserver
from tests.s3server import SeaweedS3
from tests.sparkserver import SparkConnect
from tests.sqsserver import MotoSQS

PG_ADMIN = os.environ.get("LAKEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LAKEGATE_") and not name.startswith("LAKEGATE_TEST_PG"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One real S3 server for the whole run."""
    server = s3server.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoSQS]:
    """moto's SQS server for the run (SQS has no open-source server; see tests/sqsserver.py)."""
    server = sqsserver.start(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def s3_store(seaweed: SeaweedS3) -> S3Store:
    """A fresh prefix of the run's bucket, written with the ingest identity."""
    return S3Store(seaweed.bucket, seaweed.new_prefix(), endpoint_url=seaweed.endpoint,
                   access_key=s3server.INGEST[0], secret_key=s3server.INGEST[1])  # fmt: skip


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    if request.param == "s3":
        return request.getfixturevalue("s3_store")  # type: ignore[no-any-return]
    return MemoryStore()


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedS3) -> Iterator[SparkConnect]:
    """The Spark Connect server of the pyspark wheel, started once for the tests that ask; it reads
    lakes on local folders and, as the read-only identity, on the run's S3 server."""
    from tests import s3server, sparkserver

    s3 = {
        "spark.hadoop.fs.s3a.endpoint": seaweed.endpoint,
        "spark.hadoop.fs.s3a.access.key": s3server.QUERY[0],
        "spark.hadoop.fs.s3a.secret.key": s3server.QUERY[1],
    }
    server = sparkserver.start(tmp_path_factory.mktemp("spark"), conf=s3, jars=sparkserver.s3a_jars())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_url(spark_server: SparkConnect) -> str:
    return spark_server.url


_spark_suspect: list[str] = []  # the Spark test that last failed, until the server is looked at


@pytest.fixture(autouse=True)
def _spark_usable(request: pytest.FixtureRequest) -> None:
    """After a Spark test failed, the next one first checks that the run's server still answers
    (out of memory, or its cores held by work a failure left running, it does not), and restarts
    it on the same ports if not: one failure must not fail every Spark test after it, each only
    after its timeout."""
    if not _spark_suspect or "spark_url" not in request.fixturenames:
        return
    failed = _spark_suspect.pop()
    server: SparkConnect = request.getfixturevalue("spark_server")
    if not server.usable():
        print(f"\nthe Spark Connect server stopped answering after {failed}: restarted (log: {server.log})")
        server.restart()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if getattr(report, "failed", False) and "spark_url" in getattr(item, "fixturenames", ()):
        _spark_suspect[:] = [item.nodeid]
    return report


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with pg_database() as url:
        yield url


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped at the end."""
    name = f"lakegate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    if request.param == "sqlite":
        cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
        yield cat
        cat.close()
    else:
        url = request.getfixturevalue("pg_url")
        cat = Catalog(url)
        yield cat
        cat.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def app(home: Path) -> Iterator[App]:
    application = open_app(home, create=True)
    yield application
    application.close()


# CI runs a fixed sequence of examples (no flakes on a submission); developers explore new ones.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
_hypothesis_settings.register_profile("dev", deadline=None)
_hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


_EXIT_GRACE_SECONDS = 60


def pytest_unconfigure(config: pytest.Config) -> None:
    """A test that left a thread waiting for ever (a timed-out test's server thread) must not
    hold the whole run past its summary until CI's own timeout. The interpreter's shutdown
    joins the threads still running (idle workers end at once); should that take longer than a
    grace, the threads left are named and the run ends with its own exit status."""
    import sys
    import threading

    status = int(getattr(config, "_lakegate_exit_status", 1))

    def give_up() -> None:
        main = threading.main_thread()
        stuck = [t.name for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
        print(f"\nthreads still running after the tests, the run ends without them: {stuck}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(status)

    watchdog = threading.Timer(_EXIT_GRACE_SECONDS, give_up)
    watchdog.daemon = True  # it does not hold the exit itself
    watchdog.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._lakegate_exit_status = exitstatus  # type: ignore[attr-defined]
