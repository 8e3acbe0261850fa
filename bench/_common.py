"""Helpers shared by the benchmarks: percentiles, tables and a `lakegate up` subprocess."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def alternate_medians(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median milliseconds of ``ours`` and ``theirs``, run in turns so machine noise hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        for run, times in ((ours, a), (theirs, b)):
            t = time.perf_counter()
            run()
            times.append((time.perf_counter() - t) * 1000)
    return median(a), median(b)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Up:
    """`lakegate up` as a subprocess; counts its status lines, keeps its stderr."""

    def __init__(self, home: Path, args: list[str] | None = None, **settings: str) -> None:
        env = {**os.environ, **{f"LAKEGATE_{k.upper()}": v for k, v in settings.items()}}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lakegate", "up", "--home", str(home), *(args or [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.times: list[float] = []  # time.monotonic() of each status line
        self.stderr = ""
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        deadline = time.monotonic() + 60
        while "lakegate is up" not in self.stderr:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"lakegate up did not start: {self.stderr}")
            time.sleep(0.05)
        time.sleep(1.0)  # workers warmed up, first listing done

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.times.append(time.monotonic())
            self.lines.append(line)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr += line

    def children(self) -> list[int]:
        """The pids of its worker processes (judges, engines)."""
        children = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
        return children

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU used so far by `lakegate up` itself and by its worker processes."""
        return process_cpu(self.proc.pid), sum(process_cpu(pid) for pid in self.children())

    def peak_rss_mb(self) -> tuple[float, float]:
        """The peak resident memory so far of `lakegate up` itself, and the sum of its worker
        processes' peaks (each process's own high-water mark: together an upper bound)."""
        return peak_rss_mb(self.proc.pid), sum(peak_rss_mb(pid) for pid in self.children())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0  # gone meanwhile
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


SHOP_SQL = "SELECT region, count(*), sum(amount) FROM shop.orders GROUP BY region ORDER BY 1"


def shop_lake(up: Up, home: Path) -> tuple[str, Path]:
    """Land a 5000-row shop.orders into a running lakegate and make an analyst, ann, who may
    read it: ann's token, and the lake file (for in-process DuckDB to read the same data)."""
    from lakegate.app import open_app
    from lakegate.auth.principals import Principals
    from lakegate.query.permissions import Grants

    landed = home / "landing" / "shop" / "orders" / "a.csv"
    landed.parent.mkdir(parents=True)
    landed.write_text(
        "id,region,amount\n" + "".join(f"{i},{'EUNA'[i % 2 * 2 :][:2]},{i % 97}.5\n" for i in range(5000))
    )
    deadline = time.monotonic() + 60
    while not up.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    app = open_app(str(home))
    try:
        Principals(app.catalog).add("ann")
        token, _ = Principals(app.catalog).create_token("ann")
        Grants(app.catalog).grant(principal="ann", database="shop", by="bench")
    finally:
        app.close()
    return token, next((home / "lake").rglob("a.csv"))


def latency_row(
    clients: int, session: Callable[[], Callable[[], object]], per_client: int, base_ms: float
) -> list[str]:
    """``clients`` threads at once, each opening ``session()`` (its connection: a function running
    one query) and timing ``per_client`` queries: the row clients, p50, p99, queries/s and p50
    against ``base_ms``."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        query = session()
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            query()
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    p50 = percentile(latencies, 50)
    return [str(clients), f"{p50:.1f}", f"{percentile(latencies, 99):.1f}", f"{len(latencies) / elapsed:.0f}",
            f"{p50 / base_ms:.1f}"]  # fmt: skip
