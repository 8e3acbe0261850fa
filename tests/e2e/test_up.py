"""`lakegate up` end to end: files dropped into landing/ become exact query results."""

from __future__ import annotations

import gzip
import signal
from pathlib import Path

import duckdb
import pytest

import lakegate
from tests.e2e.daemon import Daemon


def drop(home: Path, key: str, data: bytes) -> None:
    """Write the way a careless provider does: straight into the final name, in chunks."""
    path = home / "landing" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for i in range(0, len(data), 4096):
            out.write(data[i : i + 4096])
            out.flush()


def query(home: Path, sql: str) -> list[tuple[object, ...]]:
    with lakegate.connect(home) as con:
        return con.execute(sql).fetchall()


def test_every_format_lands_in_its_table(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home)
    try:
        daemon.wait_until((home / "landing").is_dir, timeout=30)
        drop(
            home,
            "sales/orders/dt=2026-01-01/a.csv",
            b'id,note,amount\n1,"x, ""quoted""",1.5\n2,"multi\nline",2\n',
        )
        drop(home, "sales/orders/dt=2026-01-02/b.csv.gz", gzip.compress(b"id,note,amount\n3,gz,3.25\n"))
        drop(home, "sales/orders/dt=2026-01-02/c.csv", b"id;note;amount\n4;semi;4\n")
        drop(
            home,
            "web/events/e.ndjson",
            b'{"user":"ann","at":"2026-01-02T03:04:05","tags":["a","b"],"geo":{"c":"fr"}}\n',
        )
        drop(
            home,
            "web/events/f.json",
            b'[{"user":"bob","at":"2026-01-03T00:00:00","tags":[],"geo":{"c":"de"}}]',
        )
        parquet = tmp_path / "m.parquet"
        duckdb.connect().execute(f"COPY (SELECT range AS k, range * 2 AS v FROM range(100)) TO '{parquet}'")
        drop(home, "metrics/points/m.parquet", parquet.read_bytes())
        lines = daemon.wait_lines(6)
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0
    assert all(line.startswith("accepted") for line in lines), lines
    assert "stopped after" in daemon.stderr and "6 accepted, 0 quarantined" in daemon.stderr
    assert query(home, "SELECT id, note, amount, dt FROM sales.orders ORDER BY id") == [
        (1, 'x, "quoted"', 1.5, "2026-01-01"),
        (2, "multi\nline", 2.0, "2026-01-01"),
        (3, "gz", 3.25, "2026-01-02"),
        (4, "semi", 4.0, "2026-01-02"),
    ]
    sql = """SELECT "user", strftime("at", '%Y-%m-%d'), len(tags), geo.c FROM web.events ORDER BY 1"""
    rows = query(home, sql)
    assert rows == [("ann", "2026-01-02", 2, "fr"), ("bob", "2026-01-03", 0, "de")]
    assert query(home, "SELECT count(*), sum(v) FROM metrics.points") == [(100, 9900)]
    assert list((home / "landing").rglob("*.*")) == []


def test_bad_input_is_quarantined_while_the_daemon_keeps_going(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home)
    try:
        daemon.wait_until((home / "landing").is_dir, timeout=30)
        drop(home, "s/t/empty.csv", b"")
        drop(home, "s/t/garbage.csv", bytes(range(256)) * 50)
        drop(home, "s/t/cut.parquet", b"PAR1" + b"\x01" * 500)
        drop(home, "s/t/x.csv.xz", b"\xfd7zXZ\x00" + b"\x00" * 60)
        drop(home, "s/t/cp1252.csv", "name\ncafé 5 €\n".encode("cp1252") + b"\x81\n")  # not even cp1252
        drop(home, "stray.csv", b"a\n1\n")
        daemon.wait_lines(6)
        drop(home, "s/t/good.csv", b"a\n1\n")
        daemon.wait_lines(7)
    finally:
        daemon.stop()
    reasons = {line.split(":")[0].split()[-1]: line.split(": ")[1] for line in daemon.lines[:6]}
    assert reasons == {
        "landing/s/t/empty.csv": "reject.empty",
        "landing/s/t/garbage.csv": "reject.binary",
        "landing/s/t/cut.parquet": "reject.truncated_parquet",
        "landing/s/t/x.csv.xz": "reject.unsupported_compression",
        "landing/s/t/cp1252.csv": "reject.encoding",
        "landing/stray.csv": "reject.route",
    }
    assert daemon.lines[6].startswith("accepted     landing/s/t/good.csv -> s.t")
    assert len(list((home / "quarantine").rglob("*.*"))) == 6
    assert query(home, "SELECT a FROM s.t") == [(1,)]


