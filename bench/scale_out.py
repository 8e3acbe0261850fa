"""Many nodes on one PostgreSQL catalog and one SeaweedFS bucket: does each node added add work
done, without adding work per file?

1. Ingest: ``files`` small CSV objects PUT by 8 threads into landing while 1, 2, then 3
   `lakegate up` nodes run (each on a fresh catalog database and bucket prefix). Measured from the
   first PUT until the ledger has no active row: files per second, and the CPU-seconds all nodes
   spent (idle work — heartbeats, listing — included) per file. The ratios are against one node;
   the target is CPU per file within 10% of one node's (no file validated twice, little spent
   on coordination). On this machine (2 cores, shared with PostgreSQL, SeaweedFS and the PUTs)
   the wall time cannot scale; what N machines would reach is predicted from CPU per file.
2. Result reuse is per node (each node keeps results in memory): the same query with
   ``reuse_max_age_minutes`` first on node a (a run), again on a (reused), then on node b (a run
   again: the cost of a miss on another node), median milliseconds over ``repeats``.
Usage: python bench/scale_out.py [files] [repeats]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests import s3server
from tests.conftest import pg_database
from tests.e2e.cluster import Cluster, csv_files
from tests.s3server import SeaweedS3

from _common import median, print_table, process_cpu

LEASE = 6.0


def cpu(cluster: Cluster) -> float:
    return sum(process_cpu(node.proc.pid) for node in cluster.nodes.values())


def ingest(root: Path, server: SeaweedS3, nodes: int, files: int) -> tuple[float, float, dict[str, int]]:
    """Files per second, CPU-seconds per file, and how many files each node took."""
    with pg_database() as url:
        (root / f"n{nodes}").mkdir()
        cluster = Cluster(root / f"n{nodes}", url, server, lease_seconds=LEASE)
        try:
            for name in "abc"[:nodes]:
                cluster.start(name)
            time.sleep(2.0)  # start-up work done, first listing taken
            batch = csv_files(files)
            before = cpu(cluster)
            began = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda kv: cluster.put(*kv), batch.items()))
            cluster.wait_until(lambda: cluster.ledger_idle(files), 600, "every delivery taken")
            took = time.monotonic() - began
            spent = cpu(cluster) - before
            per_key = cluster.sql("SELECT count(*) FROM objects GROUP BY source_key HAVING count(*) > 1")
            assert per_key == [], f"{len(per_key)} keys taken more than once"
            by_node = dict(cluster.sql("SELECT claimed_by, count(*) FROM objects GROUP BY claimed_by"))
        finally:
            cluster.stop_all()
    return files / took, spent / files, by_node


def reuse(root: Path, server: SeaweedS3, repeats: int) -> tuple[float, float, float]:
    """Median ms of a first run on a, a reuse on a, and the same query on b (a miss there)."""
    with pg_database() as url:
        (root / "reuse").mkdir()
        cluster = Cluster(root / "reuse", url, server, lease_seconds=LEASE)
        try:
            for name in "ab":
                cluster.start(name, "--http-port", "0")
            batch = csv_files(300)
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda kv: cluster.put(*kv), batch.items()))
            cluster.wait_until(lambda: cluster.ledger_idle(len(batch)), 600, "every delivery taken")
            first, again, other = [], [], []
            with cluster.http("a") as a, cluster.http("b") as b:
                settle(a)
                for i in range(repeats):
                    sql = f"SELECT file, count(*), sum(n) + {i} FROM s.t GROUP BY file ORDER BY 1"
                    body = {"sql": sql, "reuse_max_age_minutes": 60}
                    for http, times, reused in ((a, first, False), (a, again, True), (b, other, False)):
                        t = time.perf_counter()
                        got = http.post("/v1/query", json=body).json()
                        times.append((time.perf_counter() - t) * 1000)
                        assert got["reused"] is reused, got
        finally:
            cluster.stop_all()
    return median(first), median(again), median(other)


def settle(http: httpx.Client) -> None:
    """Wait for the table's files to stop changing (acceleration copies, compaction): a result
    is reused only over the same files."""
    body = {"sql": "SELECT count(*) FROM s.t", "reuse_max_age_minutes": 60}
    deadline = time.monotonic() + 120
    while not http.post("/v1/query", json=body).json()["reused"]:
        assert time.monotonic() < deadline, "the table's files kept changing"
        time.sleep(1.0)


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = s3server.start(root / "seaweedfs")
        try:
            results = {n: ingest(root, server, n, files) for n in (1, 2, 3)}
            runs = reuse(root, server, repeats)
        finally:
            server.stop()
    rate1, cpu1, _ = results[1]
    print(f"\nIngest, {files} small CSV objects, {os.cpu_count()} cores shared by everything:")
    rows = []
    for n, (rate, per_file, by_node) in results.items():
        shares = ", ".join(f"{k}: {v}" for k, v in sorted(by_node.items()))
        predicted = n / per_file  # files/s with n machines, each one core busy on validation
        rows.append([
            str(n), f"{rate:.1f}", f"{rate / rate1:.2f}x", f"{per_file * 1000:.1f}",
            f"{per_file / cpu1:.2f}x", f"{predicted:.0f}", shares,
        ])  # fmt: skip
    print_table(
        ["nodes", "files/s", "vs 1", "CPU ms/file", "vs 1", "files/s predicted (1 core/node)", "taken by"],
        rows,
    )
    first, again, other = runs
    print(f"\nResult reuse (per node), median of {repeats}:")
    print_table(
        ["query", "ms", "vs first run"],
        [
            ["first run on a", f"{first:.1f}", "1.00x"],
            ["same query on a (reused)", f"{again:.1f}", f"{again / first:.2f}x"],
            ["same query on b (a miss: runs)", f"{other:.1f}", f"{other / first:.2f}x"],
        ],
    )


if __name__ == "__main__":
    main()
