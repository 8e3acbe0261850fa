"""The catalog on a SQL database: SQLite (default, WAL) or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from lakegate.catalog import records as r
from lakegate.catalog.cache import Entry, Stamp, TableCache
from lakegate.catalog.model import (
    archived_files,
    columns,
    databases,
    descriptions,
    files,
    metadata,
    objects,
    partitions,
    table_versions,
    tables,
)
from lakegate.catalog.records import (
    ARCHIVED,
    ARCHIVING,
    PURGED_FILE,
    ArchivedFile,
    FileRecord,
    ObjectRecord,
    PartitionInfo,
    Registration,
    TableInfo,
    TableVersion,
)
from lakegate.errors import CatalogError, Rejection
from lakegate.keys import archive_key, with_suffix
from lakegate.schema import Column, admit

logger = logging.getLogger(__name__)

HEAD_REVISION = "0007"
MIGRATIONS = Path(__file__).parent / "migrations"


def engine_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _fingerprint(cols: list[Column]) -> str:
    text = json.dumps([[c.name, c.type] for c in cols])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


# The ledger's hot statements, built once: building a statement costs more CPU than running it.
_ACTIVE_FOR = sa.select(objects).where(
    objects.c.source_key == sa.bindparam("key"), objects.c.active.is_(True)
)
_LAND = objects.insert().returning(*objects.c)
_MOVE = (
    objects.update()
    .where(objects.c.id == sa.bindparam("where_id"), objects.c.state == sa.bindparam("where_state"))
    .returning(*objects.c)
)
# A lake key is taken while a file is registered there, or still there on its way to the archive.
_FILE_SHA = sa.union_all(
    sa.select(files.c.sha256).where(files.c.key == sa.bindparam("key")),
    sa.select(archived_files.c.sha256).where(
        archived_files.c.lake_key == sa.bindparam("key"), archived_files.c.state == ARCHIVING
    ),
).limit(1)
_DUPLICATE = (
    sa.select(files.c.key)
    .join(tables, tables.c.id == files.c.table_id)
    .join(databases, databases.c.id == tables.c.database_id)
    .where(
        databases.c.name == sa.bindparam("database"),
        tables.c.name == sa.bindparam("table"),
        files.c.sha256 == sa.bindparam("sha256"),
    )
)


_STAMP = (
    sa.select(tables.c.id, tables.c.created_at, tables.c.generation, tables.c.removed_in)
    .join(databases, databases.c.id == tables.c.database_id)
    .where(databases.c.name == sa.bindparam("database"), tables.c.name == sa.bindparam("name"))
)


# A file's derived copy queries read: one the engine needs, or an acceleration copy (acceleration.py)
_USED = ("current", "accelerated")
# A table's files as queries read them; JSON as text, so that what files share is decoded once
_FILES = sa.select(
    files.c.id, files.c.key, files.c.size, files.c.sha256, files.c.row_count, files.c.format,
    sa.cast(files.c.options, sa.Text).label("options"), sa.cast(files.c.columns, sa.Text).label("columns"),
    files.c.derived_key, files.c.derived_state, sa.cast(files.c.stats, sa.Text).label("stats"),
    sa.cast(partitions.c["values"], sa.Text).label("pvalues"),
).join(partitions, partitions.c.id == files.c.partition_id)  # fmt: skip


def _file_records(rows: Sequence[Any]) -> dict[int, FileRecord]:
    """``_FILES`` rows as records by id. Options and columns, mostly the same from file to file,
    are decoded once and shared (never change a record's)."""
    shared: dict[str, Any] = {}

    def decoded(text: str, make: Any = None) -> Any:
        value = shared.get(text)
        if value is None:
            value = shared[text] = json.loads(text) if make is None else make(json.loads(text))
        return value

    def columns_of(raw: list[dict[str, Any]]) -> list[Column]:
        return [Column.from_dict(c) for c in raw]

    return {
        f.id: FileRecord(
            f.key, f.size, f.sha256, f.row_count, f.format, decoded(f.options),
            decoded(f.columns, columns_of), json.loads(f.pvalues),
            f.derived_key if f.derived_state in _USED else None,
            (json.loads(f.stats) if f.stats else None) or {},
        )
        for f in rows
    }  # fmt: skip


def touch(conn: Connection, table_id: int, *, removed: bool = False) -> int:
    """Record, in the transaction that changes it, that what queries read from a table changes
    (``removed``: files are taken out): cached copies are stale. Its new generation, which the
    files this transaction adds or changes must carry as ``changed_in``."""
    after = tables.c.generation + 1
    values = {"generation": after, "removed_in": after} if removed else {"generation": after}
    update = tables.update().where(tables.c.id == table_id).values(**values).returning(tables.c.generation)
    return int(conn.execute(update).scalar_one())


class Catalog:
    """Databases, tables, partitions, files, schema versions and the object ledger."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = sa.create_engine(engine_url(url), **kwargs)
        if self.is_sqlite:
            self._sqlite_setup(self.engine)
        self._writer = self.engine.execution_options(lakegate_write=True)
        self._lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self.cache = TableCache()
        with translate_errors("opening the catalog"):
            self.migrate()

    def __repr__(self) -> str:
        return f"Catalog({self.engine.url.render_as_string(hide_password=True)!r})"

    @staticmethod
    def _sqlite_setup(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the ingest writer
            cur.execute("PRAGMA synchronous=FULL")  # a commit survives power loss before landing is cleared
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

    # -- migrations -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the catalog schema to the newest revision (cheap when it already is)."""
        with self._writer.begin() as conn:
            current = None
            if sa.inspect(conn).has_table("alembic_version"):
                current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            if current == HEAD_REVISION:
                return
            from alembic import command
            from alembic.config import Config

            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- transactions -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with translate_errors(what), self._lock, self._writer.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with translate_errors(what), self.engine.connect() as conn:
            yield conn

    def writing(self, what: str) -> contextlib.AbstractContextManager[Connection]:
        """A write transaction for other parts of lakegate that keep tables here (principals)."""
        return self._write(what)

    def reading(self, what: str) -> contextlib.AbstractContextManager[Connection]:
        return self._read(what)

    # -- the object ledger ------------------------------------------------------------------

    def land(self, key: str, size: int, mtime_ns: int) -> ObjectRecord:
        """The active ledger row for a landing object, created in state ``landed`` if new."""
        now = time.time()
        with self._write("recording a landed object") as conn:
            row = conn.execute(_ACTIVE_FOR, {"key": key}).first()
            if row is not None:
                if row.state == r.LANDED and (row.size, row.mtime_ns) != (size, mtime_ns):
                    changed = {"size": size, "mtime_ns": mtime_ns, "updated_at": now}
                    row = conn.execute(_MOVE, {"where_id": row.id, "where_state": r.LANDED, **changed}).one()
                return _object(row)
            values = {
                "source_key": key,
                "size": size,
                "mtime_ns": mtime_ns,
                "state": r.LANDED,
                "active": True,
            }
            row = conn.execute(_LAND, {**values, "attempts": 0, "created_at": now, "updated_at": now}).one()
            return _object(row)

    def active_for(self, key: str) -> ObjectRecord | None:
        """The unfinished ledger row for landing key ``key``, if any."""
        with self._read("reading the ledger") as conn:
            row = conn.execute(_ACTIVE_FOR, {"key": key}).first()
        return None if row is None else _object(row)

    def transition(self, obj: ObjectRecord, state: str, **fields: Any) -> ObjectRecord:
        """Move ``obj`` from its current state to ``state``, with ``fields``, in one commit.

        Raises:
            CatalogError: ``catalog.state_conflict`` if someone else moved it first.
        """
        with self._write(f"moving {obj.source_key} to {state}") as conn:
            return self._transition(conn, obj, state, **fields)

    def _transition(self, conn: Connection, obj: ObjectRecord, state: str, **fields: Any) -> ObjectRecord:
        values: dict[str, Any] = {"state": state, "updated_at": time.time(), **fields}
        if state in r.TERMINAL:
            values["active"] = False
        row = conn.execute(_MOVE, {"where_id": obj.id, "where_state": obj.state, **values}).first()
        if row is None:
            raise CatalogError(
                f"ledger row {obj.id} for {obj.source_key} is no longer in state {obj.state}",
                code="catalog.state_conflict",
            )
        return _object(row)

    def begin_replay(self, obj: ObjectRecord) -> ObjectRecord:
        """Mark a quarantined object for replay: ``replaying``, and active again, in one commit.

        Raises:
            CatalogError: ``quarantine.busy`` while another delivery of the same key is in progress;
                ``catalog.state_conflict`` if it is no longer quarantined.
        """
        with self._write(f"replaying {obj.source_key}") as conn:
            other = conn.execute(_ACTIVE_FOR, {"key": obj.source_key}).first()
            if other is not None:
                raise CatalogError(
                    f"{obj.source_key} is being taken right now (ledger row {other.id})",
                    code="quarantine.busy",
                    hint="replay it once that delivery is done",
                )
            return self._transition(conn, obj, r.REPLAYING, active=True)

    def bump_attempts(self, obj: ObjectRecord, reason: str) -> None:
        with self._write("counting a retry") as conn:
            conn.execute(
                objects.update()
                .where(objects.c.id == obj.id)
                .values(attempts=objects.c.attempts + 1, reason=reason, updated_at=time.time())
            )

    def get_object(self, object_id: int) -> ObjectRecord | None:
        with self._read("reading the ledger") as conn:
            row = conn.execute(sa.select(objects).where(objects.c.id == object_id)).first()
        return None if row is None else _object(row)

    def active_objects(self) -> list[ObjectRecord]:
        with self._read("reading the ledger") as conn:
            rows = conn.execute(
                sa.select(objects).where(objects.c.active.is_(True)).order_by(objects.c.id)
            ).all()
        return [_object(row) for row in rows]

    def objects_in(self, states: tuple[str, ...], limit: int = 1000) -> list[ObjectRecord]:
        with self._read("reading the ledger") as conn:
            rows = conn.execute(
                sa.select(objects)
                .where(objects.c.state.in_(states))
                .order_by(objects.c.id.desc())
                .limit(limit)
            ).all()
        return [_object(row) for row in rows]

    # -- registering files ------------------------------------------------------------------

    def register(self, obj: ObjectRecord) -> tuple[ObjectRecord, Registration]:
        """Register ``obj``'s file, its partition and any schema change, and mark it cataloged.

        All in one transaction: data is queryable exactly when this commits. Identical content
        already in the table moves the object to ``duplicate`` instead.
        """
        assert obj.plan is not None and obj.database and obj.table and obj.target_key and obj.sha256
        plan = obj.plan
        file_cols = [Column.from_dict(c) for c in plan["columns"]]
        part_values: dict[str, str] = plan.get("partition", {})
        now = time.time()
        with self._write(f"registering {obj.target_key}") as conn:
            table_id = self._table_row(conn, obj.database, obj.table, plan["location"], now)
            dup = conn.execute(
                sa.select(files.c.key).where(files.c.table_id == table_id, files.c.sha256 == obj.sha256)
            ).scalar()
            if dup is not None:
                version = conn.execute(
                    sa.select(tables.c.schema_version).where(tables.c.id == table_id)
                ).scalar()
                done = self._transition(conn, obj, r.DUPLICATE, reason_details={"duplicate_of": dup})
                return done, Registration(
                    obj.qualified_table, obj.partition_path or "", 0, int(version or 0), None, dup
                )
            delivered_as = plan.get("delivered_as") or obj.target_key
            earlier = conn.execute(
                sa.select(files).where(files.c.table_id == table_id, files.c.delivered_as == delivered_as)
            ).all()
            policy = plan.get("duplicates", "keep_both")
            if earlier and policy == "reject":
                raise Rejection(
                    f"the table already has a file delivered as {delivered_as.rsplit('/', 1)[-1]!r}, "
                    "with other content, and the dataset's duplicate policy is reject",
                    code="reject.duplicate_name",
                    hint="deliver new content under a new name, or set duplicates: keep_both or replace",
                    details={"existing": [f.key for f in earlier]},
                )
            policy_evolve = plan.get("schema_evolution", "evolve")
            version, diff = self._evolve(
                conn, table_id, file_cols, part_values, policy=policy_evolve, cause=obj.target_key, now=now
            )
            path = obj.partition_path or ""
            part_id = self._partition_id(conn, table_id, path, part_values, now)
            generation = touch(conn, table_id, removed=bool(earlier and policy == "replace"))
            if earlier and policy == "replace":
                reason = f"replaced by {obj.target_key} (delivered as {obj.source_key})"
                self._archive(
                    conn, earlier, database=obj.database, table=obj.table, cause="replaced", reason=reason,
                    object_id=obj.id, now=now,
                )  # fmt: skip
            conn.execute(
                files.insert().values(
                    table_id=table_id,
                    partition_id=part_id,
                    key=obj.target_key,
                    delivered_as=delivered_as,
                    size=plan["size"],
                    sha256=obj.sha256,
                    row_count=plan["rows"],
                    schema_fingerprint=_fingerprint(file_cols),
                    format=plan["format"],
                    options=plan["options"],
                    columns=[c.as_dict() for c in file_cols],
                    stats=plan.get("stats"),
                    derived_key=(plan.get("derived") or {}).get("key"),
                    derived_state="current" if plan.get("derived") else None,
                    created_at=now,
                    changed_in=generation,
                )
            )
            if earlier and policy == "replace":
                self._drop_empty_partitions(conn, {f.partition_id for f in earlier})
            changed: dict[str, Any] = {}
            if diff is not None and version > 1:  # said wherever the delivery is reported
                types = {c.name: c.type for c in file_cols}
                change = {"version": version, "diff": diff, "types": types}
                changed["plan"] = {**plan, "schema_change": change}
            done = self._transition(conn, obj, r.CATALOGED, **changed)
            return done, Registration(obj.qualified_table, path, plan["rows"], version, diff)

    def _table_row(self, conn: Connection, database: str, table: str, location: str, now: float) -> int:
        """The id of ``database.table``, created (schema version 0, no columns) when new."""
        db_id = conn.execute(sa.select(databases.c.id).where(databases.c.name == database)).scalar()
        if db_id is None:
            db_id = conn.execute(
                databases.insert().values(name=database, created_at=now).returning(databases.c.id)
            ).scalar_one()
        table_id = conn.execute(
            sa.select(tables.c.id).where(tables.c.database_id == db_id, tables.c.name == table)
        ).scalar()
        if table_id is None:
            table_id = conn.execute(
                tables.insert()
                .values(
                    database_id=db_id,
                    name=table,
                    location=location,
                    schema_version=0,
                    partition_keys=[],
                    created_at=now,
                    updated_at=now,
                )
                .returning(tables.c.id)
            ).scalar_one()
        return int(table_id)

    def _evolve(
        self,
        conn: Connection,
        table_id: int,
        file_cols: list[Column],
        part_values: dict[str, str],
        *,
        policy: str,
        cause: str,
        now: float,
    ) -> tuple[int, dict[str, Any] | None]:
        """Admit a file's columns and partition keys to the table (a new version when anything
        changes); the table's schema version and the change's diff (``None``: no change).

        Raises:
            Rejection: the table's evolution ``policy`` refuses the file's schema.
        """
        trow = conn.execute(sa.select(tables).where(tables.c.id == table_id)).one()
        version, part_keys = trow.schema_version, list(trow.partition_keys)
        change = admit(self._columns(conn, table_id), file_cols, version + 1, policy)
        new_keys = [k for k in part_values if k not in part_keys]
        if not (change.changed or new_keys or version == 0):
            return version, None
        version += 1
        part_keys += new_keys
        diff = {**change.diff(), "partition_keys_added": new_keys}
        self._set_columns(conn, table_id, change.columns)
        conn.execute(
            tables.update()
            .where(tables.c.id == table_id)
            .values(schema_version=version, partition_keys=part_keys, updated_at=now)
        )
        conn.execute(
            table_versions.insert().values(
                table_id=table_id,
                version=version,
                columns=[c.as_dict() for c in change.columns],
                partition_keys=part_keys,
                diff=diff,
                cause=cause,
                created_at=now,
            )
        )
        return version, diff

    @staticmethod
    def _set_columns(conn: Connection, table_id: int, cols: list[Column]) -> None:
        conn.execute(columns.delete().where(columns.c.table_id == table_id))
        if cols:
            conn.execute(
                columns.insert(),
                [
                    {
                        "table_id": table_id,
                        "position": i,
                        "name": c.name,
                        "original_name": c.original,
                        "type": c.type,
                        "added_in": c.added_in,
                    }
                    for i, c in enumerate(cols)
                ],
            )

    def abandon(self, obj: ObjectRecord, reason: str) -> ObjectRecord:
        """Take back an attempt whose landing file changed after it was read, in one commit:
        its file leaves its table if it was registered (with the schema version it made, while
        that is still the newest), and the object moves to ``abandoning``.

        A file it replaced (duplicate policy ``replace``) stays in the archive: the file, taken
        again, replaces it anyway.
        """
        with self._write(f"abandoning {obj.source_key}") as conn:
            if obj.state == r.CATALOGED and obj.target_key:
                row = conn.execute(
                    sa.select(files).where(files.c.key == obj.target_key, files.c.sha256 == obj.sha256)
                ).first()
                if row is not None:
                    conn.execute(files.delete().where(files.c.id == row.id))
                    self._drop_empty_partitions(conn, {row.partition_id})
                    self._undo_version(conn, row.table_id, cause=obj.target_key)
                    touch(conn, row.table_id, removed=True)
            return self._transition(
                conn, obj, r.ABANDONING, reason_code="ingest.changed_while_taken", reason=reason
            )

    def _undo_version(self, conn: Connection, table_id: int, *, cause: str) -> None:
        """Drop the table's newest schema version if ``cause`` made it, back to the one before."""
        newest, before = [
            *conn.execute(
                sa.select(table_versions)
                .where(table_versions.c.table_id == table_id)
                .order_by(table_versions.c.version.desc())
                .limit(2)
            ).all(),
            None,
            None,
        ][:2]
        if newest is None or before is None or newest.cause != cause:
            return
        conn.execute(
            table_versions.delete().where(
                table_versions.c.table_id == table_id, table_versions.c.version == newest.version
            )
        )
        self._set_columns(conn, table_id, [Column.from_dict(c) for c in before.columns])
        conn.execute(
            tables.update()
            .where(tables.c.id == table_id)
            .values(
                schema_version=before.version, partition_keys=before.partition_keys, updated_at=time.time()
            )
        )

    @staticmethod
    def _partition_id(conn: Connection, table_id: int, path: str, values: dict[str, str], now: float) -> int:
        part_id = conn.execute(
            sa.select(partitions.c.id).where(partitions.c.table_id == table_id, partitions.c.path == path)
        ).scalar()
        if part_id is None:
            part_id = conn.execute(
                partitions.insert()
                .values(table_id=table_id, path=path, values=values, created_at=now)
                .returning(partitions.c.id)
            ).scalar_one()
        return int(part_id)

    # -- descriptions ------------------------------------------------------------------------

    def describe_table(self, database: str, table: str, text: str, *, column: str = "", by: str) -> None:
        """Set (or with ``text`` empty, remove) the description of a table or one of its columns.

        Raises:
            CatalogError: ``catalog.unknown_table`` or ``catalog.unknown_column``.
        """
        with self._write(f"describing {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                raise CatalogError(
                    f"no table {database}.{table}",
                    code="catalog.unknown_table",
                    hint="`lakegate ls` lists them",
                )
            if column and column not in {c.name for c in self._columns(conn, table_id)}:
                raise CatalogError(
                    f"{database}.{table} has no column {column!r}",
                    code="catalog.unknown_column",
                    hint=f"`lakegate describe {database}.{table}` lists its columns",
                )
            key = (descriptions.c.table_id == table_id) & (descriptions.c.column == column)
            conn.execute(descriptions.delete().where(key))
            if text.strip():
                conn.execute(
                    descriptions.insert().values(
                        table_id=table_id, column=column, text=text.strip(), set_by=by, set_at=time.time()
                    )
                )

    def descriptions_stamp(self) -> tuple[int, float]:
        """How many descriptions there are and when the last was set: changes with any of them."""
        with self._read("reading when descriptions changed") as conn:
            count, last = conn.execute(sa.select(sa.func.count(), sa.func.max(descriptions.c.set_at))).one()
        return int(count), float(last or 0.0)

    def descriptions(self, database: str, table: str) -> dict[str, str]:
        """A table's descriptions: ``""`` for the table itself, else by column name."""
        with self._read(f"reading descriptions of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return {}
            rows = conn.execute(
                sa.select(descriptions.c.column, descriptions.c.text).where(
                    descriptions.c.table_id == table_id
                )
            ).all()
        return {str(c): str(t) for c, t in rows}

    # -- files registered in place (`lakegate crawl`) ----------------------------------------

    def crawled_versions(self, database: str, table: str) -> dict[str, str]:
        """The files of a table registered in place: their URL and version."""
        with self._read(f"reading {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return {}
            found = conn.execute(
                sa.select(files.c.key, files.c.sha256).where(
                    files.c.table_id == table_id, files.c.key.contains("://")
                )
            ).all()
            return {str(k): str(v) for k, v in found}

    def register_crawled(
        self, database: str, table: str, location: str, entries: list[dict[str, Any]]
    ) -> None:
        """Register files in place, in one transaction, replacing earlier versions of them.

        Each entry: ``url``, ``size``, ``version``, ``plan`` (a ``FilePlan``), ``partition``,
        ``partition_path``, ``derived`` (a derived copy's key, or ``""``). A file whose schema
        the table cannot take (never: a crawl takes what is there, ``loose``) is left out and
        its error raised.
        """
        now = time.time()
        with self._write(f"registering {len(entries)} files in {database}.{table}") as conn:
            table_id = self._table_row(conn, database, table, location, now)
            urls = [e["url"] for e in entries]
            replaced = set(
                conn.execute(
                    sa.select(files.c.partition_id).where(files.c.table_id == table_id, files.c.key.in_(urls))
                ).scalars()
            )
            gone = conn.execute(files.delete().where(files.c.table_id == table_id, files.c.key.in_(urls)))
            generation = touch(conn, table_id, removed=gone.rowcount > 0)
            rows = []
            admitted: set[tuple[Any, ...]] = set()  # schemas the table already took in this batch
            part_ids: dict[str, int] = {}
            for e in entries:
                plan = e["plan"]
                shape = (tuple((c.name, c.type) for c in plan.columns), tuple(e["partition"]))
                if shape not in admitted:
                    self._evolve(
                        conn, table_id, plan.columns, e["partition"], policy="loose", cause=e["url"], now=now
                    )
                    admitted.add(shape)
                path = e["partition_path"]
                if path not in part_ids:
                    part_ids[path] = self._partition_id(conn, table_id, path, e["partition"], now)
                part_id = part_ids[path]
                rows.append(
                    {
                        "table_id": table_id,
                        "partition_id": part_id,
                        "key": e["url"],
                        "delivered_as": e["url"],
                        "size": e["size"],
                        "sha256": e["version"],
                        "row_count": plan.rows,
                        "schema_fingerprint": _fingerprint(plan.columns),
                        "format": plan.format,
                        "options": plan.options,
                        "columns": [c.as_dict() for c in plan.columns],
                        "stats": plan.stats,
                        "derived_key": e["derived"] or None,
                        "derived_state": "current" if e["derived"] else None,
                        "created_at": now,
                        "changed_in": generation,
                    }
                )
            conn.execute(files.insert(), rows)
            self._drop_empty_partitions(conn, replaced)

    def unregister_crawled(self, database: str, table: str, urls: list[str]) -> list[str]:
        """Take files registered in place out of their table (their owner deleted them); the keys
        of their derived copies, which can go too."""
        with self._write(f"unregistering {len(urls)} files of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return []
            gone = conn.execute(
                sa.select(files.c.partition_id, files.c.derived_key).where(
                    files.c.table_id == table_id, files.c.key.in_(urls)
                )
            ).all()
            conn.execute(files.delete().where(files.c.table_id == table_id, files.c.key.in_(urls)))
            self._drop_empty_partitions(conn, {g.partition_id for g in gone})
            touch(conn, table_id, removed=True)
            return [g.derived_key for g in gone if g.derived_key]

    # -- the archive --------------------------------------------------------------------------

    def _archive(
        self,
        conn: Connection,
        rows: Sequence[Any],
        *,
        database: str,
        table: str,
        cause: str,
        reason: str,
        object_id: int | None,
        now: float,
    ) -> None:
        """Take ``rows`` of ``files`` out of their table and record them as being archived."""
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        part_ids = {row.partition_id for row in rows}
        paths = dict(
            conn.execute(
                sa.select(partitions.c.id, partitions.c.path).where(partitions.c.id.in_(part_ids))
            ).all()
        )
        for row in rows:
            if "://" in row.key:  # registered in place by a crawl: its owner's, never moved
                conn.execute(files.delete().where(files.c.id == row.id))
                continue
            key = base = archive_key(row.key, day)
            taken = sa.select(archived_files.c.id).where(archived_files.c.archive_key == sa.bindparam("key"))
            n = 0
            while conn.execute(taken, {"key": key}).first():
                n += 1  # the same name archived before today: a name of its own
                key = with_suffix(base, f"{row.sha256[:6]}{n:06d}")
            conn.execute(files.delete().where(files.c.id == row.id))
            conn.execute(
                archived_files.insert().values(
                    lake_key=row.key,
                    archive_key=key,
                    database=database,
                    table=table,
                    partition_path=paths.get(row.partition_id, ""),
                    size=row.size,
                    sha256=row.sha256,
                    row_count=row.row_count,
                    cause=cause,
                    reason=reason,
                    object_id=object_id,
                    state=ARCHIVING,
                    archived_at=now,
                )
            )

    @staticmethod
    def _drop_empty_partitions(conn: Connection, part_ids: set[int]) -> None:
        holding = sa.select(files.c.partition_id).where(files.c.partition_id.in_(part_ids)).distinct()
        empty = part_ids - set(conn.execute(holding).scalars())
        if empty:
            conn.execute(partitions.delete().where(partitions.c.id.in_(empty)))

    def archive_partitions(self, database: str, table: str, paths: list[str], reason: str) -> int:
        """Take every file of the partitions ``paths`` out of the table into the archive (retention)."""
        with self._write(f"archiving partitions of {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return 0
            part_ids = (
                conn.execute(
                    sa.select(partitions.c.id).where(
                        partitions.c.table_id == table_id, partitions.c.path.in_(paths)
                    )
                )
                .scalars()
                .all()
            )
            rows = conn.execute(sa.select(files).where(files.c.partition_id.in_(part_ids))).all()
            self._archive(
                conn, rows, database=database, table=table, cause="retention", reason=reason, object_id=None,
                now=time.time(),
            )  # fmt: skip
            conn.execute(partitions.delete().where(partitions.c.id.in_(part_ids)))
            touch(conn, table_id, removed=True)
            return len(rows)

    def drop_table(self, database: str, table: str, reason: str) -> int | None:
        """Remove a table from the catalog, its files into the archive; ``None`` if there is no such table."""
        with self._write(f"dropping {database}.{table}") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return None
            rows = conn.execute(sa.select(files).where(files.c.table_id == table_id)).all()
            self._archive(
                conn, rows, database=database, table=table, cause="dropped", reason=reason, object_id=None,
                now=time.time(),
            )  # fmt: skip
            for child in (partitions, columns, table_versions, descriptions):
                conn.execute(child.delete().where(child.c.table_id == table_id))
            conn.execute(tables.delete().where(tables.c.id == table_id))
            return len(rows)

    @staticmethod
    def _table_id(conn: Connection, database: str, table: str) -> int | None:
        return conn.execute(
            sa.select(tables.c.id)
            .join(databases, databases.c.id == tables.c.database_id)
            .where(databases.c.name == database, tables.c.name == table)
        ).scalar()

    def stale_partitions(self, database: str, table: str, older_than: float) -> list[str]:
        """Partitions of a table whose newest file was registered before ``older_than`` (epoch s)."""
        with self._read("looking for expired partitions") as conn:
            newest = sa.func.max(files.c.created_at)
            rows = conn.execute(
                sa.select(partitions.c.path)
                .join(files, files.c.partition_id == partitions.c.id)
                .join(tables, tables.c.id == partitions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == table)
                .group_by(partitions.c.path)
                .having(newest < older_than)
            ).scalars()
            return sorted(rows)

    def archived(
        self, states: tuple[str, ...] = (ARCHIVING, ARCHIVED), limit: int = 1000
    ) -> list[ArchivedFile]:
        with self._read("listing the archive") as conn:
            rows = conn.execute(
                sa.select(archived_files)
                .where(archived_files.c.state.in_(states))
                .order_by(archived_files.c.id)
                .limit(limit)
            ).all()
            return [ArchivedFile(**row._asdict()) for row in rows]

    def set_archive_state(self, archived_id: int, state: str) -> None:
        with self._write("recording an archived file") as conn:
            values: dict[str, Any] = {"state": state}
            if state == PURGED_FILE:
                values["purged_at"] = time.time()
            conn.execute(archived_files.update().where(archived_files.c.id == archived_id).values(**values))

    def file_sha(self, key: str) -> str | None:
        """The content hash of the lake file at ``key``: registered, or still there while it moves
        to the archive; ``None`` when the key is free."""
        with self._read("looking up a file") as conn:
            return conn.execute(_FILE_SHA, {"key": key}).scalar()

    def delivered_as(self, database: str, table: str, key: str) -> list[str]:
        """Keys of the table's files whose deliveries asked for the lake key ``key``."""
        with self._read("looking up a file") as conn:
            table_id = self._table_id(conn, database, table)
            if table_id is None:
                return []
            query = sa.select(files.c.key).where(files.c.table_id == table_id, files.c.delivered_as == key)
            return list(conn.execute(query).scalars())

    def duplicate_in_table(self, database: str, table: str, sha256: str) -> str | None:
        with self._read("looking for duplicates") as conn:
            return conn.execute(_DUPLICATE, {"database": database, "table": table, "sha256": sha256}).scalar()

    # -- reading the catalog ----------------------------------------------------------------

    @staticmethod
    def _columns(conn: Connection, table_id: int) -> list[Column]:
        rows = conn.execute(
            sa.select(columns).where(columns.c.table_id == table_id).order_by(columns.c.position)
        ).all()
        return [Column(row.name, row.original_name, row.type, row.added_in) for row in rows]

    def databases(self) -> list[str]:
        with self._read("listing databases") as conn:
            return list(conn.execute(sa.select(databases.c.name).order_by(databases.c.name)).scalars())

    def tables(self, database: str | None = None) -> list[TableInfo]:
        """Tables with their columns and statistics (no file lists)."""
        stats = (
            sa.select(
                files.c.table_id,
                sa.func.count().label("n"),
                sa.func.sum(files.c.row_count).label("rows"),
                sa.func.sum(files.c.size).label("bytes"),
            )
            .group_by(files.c.table_id)
            .subquery()
        )
        query = (
            sa.select(tables, databases.c.name.label("db"), stats.c.n, stats.c.rows, stats.c.bytes)
            .join(databases, databases.c.id == tables.c.database_id)
            .outerjoin(stats, stats.c.table_id == tables.c.id)
            .order_by(databases.c.name, tables.c.name)
        )
        if database is not None:
            query = query.where(databases.c.name == database)
        with self._read("listing tables") as conn:
            out = []
            for row in conn.execute(query).all():
                info = _table(row, self._columns(conn, row.id))
                info.file_count, info.row_count, info.total_bytes = row.n or 0, row.rows or 0, row.bytes or 0
                out.append(info)
            return out

    def schema(self, database: str, name: str) -> tuple[list[Column], int] | None:
        """A table's columns and schema version, without its files; ``None`` if there is no such table."""
        with self._read(f"reading the schema of {database}.{name}") as conn:
            row = conn.execute(
                sa.select(tables.c.id, tables.c.schema_version)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == name)
            ).first()
            return None if row is None else (self._columns(conn, row.id), row.schema_version)

    def table(self, database: str, name: str) -> TableInfo | None:
        """One table with its columns and every registered file (what a query reads). Kept in
        memory while it is unchanged (``catalog/cache.py``): share it, never change it."""
        with self._read(f"reading {database}.{name}") as conn:
            # the stamp first: data read after it is at least as new, never older
            found = conn.execute(_STAMP, {"database": database, "name": name}).first()
            stamp: Stamp | None = None if found is None else (found.id, found.created_at, found.generation)
            cached = self.cache.get(database, name, stamp)
            if cached is not None or stamp is None:
                return cached
            row = conn.execute(
                sa.select(tables, databases.c.name.label("db"))
                .join(databases, databases.c.id == tables.c.database_id)
                .where(tables.c.id == stamp[0])
            ).one()
            info = _table(row, self._columns(conn, row.id))
            previous = self.cache.previous(database, name)
            assert found is not None
            if previous is not None and (
                previous.stamp[:2] != stamp[:2] or found.removed_in > previous.stamp[2]
            ):
                previous = None  # another table now, or files were taken out: read it whole
            ids, info.files = self._table_files(conn, row.id, previous)
        info.file_count = len(info.files)
        if previous is None:
            info.row_count = sum(f.row_count for f in info.files)
            info.total_bytes = sum(f.size for f in info.files)
        else:  # the files it had are the same files (a copy may be new): count the new ones
            added = info.files[previous.table.file_count :]
            info.row_count = previous.table.row_count + sum(f.row_count for f in added)
            info.total_bytes = previous.table.total_bytes + sum(f.size for f in added)
        self.cache.put(Entry(stamp, info, ids))
        return info

    @staticmethod
    def _table_files(
        conn: Connection, table_id: int, previous: Entry | None
    ) -> tuple[list[int], list[FileRecord]]:
        """The table's files, in order, with their catalog ids. Given an earlier read of it from
        which no file was taken out (``previous``), only the files added or changed since are
        read, by the generation that changed them."""
        query = _FILES.where(files.c.table_id == table_id)
        if previous is None:
            fetched = _file_records(conn.execute(query.order_by(files.c.id)).all())
            return list(fetched), list(fetched.values())
        since = query.where(files.c.changed_in > previous.stamp[2]).order_by(files.c.id)
        changed = _file_records(conn.execute(since).all())
        ids, out = list(previous.ids), list(previous.table.files)
        for file_id, f in changed.items():
            at = bisect.bisect_left(ids, file_id)  # ids ascend; new files have the highest
            if at < len(ids) and ids[at] == file_id:
                out[at] = f  # its derived copy changed
            else:
                ids.append(file_id)
                out.append(f)
        return ids, out

    def versions(self, database: str, name: str) -> list[TableVersion]:
        with self._read(f"reading versions of {database}.{name}") as conn:
            rows = conn.execute(
                sa.select(table_versions)
                .join(tables, tables.c.id == table_versions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .where(databases.c.name == database, tables.c.name == name)
                .order_by(table_versions.c.version)
            ).all()
        return [
            TableVersion(
                row.version,
                [Column.from_dict(c) for c in row.columns],
                list(row.partition_keys),
                row.diff,
                row.cause,
                row.created_at,
            )
            for row in rows
        ]

    def partitions(self, database: str, name: str) -> list[PartitionInfo]:
        stats = (
            sa.select(
                files.c.partition_id,
                sa.func.count().label("n"),
                sa.func.sum(files.c.row_count).label("rows"),
                sa.func.sum(files.c.size).label("bytes"),
            )
            .group_by(files.c.partition_id)
            .subquery()
        )
        with self._read(f"listing partitions of {database}.{name}") as conn:
            rows = conn.execute(
                sa.select(partitions.c.path, partitions.c["values"], stats.c.n, stats.c.rows, stats.c.bytes)
                .join(tables, tables.c.id == partitions.c.table_id)
                .join(databases, databases.c.id == tables.c.database_id)
                .outerjoin(stats, stats.c.partition_id == partitions.c.id)
                .where(databases.c.name == database, tables.c.name == name)
                .order_by(partitions.c.path)
            ).all()
        return [PartitionInfo(row.path, row[1], row.n or 0, row.rows or 0, row.bytes or 0) for row in rows]


def _table(row: Any, cols: list[Column]) -> TableInfo:
    return TableInfo(
        id=row.id,
        database=row.db,
        name=row.name,
        location=row.location,
        schema_version=row.schema_version,
        columns=cols,
        partition_keys=list(row.partition_keys),
    )


def _object(row: Any) -> ObjectRecord:
    return ObjectRecord(
        id=row.id,
        source_key=row.source_key,
        size=row.size,
        mtime_ns=row.mtime_ns,
        state=row.state,
        sha256=row.sha256,
        database=row.database,
        table=row.table,
        partition_path=row.partition_path,
        target_key=row.target_key,
        plan=row.plan,
        reason_code=row.reason_code,
        reason=row.reason,
        reason_details=row.reason_details,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


__all__ = ["HEAD_REVISION", "Catalog", "metadata"]
