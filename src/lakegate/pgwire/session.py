"""One client connection: start-up, authentication, then simple and extended queries.

A session belongs to one principal (the user name; the password is one of its tokens). Its
queries go through the gateway like the HTTP API's — grants, workgroup limits and turns,
history — and their results are streamed: a batch is encoded and sent before the next is read,
so memory stays bounded, and a client that goes away stops its query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principal, Principals
from lakegate.errors import AuthError, LakegateError, QueryError
from lakegate.pgwire import messages as m
from lakegate.pgwire.scram import MECHANISM, ScramExchange, ScramFailed
from lakegate.pgwire.sqlstate import fields
from lakegate.pgwire.statements import SETTINGS, Statement, classify, split
from lakegate.pgwire.types import Column, column, data_rows, decode_param, encode
from lakegate.query.gateway import Gateway, Run
from lakegate.query.pg_catalog import CatalogAnswer, PgCatalog, is_catalog_query
from lakegate.query.pg_types import TEXT

logger = logging.getLogger(__name__)

_CHUNK_ROWS = 16_384  # rows encoded at a time: bounds the encoder's scratch memory
_DIALECTS = ("duckdb", "athena", "trino")


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


@dataclass(frozen=True)
class Options:
    auth: str = "scram"  # scram | password (cleartext, over TLS only)
    require_tls: bool = False
    startup_seconds: float = 30.0  # a client must have logged in by then
    max_connections: int = 256


class Session:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        gateway: Gateway,
        principals: Principals,
        tls: ssl.SSLContext | None,
        options: Options,
        executor: Executor,
        register: Callable[[Session], tuple[int, int]],
        unregister: Callable[[Session], None],
        cancel: Callable[[int, int], None],
    ) -> None:
        self.reader, self.writer = reader, writer
        self.gateway, self.principals = gateway, principals
        self.tls, self.options, self.executor = tls, options, executor
        self._register, self._unregister, self._cancel_other = register, unregister, cancel
        self.principal: Principal | None = None
        self.settings = dict(SETTINGS)
        self.status = b"I"  # I idle, T in a transaction block, E in a failed one
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.cursors: dict[str, tuple[Portal, Statement]] = {}  # DECLAREd cursors, by name
        self.secure = False
        self.running: Run | None = None
        self.cancelled = False
        self.pg_catalog: PgCatalog | None = None
        self.token_id: str | None = None  # the token the session logged in with
        self.running_print: tuple[Any, ...] | None = None  # the access the running statement began with

    # -- life -------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            started = await asyncio.wait_for(self._start(), self.options.startup_seconds)
            if started:
                watchdog = asyncio.create_task(self._watch_access())
                try:
                    await self._loop()
                finally:
                    watchdog.cancel()
        except TimeoutError:
            with contextlib.suppress(Exception):
                await self._fatal(PgError("the connection did not log in in time", code="pgwire.protocol"))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass  # the client went away, or the server stops
        except m.ProtocolError as exc:
            await self._fatal(exc)
        except Exception as exc:  # a bug: said to the client and logged, never a silent hang-up
            logger.exception("pgwire: a session failed")
            with contextlib.suppress(Exception):
                await self._fatal(
                    LakegateError(f"lakegate failed: {type(exc).__name__}: {exc}", code="pgwire.internal")
                )
        finally:
            self._close_portals()
            self._close_cursors(held_too=True)
            self._unregister(self)
            if self.pg_catalog is not None:
                self.pg_catalog.close()
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    def cancel(self) -> None:
        """A CancelRequest for this session: stop what it runs now."""
        self.cancelled = True
        running = self.running
        if running is not None:
            running.finish(QueryError("canceling statement due to user request", code="query.cancelled"))

    async def _watch_access(self) -> None:
        """End the session within ``ACCESS_CHECK_SECONDS`` of its access ending — its user
        disabled or made a provider, its token revoked or expired — stopping what it runs; take
        a changed role into its next statement."""
        while True:
            await asyncio.sleep(ACCESS_CHECK_SECONDS)
            assert self.principal is not None
            try:
                now = await asyncio.to_thread(
                    self.principals.still_allowed, self.principal.name, self.token_id
                )
                printed = None if now is None else await asyncio.to_thread(self.gateway.access_print, now)
            except LakegateError:
                continue  # the catalog is unreachable: so are the session's queries meanwhile
            if now is not None and now.role != "provider":
                self.principal = now
                running, began = self.running, self.running_print
                if running is not None and began is not None and printed != began:
                    # its grants or role changed: what runs under the old ones stops
                    self.running_print = None
                    running.finish(QueryError(
                        "the statement was stopped: this session's grants or role changed while it ran",
                        code="query.cancelled", hint="run it again",
                    ))  # fmt: skip
                continue
            logger.info("pgwire: ending the session of %s: its access ended", self.principal.name)
            self.cancel()
            ended = AuthError(
                "this session's access ended: its token was revoked or expired, or its user disabled",
                code="auth.revoked",
                hint="connect again with a valid token",
            )
            with contextlib.suppress(Exception):
                await self._fatal(ended)
            self.writer.close()
            return

    def send(self, *parts: bytes) -> None:
        self.writer.write(b"".join(parts))

    async def _fatal(self, error: LakegateError) -> None:
        self.send(m.error_response(fields(error, "FATAL")))
        await self.writer.drain()

    # -- start-up and authentication ------------------------------------------------------

    async def _start(self) -> bool:
        while True:
            code, payload = await m.read_startup(self.reader)
            if code == m.SSL_REQUEST:
                if self.tls is None or self.secure:
                    self.send(b"N")
                    continue
                self.send(b"S")
                await self.writer.drain()
                await self.writer.start_tls(self.tls)
                self.secure = True
                continue
            if code == m.GSS_REQUEST:
                self.send(b"N")
                continue
            if code == m.CANCEL_REQUEST:  # another session's query to stop; no answer is sent
                self._cancel_other(payload.int32(), payload.int32())
                return False
            break
        major, minor = code >> 16, code & 0xFFFF
        if major != 3:
            await self._fatal(PgError(f"protocol {major}.{minor} is not supported; lakegate speaks 3.0",
                                      code="pgwire.protocol"))  # fmt: skip
            return False
        params: dict[str, str] = {}
        while True:
            key = payload.cstring()
            if not key:
                break
            params[key] = payload.cstring()
        unknown = [k for k in params if k.startswith("_pq_.")]
        if minor > 0 or unknown:
            self.send(
                m.message(b"v", m.int32(0) + m.int32(len(unknown)) + b"".join(m.cstr(k) for k in unknown))
            )
        if self.options.require_tls and not self.secure:
            await self._fatal(AuthError("this server accepts only TLS connections", code="auth.tls_required",
                                        hint="connect with sslmode=require"))  # fmt: skip
            return False
        user = params.get("user", "")
        principal = await self._authenticate(user)
        if principal is None:
            return False
        self.principal = principal
        self._apply_startup(params)
        process_id, secret = self._register(self)
        self.pg_catalog = PgCatalog(self.gateway.catalog, principal.name, process_id)
        for name in _REPORTED:
            self.send(m.parameter_status(name, self.settings[name.lower()]))
        self.send(
            m.parameter_status("is_superuser", "off"), m.parameter_status("session_authorization", user)
        )
        self.send(m.backend_key_data(process_id, secret), m.ready_for_query(self.status))
        await self.writer.drain()
        return True

    def _apply_startup(self, params: dict[str, str]) -> None:
        if "application_name" in params:
            self.settings["application_name"] = params["application_name"]
        dialect = params.get("lakegate.dialect", "")
        for option in params.get("options", "").replace("--", "-c ").split("-c"):
            name, sep, value = option.strip().partition("=")
            if sep and name.strip().lower() == "lakegate.dialect":
                dialect = value.strip()
        if dialect.lower() in _DIALECTS:
            self.settings["lakegate.dialect"] = dialect.lower()

    async def _authenticate(self, user: str) -> Principal | None:
        refused = AuthError(
            f'password authentication failed for user "{user}"',
            code="auth.invalid",
            hint="the password is a lakegate token of this user (`lakegate tokens create`)",
        )
        if self.options.auth == "password":
            if not self.secure:
                await self._fatal(AuthError("passwords are accepted over TLS only", code="auth.tls_required",
                                            hint="connect with sslmode=require"))  # fmt: skip
                return None
            self.send(m.authentication(3))
            await self.writer.drain()
            kind, payload = await m.read_message(self.reader, _LOGIN_MESSAGE)
            if kind != b"p":
                raise m.ProtocolError("expected a password message")
            token = payload.cstring()
            self.token_id = token_format.token_id(token.strip())
            try:
                principal = await self._call(self.principals.authenticate, token)
            except AuthError:
                principal = None
            if principal is None or principal.name != user:
                await self._fatal(refused)
                return None
        else:
            found = await self._call(self.principals.scram_secrets, user)
            exchange = ScramExchange(found)
            self.send(m.authentication(10, m.cstr(MECHANISM) + b"\0"))
            await self.writer.drain()
            try:
                kind, payload = await m.read_message(self.reader, _LOGIN_MESSAGE)
                if kind != b"p" or payload.cstring() != MECHANISM:
                    raise ScramFailed("the client chose another mechanism")
                length = payload.int32()
                self.send(m.authentication(11, exchange.first(payload.take(length))))
                await self.writer.drain()
                kind, payload = await m.read_message(self.reader, _LOGIN_MESSAGE)
                if kind != b"p":
                    raise ScramFailed("expected the client's final SCRAM message")
                final = exchange.final(payload.rest())
            except ScramFailed as exc:
                logger.info("pgwire: authentication of %r failed: %s", user, exc)
                await self._fatal(refused)
                return None
            self.send(m.authentication(12, final))
            assert exchange.token_id is not None
            self.token_id = exchange.token_id
            await self._call(self.principals.touch, exchange.token_id)
            principal = await self._call(self.principals.require, user)
        assert isinstance(principal, Principal)
        if principal.role == "provider":
            await self._fatal(AuthError(f"{user} is a provider: providers upload files and run no queries",
                                        code="auth.forbidden", hint="connect as an analyst"))  # fmt: skip
            return None
        self.send(m.authentication(0))
        return principal

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- the message loop -------------------------------------------------------------------

    async def _loop(self) -> None:
        failed = False  # an extended-protocol error: skip to the next Sync
        while True:
            kind, payload = await m.read_message(self.reader)
            if kind == b"X":
                return
            if kind == b"Q":
                failed = False
                await self._simple(payload.cstring())
                continue
            if kind == b"S":
                failed = False
                if self.status not in (b"T", b"E"):
                    self._close_portals()
                self.send(m.ready_for_query(self.status))
                await self.writer.drain()
                continue
            if kind == b"H":
                await self.writer.drain()
                continue
            if failed:
                continue
            try:
                if kind == b"P":
                    self._parse(payload)
                elif kind == b"B":
                    self._bind(payload)
                elif kind == b"D":
                    await self._describe(payload)
                elif kind == b"E":
                    await self._execute_portal(payload)
                elif kind == b"C":
                    self._close(payload)
                elif kind in (b"d", b"c", b"f"):
                    raise PgError("COPY is not supported: lakegate is read-only", code="pgwire.copy")
                else:
                    raise m.ProtocolError(f"unexpected message type {kind!r}")
            except m.ProtocolError:
                raise
            except LakegateError as exc:
                failed = True
                self._error(exc)

    def _error(self, error: LakegateError) -> None:
        if error.code == "query.cancelled" and self.cancelled:  # what psql users know to read
            error = QueryError("canceling statement due to user request", code="query.cancelled")
        if self.status == b"T":
            self.status = b"E"
        self.send(m.error_response(fields(error)))

    # -- simple query -------------------------------------------------------------------------

    async def _simple(self, sql: str) -> None:
        for text in split(sql):
            statement = classify(text)
            try:
                if statement.kind == "empty":
                    self.send(m.EMPTY_QUERY)
                    continue
                portal = Portal(Prepared(text, statement, []), [], [])
                columns = await self._open(portal)
                if columns is not None:
                    self.send(m.row_description(columns))
                await self._stream(portal, 0)
            except LakegateError as exc:
                self._error(exc)
                break
            finally:
                self._finish(None)
        self.send(m.ready_for_query(self.status))
        await self.writer.drain()

    # -- extended query -----------------------------------------------------------------------

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

    # -- running a statement ------------------------------------------------------------------

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
        minutes = _minutes(self.settings["lakegate.reuse_max_age_minutes"])
        self.running_print = self.gateway.access_print(self.principal)
        run = self.gateway.stream(self.principal, portal.prepared.sql, portal.params or None,
                                  dialect=self.settings["lakegate.dialect"], via="pgwire",
                                  reuse_seconds=minutes * 60 if minutes else None)  # fmt: skip
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
            if name == "lakegate.dialect" and statement.value.lower() not in _DIALECTS:
                raise PgError(f"unknown dialect {statement.value!r}", code="pgwire.setting",
                              hint="duckdb, athena or trino")  # fmt: skip
            if name == "lakegate.reuse_max_age_minutes" and _minutes(statement.value) is None:
                raise PgError(f"not a number of minutes: {statement.value!r}", code="pgwire.setting",
                              hint="0 (never reuse) up to 10080 (a week)")  # fmt: skip
            self.settings[name] = statement.value.lower() if name == "lakegate.dialect" else statement.value
            if name in ("application_name", "client_encoding", "datestyle", "timezone", "intervalstyle"):
                return [
                    m.parameter_status(_STATUS_NAMES.get(name, name), statement.value),
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
            return [*(_text_row(*v) for v in values), m.command_complete("SHOW")]
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


ACCESS_CHECK_SECONDS = 1.0  # how often an open session checks that its access still holds
_LOGIN_MESSAGE = 64 * 1024  # the most a message may hold before a client has logged in
_REPORTED = ("server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone",
             "integer_datetimes", "standard_conforming_strings", "application_name")  # fmt: skip


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


_STATUS_NAMES = {"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}


def _text_row(*values: str) -> bytes:
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


def new_key() -> int:
    return secrets.randbits(31)


def _minutes(value: str) -> float | None:
    """``lakegate.reuse_max_age_minutes`` as a number (``None``: not one)."""
    try:
        minutes = float(value)
    except ValueError:
        return None
    return minutes if 0 <= minutes <= 10_080 else None
