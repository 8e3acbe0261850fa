"""Running `lakegate up` as a real subprocess and reading its status lines."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


class Daemon:
    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.home = home
        full_env = {
            **os.environ,
            "LAKEGATE_INGEST__SETTLE_SECONDS": "0.1",
            "LAKEGATE_INGEST__RECONCILE_SECONDS": "0.5",
        }
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [python, "-m", "lakegate", "up", "--home", str(home), *(args or [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self.lines: list[str] = []
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr += line

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"lakegate up exited with {self.proc.returncode}: {self.stderr}")
            time.sleep(0.05)
        raise AssertionError(f"timed out; status lines: {self.lines}; stderr: {self.stderr[-2000:]}")

    def wait_lines(self, n: int, timeout: float = 60) -> list[str]:
        self.wait_until(lambda: len(self.lines) >= n, timeout)
        return self.lines

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=5)
        self._err_reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def deliveries(n: int, bad_every: int) -> tuple[list[tuple[str, bytes]], dict[str, int], int]:
    """``n`` distinct CSV objects for table s.t (every ``bad_every``-th one empty), the rows each
    good file holds, and the number of bad ones. Each row names its file, so a query can count
    rows per file and catch any loss or doubling."""
    plan: list[tuple[str, bytes]] = []
    good: dict[str, int] = {}
    bad = 0
    for i in range(n):
        name = f"f{i:03d}.csv"
        if i % bad_every == 7:
            plan.append((f"landing/s/t/{name}", b""))
            bad += 1
            continue
        rows = 1 + i % 4
        good[name] = rows
        body = b"file,n\n" + b"".join(b"%s,%d\n" % (name.encode(), j) for j in range(rows))
        plan.append((f"landing/s/t/{name}", body))
    return plan, good, bad


def kill_while_delivering(
    home: Path,
    plan: list[tuple[str, bytes]],
    deliver: Callable[[str, bytes], None],
    rng: random.Random,
    pause: tuple[float, float],
    min_kills: int = 4,
) -> int:
    """Deliver ``plan`` from a thread while `lakegate up` is started and kill -9'd again and again."""

    def provider() -> None:
        for key, data in plan:
            deliver(key, data)
            time.sleep(rng.uniform(0, 0.02))

    writer = threading.Thread(target=provider)
    writer.start()
    kills = 0
    while writer.is_alive() or kills < min_kills:
        daemon = Daemon(home)
        time.sleep(rng.uniform(*pause))
        daemon.kill()
        kills += 1
    writer.join()
    return kills


def run_until_drained(home: Path, landing_empty: Callable[[], bool], timeout: float = 120) -> None:
    """Start `lakegate up` once more and stop it when landing is empty and the ledger idle."""
    from lakegate.app import open_app

    final = Daemon(home)
    try:
        final.wait_until(landing_empty, timeout=timeout)
        app = open_app(home)
        try:
            final.wait_until(lambda: app.catalog.active_objects() == [], timeout=60)
        finally:
            app.close()
    finally:
        final.stop()


def lake_files(home: Path) -> list[Path]:
    """The files of the lake, without the derived area's Parquet copies (disposable, written in
    the background by acceleration)."""
    derived = home / "lake" / "_derived"
    return [p for p in (home / "lake").rglob("*") if p.is_file() and derived not in p.parents]
