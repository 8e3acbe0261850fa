"""Arrival to query: from the last byte a provider writes to the first query that sees the rows.

Three processes, as in real use: `lakegate up`; a writer process that writes each file in 64 KB
chunks into landing/ and reports the time of its last byte; a querier process (lakegate.connect)
that polls `count(*)` of the file's new partition until its rows appear. Prints p50/p95/max per
kind and the ratio of p95 to the 1 s target. Usage: python bench/arrival_to_query.py [files-per-kind]
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentile, print_table, start_up

WRITER = textwrap.dedent(
    """
    import sys, time, os
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    data = open(src, "rb").read()
    with open(dst, "wb") as out:
        for i in range(0, len(data), 65536):
            out.write(data[i:i + 65536])
            out.flush()
    print(repr(time.time()), flush=True)
    """
)

QUERIER = textwrap.dedent(
    """
    import sys, time, lakegate
    con = lakegate.connect(sys.argv[1])
    for line in sys.stdin:
        table, part, expected = line.split()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                n = con.execute(f"SELECT count(*) FROM {table} WHERE n = ?", [part]).fetchone()[0]
            except lakegate.LakegateError:
                n = -1
            if n >= int(expected):
                print(repr(time.time()), flush=True)
                break
            time.sleep(0.01)
        else:
            sys.exit(f"{table} partition {part} never showed {expected} rows")
    """
)


def make_sources(folder: Path, per_kind: int) -> dict[str, list[tuple[Path, int]]]:
    """Distinct files (identical content would be skipped as a duplicate), made before timing starts."""
    con = duckdb.connect()
    out: dict[str, list[tuple[Path, int]]] = {}
    for name, rows in (("csv_1mb", 21_000), ("csv_10mb", 210_000), ("parquet", 500_000)):
        out[name] = []
        for i in range(per_kind):
            path = folder / f"{name}-{i}.{'parquet' if name == 'parquet' else 'csv'}"
            fmt = "(FORMAT parquet)" if name == "parquet" else "(HEADER)"
            con.execute(
                f"COPY (SELECT range + {i * rows} AS id, 'customer ' || (range % 997) AS customer,"
                f" round(random() * 1000, 2) AS amount, range % 13 AS qty,"
                f" TIMESTAMP '2026-01-01' + INTERVAL (range) SECOND AS ts"
                f" FROM range({rows})) TO '{path}' {fmt}"
            )
            out[name].append((path, rows))
    return out


def main() -> None:
    per_kind = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        root = Path(tmp)
        sources = make_sources(root, per_kind)
        sizes = {kind: files[0][0].stat().st_size / 1e6 for kind, files in sources.items()}
        home = root / "home"
        daemon = start_up(home)
        querier = subprocess.Popen(
            [sys.executable, "-c", QUERIER, str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert querier.stdin and querier.stdout
        results: dict[str, list[float]] = {}
        try:
            for kind, files in sources.items():
                results[kind] = []
                for i, (path, rows) in enumerate(files):
                    ext = ".parquet" if kind == "parquet" else ".csv"
                    dst = home / "landing" / "bench" / kind / f"n={i:03d}" / f"file{ext}"
                    done = subprocess.run(
                        [sys.executable, "-c", WRITER, str(path), str(dst)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    last_byte = float(done.stdout)
                    querier.stdin.write(f"bench.{kind} {i:03d} {rows}\n")
                    querier.stdin.flush()
                    answer = querier.stdout.readline()
                    if not answer:
                        raise SystemExit(f"the querier gave up on {dst}")
                    seen = float(answer)
                    results[kind].append((seen - last_byte) * 1000)
        finally:
            querier.kill()
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    print(f"arrival to query, {per_kind} files per kind, default settings (settle_seconds 0.2)")
    table = []
    for kind in sources:
        ms = results[kind]
        p95 = percentile(ms, 95)
        size = sizes[kind]
        p50 = percentile(ms, 50)
        table.append(
            [
                kind,
                f"{size:.1f} MB",
                f"{p50:.0f} ms",
                f"{p95:.0f} ms",
                f"{max(ms):.0f} ms",
                f"{p95 / 1000:.2f}",
            ]
        )
    print_table(["kind", "size", "p50", "p95", "max", "p95 / 1 s target"], table)


if __name__ == "__main__":
    main()
