"""The extended query protocol of a PostgreSQL session: prepared statements, portals and
cursors, their rows streamed batch by batch, and the statements that set session state."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakegate.auth.principals import Principal
from lakegate.errors import LakegateError, QueryError
from lakegate.pgwire import messages as m
from lakegate.pgwire.statements import SETTINGS, Statement, classify, split
from lakegate.pgwire.types import Column, column, data_rows, decode_param, encode
from lakegate.query.gateway import Gateway, Run
from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, is_catalog_query
from lakegate.query.pg_types import TEXT

DIALECTS = ("duckdb", "athena", "trino")
_CHUNK_ROWS = 16_384  # rows encoded at a time: bounds the encoder's scratch memory


class PgError(LakegateError):
    """A refusal of the front end itself (an unknown setting, statement or portal...)."""


@dataclass
class Prepared:
    sql: str
    statement: Statement
    param_oids: list[int]
    described: tuple[pa.Schema, list[str]] | None = None


@dataclass
class Portal:
    prepared: Prepared
    params: list[Any]
    formats: list[int]  # result format codes as bound (none: text; one: all)
    run: Run | CatalogAnswer | None = None
    pending: list[pa.RecordBatch] = field(default_factory=list)  # rows read but not sent yet
    iterator: Iterator[pa.RecordBatch] | None = None
    sent: int = 0
    done: bool = False
    declared: bool = False  # a DECLARE whose cursor is made (Describe, then Execute, come through here)


def _declared_formats(declared: Statement) -> list[int]:
    """A cursor's result formats when FETCH binds none: binary for ``DECLARE ... BINARY``."""
    return [1] if declared.binary else []


def _wire_columns(schema: pa.Schema, types: list[str], formats: list[int]) -> list[Column]:
    """How each result column travels: its engine type (the Arrow type when unknown), its format."""
    return [
        column(types[i] if i < len(types) else str(f.type), _format(formats, i)) for i, f in enumerate(schema)
    ]


def _format(formats: list[int], i: int) -> int:
    """Column ``i``'s format code as bound: none given, text; one, for all; else its own."""
    if len(formats) == 1:
        return formats[0]
    return formats[i] if i < len(formats) else 0


