"""TLS (a self-signed certificate as `lakegate up --tls-self-signed` makes), the cleartext
password mode that needs it, cancelling a running query, and a client that goes away."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lakegate.app import App
from lakegate.pgwire.session import Options
from tests.pgwire.conftest import Lake, serve

SLOW = "SELECT sum(hash(range)) FROM range(100000000000)"  # hours of work: stopped long before


@pytest.fixture
def tls_lake(app: App, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Lake]:
    yield from serve(app, tmp_path, options=request.param, tls=True)


@pytest.mark.parametrize("tls_lake", [Options(require_tls=True)], indirect=True)
def test_tls_is_negotiated_and_can_be_required(tls_lake: Lake) -> None:
    with psycopg.connect(tls_lake.dsn("ann", sslmode="require")) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT count(*) FROM acme.orders").fetchone() == (2,)
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(tls_lake.dsn("ann", sslmode="disable"))
    assert "accepts only TLS connections" in str(refused.value)


@pytest.mark.parametrize("tls_lake", [Options(auth="password")], indirect=True)
def test_cleartext_passwords_only_over_tls(tls_lake: Lake) -> None:
    with psycopg.connect(tls_lake.dsn("ann", sslmode="require")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError) as plain:
        psycopg.connect(tls_lake.dsn("ann", sslmode="disable"))
    assert "over TLS only" in str(plain.value)
    with pytest.raises(psycopg.OperationalError) as wrong:
        psycopg.connect(tls_lake.dsn("ann", token=tls_lake.tokens["gus"], sslmode="require"))
    assert 'password authentication failed for user "ann"' in str(wrong.value)


def test_no_password_is_refused(lake: Lake) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(lake.dsn("ann", token=""))
    assert "password" in str(refused.value)


def test_a_running_query_is_cancelled_and_the_session_goes_on(lake: Lake) -> None:
    with psycopg.connect(lake.dsn("ann"), autocommit=True) as conn:
        threading.Timer(1.0, conn.cancel_safe).start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(SLOW)
        assert time.monotonic() - started < 30
        assert conn.execute("SELECT 2").fetchone() == (2,)
    from lakegate.auth.principals import Principals
    from lakegate.query.history import History

    states = [q.state for q in History(lake.app.catalog).of(Principals(lake.app.catalog).require("ann"))]
    assert states[:2] == ["SUCCEEDED", "CANCELLED"]


def test_a_client_that_goes_away_stops_its_query(lake: Lake) -> None:
    """A client streams an endless result row by row, reads a few rows, and vanishes."""
    import contextlib
    import os

    from lakegate.auth.principals import Principals
    from lakegate.query.history import History

    conn = psycopg.connect(lake.dsn("root"), autocommit=True)
    rows = conn.cursor().stream("SELECT range AS n, repeat('x', 100) AS pad FROM range(200000000)")
    with contextlib.suppress(psycopg.Error, OSError):
        for i, _row in enumerate(rows):
            if i == 10:
                gone = socket.socket(fileno=os.dup(conn.pgconn.socket))
                gone.shutdown(socket.SHUT_RDWR)  # no goodbye: the connection just ends
                gone.close()
                break
    with contextlib.suppress(Exception):
        conn.close()
    root = Principals(lake.app.catalog).require("root")
    deadline = time.monotonic() + 30
    records = History(lake.app.catalog).of(root)
    while time.monotonic() < deadline and records[0].state == "RUNNING":
        time.sleep(0.2)
        records = History(lake.app.catalog).of(root)
    assert records[0].state == "CANCELLED" and records[0].rows is not None and records[0].rows < 200000000
