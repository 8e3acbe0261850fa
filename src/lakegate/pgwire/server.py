"""The PostgreSQL wire protocol server: an asyncio loop on a thread of its own, beside the HTTP
API, sharing its gateway (grants, workgroups, history) and its TLS certificate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lakegate.auth.principals import Principals
from lakegate.errors import LakegateError
from lakegate.listening import listen
from lakegate.pgwire import messages as m
from lakegate.pgwire.session import Options, Session, cancel_key
from lakegate.pgwire.sqlstate import fields
from lakegate.query.gateway import Gateway

logger = logging.getLogger(__name__)


def tls_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate), str(key))
    return context


class PgServer:
    """``start()`` listens on ``host:port`` (0: a free port, see ``bound_port()``)."""

    def __init__(
        self,
        gateway: Gateway,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: tuple[Path, Path] | None = None,
        options: Options | None = None,
        workers: int = 64,
    ) -> None:
        self.gateway = gateway
        self.principals = Principals(gateway.catalog)
        self.host, self.port = host, port
        self.socket = listen(host, port, "pg")  # bound now: a taken port stops start-up here
        self.tls = tls_context(*tls) if tls else None
        self.options = options or Options()
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lakegate-pgwire")
        self.sessions: dict[int, tuple[int, Session]] = {}  # process id -> (secret, session)
        self._open_connections = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lakegate-pgwire", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def bound_port(self) -> int:
        return int(self.socket.getsockname()[1])

    def stop(self) -> None:
        """Stop listening, stop every session's query and close its connection."""
        with self._lock:
            sessions = [s for _k, s in self.sessions.values()]
        for session in sessions:
            session.cancel()
        loop = self._loop
        if loop is not None and loop.is_running():
            done = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                done.result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.socket.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._accept, sock=self.socket))
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            full = self._open_connections >= self.options.max_connections
            if not full:
                self._open_connections += 1
        if full:
            refusal = LakegateError(
                f"too many connections: this server takes {self.options.max_connections}",
                code="query.too_many",
                hint="close idle connections, or use a connection pool",
            )
            writer.write(m.error_response(fields(refusal, "FATAL")))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return
        try:
            await self._session(reader, writer)
        finally:
            with self._lock:
                self._open_connections -= 1

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(
            reader, writer, gateway=self.gateway, principals=self.principals, tls=self.tls,
            options=self.options, executor=self.executor, register=self._register,
            unregister=self._unregister, cancel=self._cancel,
        )  # fmt: skip
        await session.serve()

    def _register(self, session: Session) -> tuple[int, int]:
        with self._lock:
            while True:
                process_id = secrets.randbits(31) or 1
                if process_id not in self.sessions:
                    break
            secret = secrets.randbits(31)
            self.sessions[process_id] = (secret, session)
        return process_id, secret

    def _unregister(self, session: Session) -> None:
        with self._lock:
            for process_id, (_secret, known) in list(self.sessions.items()):
                if known is session:
                    del self.sessions[process_id]

    def _cancel(self, process_id: int, secret: int) -> None:
        """A CancelRequest: the session's query stopped here, or — a session of another node
        (a load balancer sent the request here) — that node asked through the catalog."""
        with self._lock:
            found = self.sessions.get(process_id)
        if found is not None:
            if secrets.compare_digest(found[0].to_bytes(4, "big"), secret.to_bytes(4, "big")):
                found[1].cancel()
            return
        if self.gateway.history.node is None:
            return  # one node: no session has this key
        try:
            self.gateway.history.ask_cancel_keyed(cancel_key(process_id, secret))
        except LakegateError as exc:
            logger.warning("a cancel request could not be passed on: %s", exc.message)
