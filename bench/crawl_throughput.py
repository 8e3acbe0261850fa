"""How fast `lakegate crawl` catalogs data already in a store, against DuckDB reading the same files.

Three sets, crawled into a fresh home each time, in this process:

- 1,000 small CSV files (200 rows, 6 columns) in 28 date partitions. Target: at least 100 files/s.
- 1,000 Parquet files of the same rows. Target: at least 500 files/s (footers only).
- One large CSV (1 GB by default), crawled in a child process so its peak memory is its own:
  MB/s and peak RSS. Memory must stay bounded (the file is streamed, never loaded).

The baseline is DuckDB alone doing the least a catalog needs per file, one connection, the same
files: for CSV a count of every column over `read_csv` with auto-detection (every value parsed;
the crawler also gathers its own dialect evidence, checks dates, and computes statistics in
that read), with the threads lakegate uses (one for small files, two for the large one); for
Parquet the footer's row count. The ratios say what lakegate's extra care costs.

    .venv/bin/python bench/crawl_throughput.py [--files N] [--big-mb MB]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from lakegate.app import open_app
from lakegate.ingest.crawl import Crawl
from lakegate.storage import LocalStore

SELECT = (
    "SELECT {base} + range AS id, 'customer ' || (range % 97) AS name, round(range * 1.37, 2) AS amount, "
    "DATE '2026-01-01' + (range % 300)::INT AS day, range % 3 = 0 AS flag, "
    "TIMESTAMP '2026-01-01 08:00:00' + INTERVAL (range) MINUTE AS at FROM range({rows})"
)


def make_files(root: Path, count: int, fmt: str) -> None:
    conn = duckdb.connect()
    for i in range(count):
        folder = root / "orders" / f"dt=2026-01-{i % 28 + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        options = "HEADER" if fmt == "csv" else "FORMAT parquet"
        conn.execute(
            f"COPY ({SELECT.format(base=i * 200, rows=200)}) TO '{folder}/part-{i:05d}.{fmt}' ({options})"
        )


def crawl(root: Path, work: Path) -> tuple[float, int]:
    home = work / f"home-{time.monotonic_ns()}"
    app = open_app(str(home), create=True)
    try:
        started = time.perf_counter()
        report = Crawl(app.catalog, LocalStore(root), app.store, database="bench", max_tables=5).run()
        seconds = time.perf_counter() - started
        assert not report.rejected, report.rejected[:3]
        return seconds, report.read
    finally:
        app.close()
        shutil.rmtree(home, ignore_errors=True)


def duckdb_baseline(root: Path, fmt: str, threads: int = 1) -> float:
    conn = duckdb.connect(config={"threads": threads})
    files = sorted(root.rglob(f"*.{fmt}"))
    started = time.perf_counter()
    for f in files:
        if fmt == "csv":  # every value parsed, as a catalog that proves the file reads must
            conn.execute(f"SELECT count(COLUMNS(*)) FROM read_csv('{f}')").fetchall()
        else:
            conn.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata('{f}')").fetchall()
    return time.perf_counter() - started


def small_files(work: Path, count: int) -> None:
    for fmt, target in (("csv", 100), ("parquet", 500)):
        root = work / f"small-{fmt}"
        make_files(root, count, fmt)
        seconds, read = crawl(root, work)
        base = duckdb_baseline(root, fmt)
        rate = read / seconds
        print(f"{count} small {fmt} files: lakegate {rate:7.0f} files/s (target >= {target}: "
              f"{'met' if rate >= target else 'MISSED'}); DuckDB alone {count / base:7.0f} files/s; "
              f"ratio lakegate/DuckDB time {seconds / base:5.2f}")  # fmt: skip


def big_file(work: Path, megabytes: int) -> None:
    root = work / "big"
    (root / "events").mkdir(parents=True)
    path = root / "events" / "events.csv"
    rows = megabytes * 1_000_000 // 68  # about 68 bytes a row
    duckdb.connect().execute(f"COPY ({SELECT.format(base=0, rows=rows)}) TO '{path}' (HEADER)")
    size = path.stat().st_size
    child = (
        "import sys, time; from lakegate.app import open_app; from lakegate.ingest.crawl import Crawl; "
        "from lakegate.storage import LocalStore; app = open_app(sys.argv[2], create=True); "
        "t = time.perf_counter(); "
        "r = Crawl(app.catalog, LocalStore(sys.argv[1]), app.store, database='b').run(); "
        "print(time.perf_counter() - t); assert not r.rejected, r.rejected"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", child, str(root), str(work / "home-big")],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    seconds = float(done.stdout.strip().splitlines()[-1])
    base = duckdb_baseline(root, "csv", threads=2)
    mb = size / 1e6
    print(f"one {mb:.0f} MB CSV: lakegate {mb / seconds:6.1f} MB/s, peak memory {peak_mb:.0f} MB "
          f"({peak_mb / mb:.2f} of the file's size); DuckDB alone (2 threads) {mb / base:6.1f} MB/s; "
          f"ratio lakegate/DuckDB time {seconds / base:5.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mb", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        work = Path(tmp)
        big_file(work, args.big_mb)  # first: the child's peak memory is then its own
        small_files(work, args.files)


if __name__ == "__main__":
    main()
