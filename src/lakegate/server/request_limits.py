"""A request body is judged before it is read: who sends it (from the headers alone) and how
big it may be (by route). Without this, any client could make the server read, parse and hold
a body of any size before it was even authenticated.

    unauthenticated, with a body   → 401 before one byte of it is read
    Content-Length over the cap    → 413 at once
    a streamed body over the cap   → 413 as soon as it passes the cap (the rest is not read)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from lakegate.errors import AuthError, LakegateError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BODY_METHODS = {"POST", "PUT", "PATCH"}
UPLOAD_PREFIX = "/v1/upload/"
OPEN_PATHS = frozenset({"/v1/session"})  # signing in sends a token in the body, not in a header
DRAIN_MOST = 64 * 1024**2  # of a refused body, read and dropped so the client reads the answer


class BodyLimits:
    """ASGI middleware around the HTTP API (``http.max_body_kb``, ``http.max_upload_mb``)."""

    def __init__(
        self, app: ASGIApp, who: Callable[[Request], object], max_body_bytes: int, max_upload_bytes: int
    ) -> None:
        self.app = app
        self.who = who
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        upload = path.startswith(UPLOAD_PREFIX)
        cap = self.max_upload if upload else self.max_body
        if path.startswith("/v1/") and path not in OPEN_PATHS:
            try:
                await run_in_threadpool(self.who, Request(scope))
            except LakegateError as exc:  # the route would refuse it: say so before reading
                status = 401 if isinstance(exc, AuthError) and exc.code == "auth.invalid" else 403
                await _refuse(send, status, exc)
                return
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            if declared <= DRAIN_MOST:
                await _drain(receive, DRAIN_MOST)
            await _refuse(send, 413, _too_large(cap, upload))
            return
        received = 0
        over = False  # the body passed the cap: whatever the app answers, the answer is 413

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True  # the rest is read only to be thrown away, and only so far
                    if message.get("more_body"):
                        await _drain(receive, DRAIN_MOST - received)
                    return {"type": "http.disconnect"}
            return message

        answered = False

        async def sending(message: Message) -> None:
            nonlocal answered
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(send, 413, _too_large(cap, upload))
            answered = answered or message["type"] == "http.response.start"

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not over:
                raise
            if not answered:  # the app gave up on the body it could not read
                await _refuse(send, 413, _too_large(cap, upload))


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop what is left of a refused body, up to ``budget`` bytes, so that a client that
    sends its whole body before it reads the answer gets the answer, not a reset connection."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body"):
            return


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(cap: int, upload: bool) -> LakegateError:
    setting = "http.max_upload_mb" if upload else "http.max_body_kb"
    return LakegateError(
        f"the request body is larger than the {cap:,} bytes this endpoint accepts",
        code="http.body_too_large",
        hint=f"send less (queries: fewer or shorter statements), or raise {setting}",
    )


async def _refuse(send: Send, status: int, exc: LakegateError) -> None:
    body = json.dumps({"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="lakegate"'))
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
