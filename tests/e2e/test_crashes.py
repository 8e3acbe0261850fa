"""Invariant 1 under real kills: nothing lost, nothing doubled, whatever instant the process dies."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

import lakegate
from lakegate.app import open_app
from lakegate.catalog import records as r
from tests.e2e.daemon import Daemon, deliveries, kill_while_delivering, lake_files, run_until_drained

ACCEPT_POINTS = [r.VALIDATED, r.COPIED, r.CATALOGED, "before_remove_source", r.DONE]
REJECT_POINTS = [r.REJECTED, r.QUARANTINE_COPIED, r.QUARANTINED]
DUPLICATE_POINTS = [r.DUPLICATE, r.SKIPPED]


def write(home: Path, key: str, data: bytes) -> None:
    path = home / "landing" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def assert_settled(home: Path, good: dict[str, int], bad: int) -> None:
    """Landing empty, each good file in the lake once with its rows once, each bad one quarantined once."""
    assert [p for p in (home / "landing").rglob("*") if p.is_file() and not p.name.startswith(".")] == []
    lake = sorted(p.name for p in lake_files(home))  # partial copies included
    assert lake == sorted(good)
    assert len([p for p in (home / "quarantine").rglob("*") if p.is_file()]) == bad
    app = open_app(home)
    try:
        assert app.catalog.active_objects() == []
    finally:
        app.close()
    if good:
        with lakegate.connect(home) as con:
            rows = con.execute("SELECT file, count(*) FROM s.t GROUP BY file ORDER BY file").fetchall()
        assert rows == sorted(good.items())


def run_until_settled(home: Path, expected_lines: int) -> Daemon:
    daemon = Daemon(home)
    try:
        if expected_lines:
            daemon.wait_lines(expected_lines, timeout=90)
        else:  # nothing left to do: give the reconciler a full pass to prove it does nothing
            daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=30)
            time.sleep(1.5)
    finally:
        daemon.stop()
    assert len(daemon.lines) == expected_lines, daemon.lines
    return daemon


@pytest.mark.parametrize("point", ACCEPT_POINTS + REJECT_POINTS + DUPLICATE_POINTS)
def test_sigkill_at_every_ledger_transition(tmp_path: Path, point: str) -> None:
    home = tmp_path / "home"
    mark = tmp_path / "hit"
    good = {"a.csv": 2}
    if point in DUPLICATE_POINTS:
        write(home, "s/t/a.csv", b"file,n\na.csv,1\na.csv,2\n")
        run_until_settled(home, 1)
        write(home, "s/t/a.csv", b"file,n\na.csv,1\na.csv,2\n")  # the same delivery again
    elif point in REJECT_POINTS:
        write(home, "s/t/empty.csv", b"")
        good = {}
    else:
        write(home, "s/t/a.csv", b"file,n\na.csv,1\na.csv,2\n")
    crashing = Daemon(home, env={"LAKEGATE_TEST_CRASH_AT": point, "LAKEGATE_TEST_CRASH_MARK": str(mark)})
    assert crashing.proc.wait(timeout=90) == -9, crashing.stderr
    crashing.stop()
    assert mark.read_text().split() == [point]  # the kill happened exactly there
    run_until_settled(home, 0 if point in r.TERMINAL else 1)
    assert_settled(home, good, bad=0 if good else 1)


def test_kill_9_at_random_moments_while_200_files_arrive(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rng = random.Random(20261127)
    plan, good, bad = deliveries(200, 25)

    (home / "landing").mkdir(parents=True)
    kills = kill_while_delivering(
        home, plan, lambda key, data: write(home, key.removeprefix("landing/"), data), rng, pause=(0.8, 2.5)
    )
    run_until_drained(
        home,
        lambda: not [p for p in (home / "landing").rglob("*") if p.is_file() and not p.name.startswith(".")],
    )
    assert kills >= 4
    assert_settled(home, good, bad)


@pytest.mark.parametrize("point", [r.CATALOGED, "archive_copied", "before_remove_source"])
def test_sigkill_while_a_delivery_replaces_a_file(tmp_path: Path, point: str) -> None:
    """The replaced file ends in the archive exactly once, the new one in the table, whatever the kill."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "lakegate.yaml").write_text(
        'datasets:\n  - {name: t, key: "landing/s/t/{name}", database: s, table: t, duplicates: replace}\n'
    )
    write(home, "s/t/a.csv", b"file,n\nold,1\n")
    run_until_settled(home, 1)
    write(home, "s/t/a.csv", b"file,n\nnew,1\nnew,2\n")
    mark = tmp_path / "hit"
    crashing = Daemon(home, env={"LAKEGATE_TEST_CRASH_AT": point, "LAKEGATE_TEST_CRASH_MARK": str(mark)})
    assert crashing.proc.wait(timeout=90) == -9, crashing.stderr
    crashing.stop()
    assert mark.read_text().split() == [point]
    run_until_settled(home, 1)
    archive = home / "lake" / "_archive"
    in_lake = [p for p in lake_files(home) if archive not in p.parents]
    assert [p.read_bytes() for p in in_lake] == [b"file,n\nnew,1\nnew,2\n"]
    assert [p.read_bytes() for p in archive.rglob("*") if p.is_file()] == [b"file,n\nold,1\n"]
    app = open_app(home)
    try:
        assert [(a.state, a.cause) for a in app.catalog.archived()] == [(r.ARCHIVED, "replaced")]
    finally:
        app.close()
    with lakegate.connect(home) as con:
        assert con.execute("SELECT file, count(*) FROM s.t GROUP BY file").fetchall() == [("new", 2)]
