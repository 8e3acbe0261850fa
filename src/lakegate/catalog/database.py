"""The catalog's database: engine, migrations and transactions."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from lakegate.catalog.cache import TableCache
from lakegate.catalog.model import (
    tables,
)
from lakegate.errors import CatalogError

HEAD_REVISION = "0013"


MIGRATIONS = Path(__file__).parent / "migrations"


def engine_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@contextlib.contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Map SQLAlchemy/driver errors to ``CatalogError`` at the edge."""
    try:
        yield
    except CatalogError:
        raise
    except sa.exc.IntegrityError as exc:
        # Two writers created the same row at once; the retry will find it.
        raise CatalogError(
            f"catalog conflict while {what}: {exc.orig}", code="catalog.conflict", transient=True
        ) from exc
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise CatalogError(
            f"catalog database unavailable while {what}: {str(exc.orig).strip().splitlines()[0]}",
            code="catalog.unavailable",
            transient=True,
            hint="check the `catalog` setting and that the database is running",
        ) from exc
    except sa.exc.DBAPIError as exc:
        raise CatalogError(f"catalog error while {what}: {exc.orig}", code="catalog.failed") from exc


def touch(conn: Connection, table_id: int, *, removed: bool = False) -> int:
    """Record, in the transaction that changes it, that what queries read from a table changes
    (``removed``: files are taken out): cached copies are stale. Its new generation, which the
    files this transaction adds or changes must carry as ``changed_in``."""
    after = tables.c.generation + 1
    values = {"generation": after, "removed_in": after} if removed else {"generation": after}
    update = tables.update().where(tables.c.id == table_id).values(**values).returning(tables.c.generation)
    return int(conn.execute(update).scalar_one())


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of a lock lakegate names (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(f"lakegate:{name}".encode()).digest()[:8], "big", signed=True)


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


class CatalogDatabase:
    """The catalog's database: its engine (SQLite with WAL, or PostgreSQL), migrations, and
    transactions that turn driver errors into ``CatalogError``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = sa.create_engine(engine_url(url), **kwargs)
        self._relaxed_engine: Engine | None = None
        if self.is_sqlite:
            self._sqlite_setup(self.engine, synchronous="FULL")  # a commit survives power loss
            # Records whose last seconds a power cut may cost without losing data (the query
            # history) commit without waiting for the disk; the next durable commit syncs them too.
            self._relaxed_engine = sa.create_engine(engine_url(url), **kwargs)
            self._sqlite_setup(self._relaxed_engine, synchronous="NORMAL")
        self._writer = self.engine.execution_options(lakegate_write=True)
        self._relaxed_writer = (self._relaxed_engine or self.engine).execution_options(lakegate_write=True)
        self._lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self.cache = TableCache()
        with translate_errors("opening the catalog"):
            self.migrate()

    def __repr__(self) -> str:
        return f"Catalog({self.engine.url.render_as_string(hide_password=True)!r})"

    @staticmethod
    def _sqlite_setup(engine: Engine, *, synchronous: str) -> None:
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the ingest writer
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the write lock up front so two writers never deadlock on upgrade.
            immediate = conn.get_execution_options().get("lakegate_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    def close(self) -> None:
        self.engine.dispose()
        if self._relaxed_engine is not None:
            self._relaxed_engine.dispose()

    def migrate(self) -> None:
        """Bring the catalog schema to the newest revision (cheap when it already is). Nodes
        starting at once on one catalog migrate one after the other: the first does the work,
        the others find it done."""
        with self.engine.connect() as conn:
            if _revision(conn) == HEAD_REVISION:
                return
        with self._writer.begin() as conn:
            if not self.is_sqlite:  # SQLite: the write lock this transaction holds serializes them
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("migrate")})
            if _revision(conn) == HEAD_REVISION:
                return
            from alembic import command
            from alembic.config import Config

            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def _write(self, what: str, *, durable: bool = True) -> Iterator[Connection]:
        writer = self._writer if durable else self._relaxed_writer
        with translate_errors(what), self._lock, writer.begin() as conn:
            if not durable and not self.is_sqlite:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with translate_errors(what), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def exclusively(self, what: str, lock: str) -> Iterator[Connection]:
        """A write transaction holding the catalog-wide lock ``lock`` to its end, whichever node
        asks: on PostgreSQL an advisory lock, on SQLite the write lock every write takes."""
        with self._write(what) as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)})
            yield conn

    def writing(self, what: str, *, durable: bool = True) -> contextlib.AbstractContextManager[Connection]:
        """A write transaction for other parts of lakegate that keep tables here (principals).
        Not ``durable``: its commit does not wait for the disk (a power cut may lose it, a crash
        of lakegate does not) — for records that cost no data (the query history)."""
        return self._write(what, durable=durable)

    def reading(self, what: str) -> contextlib.AbstractContextManager[Connection]:
        return self._read(what)
