"""The PostgreSQL frontend/backend protocol 3.0: reading frontend messages, writing backend ones.

Every message but the first is a type byte, a 4-byte big-endian length (counting itself) and
its payload. The first (startup, SSL request, cancel request) has no type byte.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from lakegate.errors import LakegateError

PROTOCOL_3 = 196608  # 3.0
SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_MESSAGE = 64 << 20  # a frontend message longer than this is refused, not read (SQL: 256 KB)

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")


class ProtocolError(LakegateError):
    """The client broke the protocol; the connection is closed after saying so."""

    code = "pgwire.protocol"


class Payload:
    """Reads the fields of one message's payload, in order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise ProtocolError("a message ended before its fields did")
        piece = self.data[self.at : self.at + n]
        self.at += n
        return piece

    def int16(self) -> int:
        return int(_I16.unpack(self._take(2))[0])

    def int32(self) -> int:
        return int(_I32.unpack(self._take(4))[0])

    def byte(self) -> bytes:
        return self._take(1)

    def take(self, n: int) -> bytes:
        return self._take(n)

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.at)
        if end < 0:
            raise ProtocolError("a string field has no terminating zero byte")
        text = self.data[self.at : end].decode("utf-8", "replace")
        self.at = end + 1
        return text

    def rest(self) -> bytes:
        piece = self.data[self.at :]
        self.at = len(self.data)
        return piece


async def read_startup(reader: asyncio.StreamReader) -> tuple[int, Payload]:
    """The first message: its code (protocol version or request code) and the rest."""
    (length,) = _I32.unpack(await reader.readexactly(4))
    if length < 8 or length > 10_000:
        raise ProtocolError(f"a startup message of {length} bytes")
    body = await reader.readexactly(length - 4)
    return int(_I32.unpack(body[:4])[0]), Payload(body[4:])


async def read_message(reader: asyncio.StreamReader, limit: int = MAX_MESSAGE) -> tuple[bytes, Payload]:
    head = await reader.readexactly(5)
    kind = head[:1]
    (length,) = _I32.unpack(head[1:])
    if length < 4 or length > limit:
        raise ProtocolError(f"a {kind!r} message of {length} bytes")
    return kind, Payload(await reader.readexactly(length - 4))


def message(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + _I32.pack(len(payload) + 4) + payload


def cstr(text: str) -> bytes:
    return text.encode("utf-8").replace(b"\0", b"") + b"\0"


def int16(n: int) -> bytes:
    return _I16.pack(n)


def int32(n: int) -> bytes:
    return _I32.pack(n)


# -- backend messages -----------------------------------------------------------------------


def authentication(code: int, data: bytes = b"") -> bytes:
    """0 ok, 3 cleartext password, 10 SASL (mechanisms), 11 SASL continue, 12 SASL final."""
    return message(b"R", int32(code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(process_id: int, secret: int) -> bytes:
    return message(b"K", int32(process_id) + int32(secret))


def ready_for_query(status: bytes) -> bytes:
    """``I`` idle, ``T`` in a transaction block, ``E`` in a failed transaction block."""
    return message(b"Z", status)


@dataclass(frozen=True)
class Field:
    name: str
    type_oid: int
    type_size: int
    type_modifier: int = -1
    format: int = 0  # 0 text, 1 binary
    table_oid: int = 0
    column: int = 0


def row_description(fields: Sequence[Field]) -> bytes:
    parts = [int16(len(fields))]
    for f in fields:
        parts.append(
            cstr(f.name)
            + struct.pack(
                "!ihihih", f.table_oid, f.column, f.type_oid, f.type_size, f.type_modifier, f.format
            )
        )
    return message(b"T", b"".join(parts))


def parameter_description(oids: Sequence[int]) -> bytes:
    return message(b"t", int16(len(oids)) + b"".join(int32(o) for o in oids))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def error_response(fields: dict[str, str]) -> bytes:
    return message(b"E", b"".join(k.encode() + cstr(v) for k, v in fields.items()) + b"\0")


def notice_response(fields: dict[str, str]) -> bytes:
    return message(b"N", b"".join(k.encode() + cstr(v) for k, v in fields.items()) + b"\0")


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
EMPTY_QUERY = message(b"I")
PORTAL_SUSPENDED = message(b"s")
