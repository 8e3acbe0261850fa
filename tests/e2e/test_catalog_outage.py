"""A catalog that cannot be written for a while delays ingest; it never loses or doubles anything."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import lakegate
from lakegate.app import open_app
from tests.e2e.daemon import Daemon, deliveries, lake_files
from tests.pgcluster import PrivatePostgres


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
    assert sorted(p.name for p in lake_files(home)) == sorted(good)
    assert len([p for p in (home / "quarantine").rglob("*") if p.is_file()]) == bad
    with lakegate.connect(home) as con:
        assert con.execute("SELECT file, count(*) FROM s.t GROUP BY file ORDER BY file").fetchall() == sorted(
            good.items()
        )


def test_postgres_catalog_down_for_8_seconds_mid_ingest(tmp_path: Path) -> None:
    pg = PrivatePostgres()
    try:
        pg.start()
        home = tmp_path / "home"
        home.mkdir()
        (home / "lakegate.yaml").write_text(f"catalog: {pg.url}\n")
        plan, good, bad = deliveries(40, 8)
        daemon = Daemon(home, env={"LAKEGATE_INGEST__RETRY_MAX_SECONDS": "2"})
        try:
            daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=30)

            def land(batch: list[tuple[str, bytes]]) -> None:
                for key, data in batch:
                    path = home / key
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)

            land(plan)
            daemon.wait_lines(3, timeout=60)
            pg.stop()  # a crash of the catalog server, with most objects in flight
            before = len(daemon.lines)
            time.sleep(8)
            assert daemon.proc.poll() is None
            during = len(daemon.lines)
            pg.start()
            daemon.wait_lines(len(plan), timeout=120)
            time.sleep(1)
        finally:
            daemon.stop()
        print(f"{before} done before the outage, {during} by its end, of {len(plan)}")
        assert during < len(plan)
        assert "catalog" in daemon.stderr  # the outage was reported, not silent
        assert len(daemon.lines) == len(plan)
        assert not [p for p in (home / "landing").rglob("*") if p.is_file()]
        assert sorted(p.name for p in lake_files(home)) == sorted(good)
        assert len([p for p in (home / "quarantine").rglob("*") if p.is_file()]) == bad
        with lakegate.connect(home) as con:
            rows = con.execute("SELECT file, count(*) FROM s.t GROUP BY file ORDER BY file").fetchall()
        assert rows == sorted(good.items())
    finally:
        pg.remove()
