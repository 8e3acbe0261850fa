"""Bad input never takes the server down: random bytes at any point, a client that never logs
in, too many connections — each is refused on its own connection while others go on."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.pgwire import messages as m
from lakegate.pgwire.session import Options
from tests.pgwire.conftest import Lake, serve


def send(lake: Lake, data: bytes) -> bytes:
    """Send ``data`` on a fresh connection; whatever the server answers before it hangs up."""
    with socket.create_connection(("127.0.0.1", lake.port), timeout=5) as raw:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while chunk := raw.recv(65536):
                got += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return got


def startup(user: str = "ann") -> bytes:
    body = m.int32(m.PROTOCOL_3) + m.cstr("user") + m.cstr(user) + m.cstr("database") + m.cstr("lake") + b"\0"
    return m.int32(len(body) + 4) + body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", "startup"]), garbage=st.binary(max_size=300))
def test_random_bytes_are_refused_and_the_server_lives_on(lake: Lake, prefix: object, garbage: bytes) -> None:
    data = (startup() if prefix == "startup" else b"") + garbage
    answer = send(lake, data)
    assert b"XX000" not in answer  # a protocol error, never lakegate failing
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_malformed_frames_get_a_protocol_violation(lake: Lake) -> None:
    huge = startup() + b"p" + struct.pack("!i", 2**30)  # a login message claiming a gigabyte
    assert b"08P01" in send(lake, huge)
    short = m.int32(3)  # a startup length that cannot be
    assert b"08P01" in send(lake, short)
    old_protocol = m.int32(8) + m.int32(2 << 16)
    assert b"protocol 2.0 is not supported" in send(lake, old_protocol)


@pytest.fixture
def small_lake(app: App, tmp_path: Path) -> Iterator[Lake]:
    yield from serve(app, tmp_path, options=Options(startup_seconds=1.0, max_connections=3))


def test_clients_that_never_log_in_are_dropped_and_connections_are_bounded(small_lake: Lake) -> None:
    idle = [socket.create_connection(("127.0.0.1", small_lake.port)) for _ in range(3)]
    try:
        with pytest.raises(psycopg.OperationalError) as full:
            psycopg.connect(small_lake.dsn("ann"))
        assert "too many connections" in str(full.value)
        for sock in idle:  # each is told why and closed after a second
            sock.settimeout(5)
            assert b"did not log in in time" in sock.recv(4096)
    finally:
        for sock in idle:
            sock.close()
    with psycopg.connect(small_lake.dsn("ann"), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
