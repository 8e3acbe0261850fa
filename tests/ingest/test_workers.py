"""Ingest in worker processes: the same outcomes as threads, errors that keep their codes."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

from lakegate import errors
from lakegate.app import App
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.service import IngestService
from tests.ingest.test_service import wait_for


def test_errors_cross_process_boundaries_with_their_code_and_hint() -> None:
    error = errors.StorageError("S3 read failed", code="storage.read", hint="check it", transient=True)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.StorageError and str(again) == "S3 read failed (check it)"
    assert (again.code, again.transient, again.details) == ("storage.read", True, {})


def test_worker_processes_take_files_like_threads(app: App) -> None:
    app.settings.ingest.processes = 2
    outcomes: list[Outcome] = []
    service = IngestService(app, on_outcome=outcomes.append)
    service.start()
    try:
        for n in range(12):
            path = app.home.landing / "s" / "t" / f"dt={n % 3}" / f"{n}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"id,name\n%d,x\n" % n if n != 5 else b"")
        wait_for(lambda: len(outcomes) == 12, timeout=60)
    finally:
        service.stop()
    assert sorted(o.kind for o in outcomes) == ["accepted"] * 11 + ["quarantined"]
    [bad] = [o for o in outcomes if o.kind == "quarantined"]
    assert bad.reason_code == "reject.empty" and bad.source_key == "landing/s/t/dt=2/5.csv"
    assert app.catalog.active_objects() == []
    assert not [p for p in app.home.landing.rglob("*") if p.is_file()]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def test_workers_die_with_a_killed_daemon(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "LAKEGATE_INGEST__PROCESSES": "2"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "lakegate", "up", "--home", str(home)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(daemon.pid)) < 2:  # multiprocessing may add a resource tracker
            assert time.monotonic() < deadline and daemon.poll() is None
            time.sleep(0.1)
        workers = _children(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the daemon"
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_a_worker_that_dies_is_replaced_and_its_object_taken_again(app: App) -> None:
    app.settings.ingest.processes = 2
    outcomes: list[Outcome] = []
    service = IngestService(app, on_outcome=outcomes.append)
    before = _children(os.getpid())
    service.start()
    try:
        workers = _children(os.getpid()) - before
        assert len(workers) >= 2
        os.kill(min(workers), signal.SIGKILL)  # e.g. the kernel's OOM killer
        time.sleep(0.5)
        for n in range(6):
            path = app.home.landing / "s" / "t" / f"{n}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"id\n%d\n" % n)
        wait_for(lambda: len(outcomes) == 6, timeout=60)
    finally:
        service.stop()
    assert sorted(o.kind for o in outcomes) == ["accepted"] * 6
    assert app.catalog.active_objects() == []
