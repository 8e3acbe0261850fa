"""A catalog that cannot be written for a while delays ingest; it never loses or doubles anything."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import lakegate
from lakegate.app import open_app
from tests.e2e.daemon import Daemon, deliveries


def test_sqlite_catalog_locked_for_10_seconds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    open_app(home, create=True).close()  # the catalog exists before anyone locks it
    plan, good, bad = deliveries(30, 10)
    daemon = Daemon(home)
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=30)
        blocker = sqlite3.connect(home / "catalog.db", isolation_level=None, timeout=30)
        blocker.execute("BEGIN EXCLUSIVE")  # another program holding the write lock
        for key, data in plan:
            path = home / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        time.sleep(10)
        assert daemon.lines == [] and daemon.proc.poll() is None  # nothing could commit, nothing crashed
        blocker.execute("COMMIT")
        blocker.close()
        daemon.wait_lines(len(plan), timeout=120)
    finally:
        daemon.stop()
    assert len(daemon.lines) == len(plan)
    assert not [p for p in (home / "landing").rglob("*") if p.is_file()]
    assert sorted(p.name for p in (home / "lake").rglob("*") if p.is_file()) == sorted(good)
    assert len([p for p in (home / "quarantine").rglob("*") if p.is_file()]) == bad
    with lakegate.connect(home) as con:
        assert con.execute("SELECT file, count(*) FROM s.t GROUP BY file ORDER BY file").fetchall() == sorted(
            good.items()
        )