def test_a_second_up_on_the_same_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = Daemon(home)
    try:
        first.wait_until(lambda: "lakegate is up" in first.stderr, timeout=30)
        second = Daemon(home)
        assert second.proc.wait(timeout=30) == 1
        second.stop()
        assert "error[home.busy]" in second.stderr
    finally:
        first.stop()


def test_put_while_up_runs_says_the_daemons_verdict_however_fast_it_came(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    daemon = Daemon(home)  # settles in 0.1 s: done before a watcher polling every 0.1 s sees it at work
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=30)
        good, empty = tmp_path / "orders.csv", tmp_path / "empty.csv"
        good.write_text("customer,amount\nann,5\n")
        empty.write_text("")
        for _ in range(2):  # the second time: the same key again, a new delivery
            began = time.monotonic()
            put = subprocess.run(
                [sys.executable, "-m", "lakegate", "put", str(good), "--to", "shop.orders",
                 "--home", str(home)],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert put.returncode == 0, put.stderr
            assert put.stdout.startswith(("accepted landing/shop/orders/orders.csv", "duplicate")), put.stdout
            assert time.monotonic() - began < 20
        bad = subprocess.run(
            [sys.executable, "-m", "lakegate", "put", str(empty), "--to", "shop.orders", "--home", str(home)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert bad.returncode == 1 and "reject.empty" in bad.stderr
    finally:
        daemon.stop()


@pytest.mark.parametrize("option", ["--http-port", "--pg-port", "--aws-port"])
def test_a_port_in_use_stops_start_up_before_anything_says_it_is_up(tmp_path: Path, option: str) -> None:
    """Every listener is bound before `lakegate is up` is printed: a taken port exits non-zero,
    names the port and the option to change, and leaves nothing running (the home is free)."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        args = ["--http-port", "0", option, str(port)] if option != "--http-port" else [option, str(port)]
        daemon = Daemon(tmp_path / "home", args=args)
        assert daemon.proc.wait(timeout=60) == 1
        daemon.stop()
        said = daemon.stderr + "\n".join(daemon.lines)
        assert "error[cli.port_busy]" in said and f"port {port} is in use" in said, said
        assert f"pick another with {option}" in said
        assert "lakegate is up" not in said and "web console" not in said
        if option == "--http-port":
            assert "make up HTTP_PORT=" in said
        again = Daemon(tmp_path / "home", args=["--http-port", "0"])  # nothing held the home
        try:
            again.wait_until(lambda: "lakegate is up" in again.stderr, timeout=60)
        finally:
            again.stop()
    finally:
        taken.close()


def test_schema_evolution_through_the_daemon(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home)
    try:
        daemon.wait_until((home / "landing").is_dir, timeout=30)
        drop(home, "s/t/1.csv", b"id,qty\n1,5\n")
        daemon.wait_lines(1)
        drop(home, "s/t/2.csv", b"id,qty,comment\n2,5.5,new column\n")
        daemon.wait_lines(2)
    finally:
        daemon.stop()
    assert query(home, "SELECT id, qty, comment FROM s.t ORDER BY id") == [
        (1, 5.0, None),
        (2, 5.5, "new column"),
    ]
    assert query(home, "SELECT typeof(qty) FROM s.t LIMIT 1") == [("DOUBLE",)]