STATUS_NAMES = {"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}


def text_row(*values: str) -> bytes:
    body = m.int16(len(values)) + b"".join(m.int32(len(v.encode())) + v.encode() for v in values)
    return m.message(b"D", body)


def _next_rows(portal: Portal, want: int, columns: list[Column]) -> tuple[int, bytes] | None:
    """Up to ``want`` rows of the portal's result as DataRow messages (``None``: no more)."""
    batches, count = [], 0
    while count < want:
        if portal.pending:
            batch = portal.pending.pop(0)
        else:
            assert portal.iterator is not None
            batch = next(portal.iterator, None)
            if batch is None:
                break
        if batch.num_rows > want - count:
            portal.pending.insert(0, batch.slice(want - count))
            batch = batch.slice(0, want - count)
        batches.append(batch)
        count += batch.num_rows
    if not batches:
        return None
    table = pa.Table.from_batches(batches)
    encoded = [encode(table.column(i), columns[i]) for i in range(table.num_columns)]
    return count, data_rows(encoded, count)


def reuse_minutes(value: str) -> float | None:
    """``lakegate.reuse_max_age_minutes`` as a number (``None``: not one)."""
    try:
        minutes = float(value)
    except ValueError:
        return None
    return minutes if 0 <= minutes <= 10_080 else None


class Statements:
    """The extended query protocol of a session (Parse, Bind, Describe, Execute, Close), its
    portals and cursors, and the statements that set session state. ``Session`` is the rest."""

    gateway: Gateway
    writer: asyncio.StreamWriter
    principal: Principal | None
    settings: dict[str, str]
    status: bytes  # I idle, T in a transaction block, E in a failed one
    statements: dict[str, Prepared]
    portals: dict[str, Portal]
    cursors: dict[str, tuple[Portal, Statement]]
    running: Run | None
    cancelled: bool
    pg_catalog: PgCatalog | None
    running_print: tuple[Any, ...] | None
    cancel_key: str | None  # what the client's CancelRequest carries, hashed (any node may get it)

    def send(self, *parts: bytes) -> None:
        raise NotImplementedError

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def _parse(self, payload: m.Payload) -> None:
        name, sql = payload.cstring(), payload.cstring()
        oids = [payload.int32() for _ in range(payload.int16())]
        pieces = split(sql)
        if len(pieces) > 1:
            raise PgError(
                "cannot insert multiple commands into a prepared statement", code="guard.multiple_statements"
            )
        if name and name in self.statements:
            raise PgError(f'prepared statement "{name}" already exists', code="pgwire.statement_exists")
        used = max((int(n) for n in re.findall(r"\$(\d+)", pieces[0])), default=0)
        oids += [0] * (used - len(oids))  # parameters the client left untyped: typed by the query
        self.statements[name] = Prepared(pieces[0], classify(pieces[0]), oids)
        self.send(m.PARSE_COMPLETE)

    def _bind(self, payload: m.Payload) -> None:
        portal_name, statement_name = payload.cstring(), payload.cstring()
        prepared = self.statements.get(statement_name)
        if prepared is None:
            raise PgError(
                f'prepared statement "{statement_name}" does not exist', code="pgwire.unknown_statement"
            )
        param_formats = [payload.int16() for _ in range(payload.int16())]
        count = payload.int16()
        raw: list[bytes | None] = []
        for _ in range(count):
            length = payload.int32()
            raw.append(None if length < 0 else payload.take(length))
        result_formats = [payload.int16() for _ in range(payload.int16())]
        oids = prepared.param_oids + [0] * (count - len(prepared.param_oids))
        params = []
        for i, value in enumerate(raw):
            if len(param_formats) > 1 and i >= len(param_formats):
                raise m.ProtocolError("a Bind message gives fewer parameter formats than parameters")
            fmt = param_formats[0] if len(param_formats) == 1 else (param_formats[i] if param_formats else 0)
            try:
                params.append(decode_param(oids[i], fmt, value))
            except (ValueError, UnicodeDecodeError, OverflowError) as exc:
                raise PgError(f"parameter ${i + 1} cannot be read: {exc}", code="pgwire.parameters") from None
        old = self.portals.pop(portal_name, None)
        if old is not None and old.run is not None:
            old.run.finish()
        self.portals[portal_name] = Portal(prepared, params, result_formats)
        self.send(m.BIND_COMPLETE)

    async def _describe(self, payload: m.Payload) -> None:
        what, name = payload.byte(), payload.cstring()
        if what == b"S":
            prepared = self.statements.get(name)
            if prepared is None:
                raise PgError(f'prepared statement "{name}" does not exist', code="pgwire.unknown_statement")
            self.send(m.parameter_description([oid or TEXT.oid for oid in prepared.param_oids]))
            if prepared.statement.kind != "query":
                self.send(
                    m.NO_DATA
                    if prepared.statement.kind != "show"
                    else m.row_description(self._show_columns(prepared.statement))
                )
                return
            if self._in_failed_block():
                raise self._aborted()
            if prepared.described is None:
                prepared.described = await self._call(self._describe_query, prepared)
            schema, types = prepared.described
            self.send(m.row_description(self._columns(schema, types, [])))
            return
        portal = self.portals.get(name)
        if portal is None and name in self.cursors:  # a DECLAREd cursor is a portal too
            cursor, declared = self.cursors[name]
            assert cursor.run is not None
            formats = _declared_formats(declared)
            self.send(m.row_description(self._columns(cursor.run.schema, cursor.run.types, formats)))
            return
        if portal is None:
            raise PgError(f'portal "{name}" does not exist', code="pgwire.unknown_portal")
        columns = await self._open(portal)
        self.send(m.row_description(columns) if columns is not None else m.NO_DATA)

    def _describe_query(self, prepared: Prepared) -> tuple[pa.Schema, list[str]]:
        assert self.principal is not None
        if is_catalog_query(prepared.sql):
            catalog, params = self.pg_catalog, [None] * len(prepared.param_oids)
            assert catalog is not None
            answer = self.gateway.answer_catalog(self.principal, catalog, prepared.sql, params, self.settings)
            return answer.schema, answer.types
        return self.gateway.describe(self.principal, prepared.sql, len(prepared.param_oids),
                                     dialect=self.settings["lakegate.dialect"])  # fmt: skip

    async def _execute_portal(self, payload: m.Payload) -> None:
        name, limit = payload.cstring(), payload.int32()
        portal = self.portals.get(name)
        if portal is None:
            raise PgError(f'portal "{name}" does not exist', code="pgwire.unknown_portal")
        try:
            await self._open(portal)
            await self._stream(portal, limit)
        except LakegateError:
            self._finish(portal)
            raise
        if portal.done and not name:
            self._finish(portal)

    def _close(self, payload: m.Payload) -> None:
        what, name = payload.byte(), payload.cstring()
        if what == b"S":
            self.statements.pop(name, None)
        else:
            portal = self.portals.pop(name, None)
            if portal is not None and portal.run is not None:
                portal.run.finish()
        self.send(m.CLOSE_COMPLETE)

    def _in_failed_block(self) -> bool:
        return self.status == b"E"

    def _aborted(self) -> PgError:
        return PgError("current transaction is aborted, commands ignored until end of transaction block",
                       code="pgwire.aborted", hint="send ROLLBACK")  # fmt: skip

    async def _open(self, portal: Portal) -> list[m.Field] | None:
        """Start the portal's statement if it has not started: its result's columns (``None``:
        a statement without rows)."""
        statement = portal.prepared.statement
        if statement.kind == "query":
            if self._in_failed_block():
                raise self._aborted()
            if portal.run is None and not portal.done:
                assert self.principal is not None
                self.cancelled = False
                portal.run = await self._call(self._start_run, portal)
                portal.iterator = iter(portal.run)
            if portal.run is None:
                return None
            return self._columns(portal.run.schema, portal.run.types, portal.formats)
        if self._in_failed_block() and statement.kind not in ("rollback", "commit", "rollback_to"):
            raise self._aborted()
        if statement.kind == "show":
            return self._show_columns(statement)
        if statement.kind == "declare" and not portal.declared:
            if self.status == b"I" and not statement.hold:
                raise PgError(
                    "DECLARE CURSOR can only be used in transaction blocks",
                    code="pgwire.no_transaction",
                    hint="BEGIN first, or DECLARE ... CURSOR WITH HOLD",
                )
            if statement.name in self.cursors:
                raise PgError(f'cursor "{statement.name}" already exists', code="pgwire.cursor_exists")
            cursor = Portal(Prepared(statement.value, classify(statement.value), []), portal.params, [])
            await self._open(cursor)  # it runs now; FETCH reads it
            self.running = None  # the cursor outlives this statement: only a FETCH in progress is cancelled
            self.cursors[statement.name] = (cursor, statement)
            portal.declared = True
        if statement.kind == "fetch":
            cursor, declared = self._cursor(statement.name)
            assert cursor.run is not None
            formats = portal.formats or _declared_formats(declared)
            return self._columns(cursor.run.schema, cursor.run.types, formats)
        return None

    def _cursor(self, name: str) -> tuple[Portal, Statement]:
        found = self.cursors.get(name)
        if found is None:
            raise PgError(f'cursor "{name}" does not exist', code="pgwire.unknown_portal")
        return found

    def _start_run(self, portal: Portal) -> Run | CatalogAnswer:
        assert self.principal is not None
        if is_catalog_query(portal.prepared.sql):  # metadata: answered here, from what it may read
            assert self.pg_catalog is not None
            catalog, sql, params = self.pg_catalog, portal.prepared.sql, portal.params
            return self.gateway.answer_catalog(self.principal, catalog, sql, params, self.settings)
        minutes = reuse_minutes(self.settings["lakegate.reuse_max_age_minutes"])
        self.running_print = self.gateway.access_print(self.principal)
        run = self.gateway.stream(self.principal, portal.prepared.sql, portal.params or None,
                                  dialect=self.settings["lakegate.dialect"], via="pgwire",
                                  reuse_seconds=minutes * 60 if minutes else None,
                                  cancel_key=self.cancel_key,
                                  engine=self.settings["lakegate.engine"] or None)  # fmt: skip
        self.running = run  # from now on a CancelRequest stops it
        if self.cancelled:
            run.finish(QueryError("canceling statement due to user request", code="query.cancelled"))
        run.schema  # noqa: B018 - waits for the first batch here, off the event loop
        return run

    def _columns(self, schema: pa.Schema, types: list[str], formats: list[int]) -> list[m.Field]:
        return [
            m.Field(f.name, col.pg.oid, col.pg.size, col.modifier, col.format)
            for f, col in zip(schema, _wire_columns(schema, types, formats), strict=True)
        ]

    def _show_columns(self, statement: Statement) -> list[m.Field]:
        return [m.Field(statement.name or "setting", TEXT.oid, -1)]

    async def _stream(self, portal: Portal, limit: int) -> None:
        """Send the portal's rows (at most ``limit`` when positive, then PortalSuspended) and,
        once it is done, its CommandComplete."""
        statement = portal.prepared.statement
        if statement.kind in ("fetch", "move"):
            await self._fetch(portal, statement)
            return
        if statement.kind != "query":
            self.send(*self._session_statement(statement))
            portal.done = True
            return
        run = portal.run
        assert run is not None and portal.iterator is not None
        columns = _wire_columns(run.schema, run.types, portal.formats)
        sent_now = 0
        while True:
            want = _CHUNK_ROWS if limit <= 0 else min(_CHUNK_ROWS, limit - sent_now)
            if want <= 0:
                self.send(m.PORTAL_SUSPENDED)
                return
            chunk = await self._call(_next_rows, portal, want, columns)
            if chunk is None:
                break
            rows, payload = chunk
            self.writer.write(payload)
            sent_now += rows
            portal.sent += rows
            try:
                await self.writer.drain()
            except ConnectionError:
                run.finish(QueryError("the client went away", code="query.cancelled"))
                raise
        portal.done = True
        run.finish()
        self.send(m.command_complete(f"SELECT {portal.sent}"))

    async def _fetch(self, portal: Portal, statement: Statement) -> None:
        """FETCH (or MOVE past) the next rows of a declared cursor."""
        cursor, declared = self._cursor(statement.name)
        run = cursor.run
        assert run is not None
        columns = _wire_columns(run.schema, run.types, portal.formats or _declared_formats(declared))
        wanted = None if statement.value.upper() == "ALL" else int(statement.value)
        moved = 0
        self.running = run if isinstance(run, Run) else None
        while wanted is None or moved < wanted:
            step = _CHUNK_ROWS if wanted is None else min(_CHUNK_ROWS, wanted - moved)
            chunk = await self._call(_next_rows, cursor, step, columns)
            if chunk is None:
                break
            rows, payload = chunk
            if statement.kind == "fetch":
                self.writer.write(payload)
                await self.writer.drain()
            moved += rows
        self.running = None
        portal.done = True
        self.send(m.command_complete(f"{statement.tag} {moved}"))

    def _close_cursors(self, *, held_too: bool) -> None:
        for name, (cursor, declared) in list(self.cursors.items()):
            if held_too or not declared.hold:
                if cursor.run is not None:
                    cursor.run.finish()
                del self.cursors[name]

    def _session_statement(self, statement: Statement) -> list[bytes]:
        """Answer a statement the front end handles itself."""
        kind = statement.kind
        if kind == "begin":
            self.status = b"T" if self.status == b"I" else self.status
        elif kind == "rollback_to":  # back to a savepoint: a failed block is usable again
            if self.status == b"E":
                self.status = b"T"
        elif kind in ("commit", "rollback"):
            tag = "ROLLBACK" if self.status == b"E" else statement.tag
            self.status = b"I"
            self._close_portals()
            self._close_cursors(held_too=False)
            return [m.command_complete(tag)]
        elif kind == "set":
            name = statement.name
            if name not in SETTINGS:
                raise PgError(
                    f'unrecognized configuration parameter "{name}"',
                    code="pgwire.setting",
                    hint="lakegate takes the session settings drivers use; others mean nothing here",
                )
            if name == "lakegate.dialect" and statement.value.lower() not in DIALECTS:
                raise PgError(f"unknown dialect {statement.value!r}", code="pgwire.setting",
                              hint="duckdb, athena or trino")  # fmt: skip
            if name == "lakegate.engine" and statement.value.lower() not in ("", "duckdb", "spark"):
                raise PgError(f"unknown engine {statement.value!r}", code="pgwire.setting",
                              hint="duckdb or spark ('' for the workgroup's)")  # fmt: skip
            if name == "lakegate.reuse_max_age_minutes" and reuse_minutes(statement.value) is None:
                raise PgError(f"not a number of minutes: {statement.value!r}", code="pgwire.setting",
                              hint="0 (never reuse) up to 10080 (a week)")  # fmt: skip
            lowered = name in ("lakegate.dialect", "lakegate.engine")
            self.settings[name] = statement.value.lower() if lowered else statement.value
            if name in ("application_name", "client_encoding", "datestyle", "timezone", "intervalstyle"):
                return [
                    m.parameter_status(STATUS_NAMES.get(name, name), statement.value),
                    m.command_complete("SET"),
                ]
        elif kind == "reset":
            if statement.name == "all":
                self.settings = dict(SETTINGS)
            elif statement.name in SETTINGS:
                self.settings[statement.name] = SETTINGS[statement.name]
            else:
                raise PgError(
                    f'unrecognized configuration parameter "{statement.name}"', code="pgwire.setting"
                )
        elif kind == "show":
            if statement.name not in self.settings:
                raise PgError(
                    f'unrecognized configuration parameter "{statement.name}"', code="pgwire.setting"
                )
            values = [(self.settings[statement.name],)]
            return [*(text_row(*v) for v in values), m.command_complete("SHOW")]
        elif kind == "discard":
            self.statements.clear()
            self._close_portals()
            self._close_cursors(held_too=True)
        elif kind == "close_cursor" and not statement.name:  # CLOSE ALL
            self._close_cursors(held_too=True)
        elif kind == "close_cursor":
            cursor, _declared = self._cursor(statement.name)
            if cursor.run is not None:
                cursor.run.finish()
            del self.cursors[statement.name]
        elif kind == "deallocate":
            if statement.name.upper() == "ALL":
                self.statements.clear()
            elif self.statements.pop(statement.name, None) is None:
                raise PgError(
                    f'prepared statement "{statement.name}" does not exist', code="pgwire.unknown_statement"
                )
        return [m.command_complete(statement.tag)]

    def _finish(self, portal: Portal | None) -> None:
        if portal is not None and portal.run is not None:
            portal.run.finish()
        running = self.running
        if running is not None and (portal is None or portal.run is running):
            running.finish()
            self.running = None

    def _close_portals(self) -> None:
        for portal in self.portals.values():
            if portal.run is not None:
                portal.run.finish()
        self.portals.clear()
        if self.running is not None:
            self.running.finish()
            self.running = None
