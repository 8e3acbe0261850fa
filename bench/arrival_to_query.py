"""Arrival to query: from the last byte a provider writes to the first query that sees the rows.

Three processes, as in real use: `lakegate up`; a writer process that delivers each file and
reports the time it is done; a querier process (lakegate.connect) that polls `count(*)` of the
file's new partition until its rows appear. Two ways of delivering, each timed: written in one go
(64 KB chunks straight into the final name; done at its close) and renamed into place (written
under a hidden name in the same folder, then renamed; done at the rename). Prints p50/p95/max per
kind and way, and the ratio of p95 to the 1 s target.
Usage: python bench/arrival_to_query.py [files-per-kind]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _common import Up, percentile, print_table

WRITER = textwrap.dedent(
    """
    import sys, time, os
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    data = open(src, "rb").read()
    rename = sys.argv[3].startswith("renamed")
    target = os.path.join(os.path.dirname(dst), ".partial-" + os.path.basename(dst)) if rename else dst
    with open(target, "wb") as out:
        for i in range(0, len(data), 65536):
            out.write(data[i:i + 65536])
            out.flush()
    if rename:
        os.rename(target, dst)
    print(repr(time.time()), flush=True)
    """
)

QUERIER = textwrap.dedent(
    """
    import sys, time, lakegate
    con = lakegate.connect(sys.argv[1])
    print("ready", flush=True)
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


def make_sources(folder: Path, per_kind: int, first: int = 0) -> dict[str, list[tuple[Path, int]]]:
    """Distinct files (identical content would be skipped as a duplicate), made before timing
    starts; ``first`` numbers them, so that two sets never share content."""
    con = duckdb.connect()
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[tuple[Path, int]]] = {}
    for name, rows in (("csv_1mb", 21_000), ("csv_10mb", 210_000), ("parquet", 500_000)):
        out[name] = []
        for i in range(first, first + per_kind):
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


class Querier:
    """A separate process polling lakegate.connect(home) until a partition shows its rows."""

    def __init__(self, home: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", QUERIER, str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":  # connected before the first delivery
            raise SystemExit("the querier did not start")

    def seen_at(self, table: str, part: str, rows: int) -> float:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{table} {part} {rows}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise SystemExit(f"the querier gave up on {table} n={part}")
        return float(answer)

    def close(self) -> None:
        self.proc.kill()


Deliver = Callable[[Path, str], float]  # (source file, landing key) -> time.time() of arrival


def measure(
    home: Path, sources: dict[str, list[tuple[Path, int]]], deliver: Deliver, way: str = ""
) -> dict[str, list[float]]:
    """Milliseconds from arrival to the first query that sees the rows, per kind."""
    querier = Querier(home)
    results: dict[str, list[float]] = {}
    try:
        for kind, files in sources.items():
            results[kind] = []
            for i, (path, rows) in enumerate(files):
                key = f"landing/bench/{kind}/n={way[:1]}{i:03d}/file{path.suffix}"
                arrived = deliver(path, key)
                seen = querier.seen_at(f"bench.{kind}", f"{way[:1]}{i:03d}", rows)
                results[kind].append((seen - arrived) * 1000)
    finally:
        querier.close()
    return results


def report(
    sources: dict[str, list[tuple[Path, int]]], by_way: dict[str, dict[str, list[float]]], target_ms: float
) -> None:
    table = []
    for (way, results), (kind, files) in ((w, s) for w in by_way.items() for s in sources.items()):
        ms = results[kind]
        p95 = percentile(ms, 95)
        table.append(
            [
                way,
                kind,
                f"{files[0][0].stat().st_size / 1e6:.1f} MB",
                f"{percentile(ms, 50):.0f} ms",
                f"{p95:.0f} ms",
                f"{max(ms):.0f} ms",
                f"{p95 / target_ms:.2f}",
            ]
        )
    headers = ["delivered", "kind", "size", "p50", "p95", "max", f"p95 / {target_ms / 1000:g} s target"]
    print_table(headers, table)


def write_in_chunks(home: Path, way: str) -> Deliver:
    """A writer process writing the file in 64 KB chunks into the landing folder (``way``
    ``rename``: under a hidden name, then renamed into place)."""

    def deliver(path: Path, key: str) -> float:
        done = subprocess.run(
            [sys.executable, "-c", WRITER, str(path), str(home / key), way],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout)

    return deliver


def main() -> None:
    per_kind = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        root = Path(tmp)
        ways = ("in one go", "renamed into place")
        sources = {way: make_sources(root / f"w{n}", per_kind, n * per_kind) for n, way in enumerate(ways)}
        home = root / "home"
        (home / "landing").mkdir(parents=True)
        daemon = Up(home)
        try:
            results = {way: measure(home, sources[way], write_in_chunks(home, way), way) for way in ways}
        finally:
            daemon.stop()
        print(f"arrival to query, {per_kind} files per kind, default settings")
        report(sources[ways[0]], results, 1000)


if __name__ == "__main__":
    main()
