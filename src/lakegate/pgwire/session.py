"""One client connection: start-up, authentication, then simple and extended queries.

A session belongs to one principal (the user name; the password is one of its tokens). Its
queries go through the gateway like the HTTP API's — grants, workgroup limits and turns,
history — and their results are streamed: a batch is encoded and sent before the next is read,
so memory stays bounded, and a client that goes away stops its query.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import ssl
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from lakegate.auth import tokens as token_format
from lakegate.auth.principals import Principal, Principals
from lakegate.errors import AuthError, LakegateError, QueryError
from lakegate.pgwire import messages as m
from lakegate.pgwire.portals import (
    DIALECTS,
    PgError,
    Portal,
    Prepared,
    Statements,
)
from lakegate.pgwire.scram import MECHANISM, ScramExchange, ScramFailed
from lakegate.pgwire.sqlstate import fields
from lakegate.pgwire.statements import SETTINGS, Statement, classify, split
from lakegate.query.gateway import Gateway, Run
from lakegate.query.pg_catalog import PgCatalog

logger = logging.getLogger(__name__)


def cancel_key(process_id: int, secret: int) -> str:
    """What a session's CancelRequest carries, as its queries are recorded: a hash of it, so
    that the catalog never holds a key that would cancel them."""
    return hashlib.sha256(f"{process_id}:{secret}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Options:
    auth: str = "scram"  # scram | password (cleartext, over TLS only)
    require_tls: bool = False
    startup_seconds: float = 30.0  # a client must have logged in by then
    max_connections: int = 256


ACCESS_CHECK_SECONDS = 1.0  # how often an open session checks that its access still holds


_LOGIN_MESSAGE = 64 * 1024  # the most a message may hold before a client has logged in


_REPORTED = ("server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone",
             "integer_datetimes", "standard_conforming_strings", "application_name")  # fmt: skip


def new_key() -> int:
    return secrets.randbits(31)


class Session(Statements):
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
        self.cancel_key: str | None = None

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
                await self._call(self._cancel_other, payload.int32(), payload.int32())
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
        self.cancel_key = cancel_key(process_id, secret)
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
        if dialect.lower() in DIALECTS:
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
