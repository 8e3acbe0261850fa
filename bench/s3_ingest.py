"""lakegate on S3 (SeaweedFS on loopback): arrival to query, small-object throughput, query overhead.

1. Arrival to query for 1 MB and 10 MB CSV and Parquet, twice: with S3 event notifications
   (POST /v1/events/s3 right after each PUT, as S3 would send them) and with the reconciler alone
   (events off, ingest.reconcile_seconds at its default). Arrival is when the PUT returns; the
   end is the first query in another process that sees the rows.
2. Throughput: 1,000 small CSV objects PUT by 8 threads with their events, from the first PUT to
   the last status line of `lakegate up`.
3. The same queries through lakegate.connect() and through raw DuckDB httpfs over the same S3
   objects (explicit columns and dialect, the read-only identity), as a ratio.
Usage: python bench/s3_ingest.py [files-per-kind] [small-objects]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests import s3server
from tests.s3server import SeaweedS3

import lakegate
from _common import Up, alternate_medians, print_table, process_cpu
from arrival_to_query import Deliver, make_sources, measure, report
from lakegate.duck import load_extension

DIALECT = "auto_detect=false, delim=',', quote='\"', escape='\"', header=true"
COLUMNS = "{'id': 'BIGINT', 'customer': 'VARCHAR', 'amount': 'DOUBLE', 'qty': 'BIGINT', 'ts': 'TIMESTAMP'}"
QUERIES = [
    ("10 MB CSVs: count + sum", "SELECT count(*), sum(amount) FROM bench.csv_10mb"),
    ("parquet: group by", "SELECT qty, count(*), avg(amount) FROM bench.parquet GROUP BY qty ORDER BY 1"),
    (
        "1 MB CSVs: top-n",
        "SELECT id, amount FROM bench.csv_1mb WHERE qty = 7 ORDER BY amount DESC, id LIMIT 10",
    ),
]


def new_home(root: Path, server: SeaweedS3, name: str) -> tuple[Path, str]:
    home = root / name
    home.mkdir()
    prefix = server.new_prefix()
    (home / "lakegate.yaml").write_text(s3server.s3_config(server, prefix))
    return home, prefix


def notification(bucket: str, key: str, size: int) -> dict[str, Any]:
    record = {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/"), "size": size}}
    return {"Records": [{"eventName": "ObjectCreated:Put", "s3": record}]}


def put_to(server: SeaweedS3, prefix: str, events_url: str | None, jitter: float = 0) -> Deliver:
    """PUT each file (and POST its event); ``jitter``: wait up to that long first, at random."""
    client = server.client()
    http = httpx.Client(timeout=10)

    def deliver(path: Path, key: str) -> float:
        time.sleep(random.uniform(0, jitter))
        data = path.read_bytes()
        client.put_object(Bucket=server.bucket, Key=f"{prefix}/{key}", Body=data)
        arrived = time.time()
        if events_url:
            http.post(events_url, json=notification(server.bucket, f"{prefix}/{key}", len(data)))
        return arrived

    return deliver


def arrival(root: Path, server: SeaweedS3, sources: dict[str, list[tuple[Path, int]]], events: bool) -> Path:
    home, prefix = new_home(root, server, "events" if events else "reconciler")
    port = s3server.free_ports(1)[0]
    daemon = Up(home, args=["--events-port", str(port)] if events else [])
    try:
        url = f"http://127.0.0.1:{port}/v1/events/s3" if events else None
        # Without events, a delivery right after the previous one was seen would always land just
        # after a listing; real arrivals fall anywhere in the interval.
        results = measure(home, sources, put_to(server, prefix, url, jitter=0 if events else 2.0))
    finally:
        daemon.stop()
    per_kind = len(next(iter(sources.values())))
    how = (
        "with events" if events else "reconciler alone (events off, reconcile_seconds 2, arrivals at random)"
    )
    print(f"\narrival to query on S3, {how}, {per_kind} files per kind")
    report(sources, results, 1500)
    return home


def small_object(prefix: str, n: int) -> tuple[str, bytes]:
    key = f"{prefix}/landing/bench/small/part={n % 10}/obj-{n:05d}.csv"
    return key, f"id,name,amount\n{n},name {n},{n * 1.5}\n{n + 1},other {n},{n / 3}\n".encode()


def throughput(root: Path, server: SeaweedS3, count: int) -> None:
    """Live: 8 threads PUT objects and send their events while lakegate runs. Backlog: the
    objects are in landing before `lakegate up` starts (its first listing finds them all)."""
    client = server.client()
    rows = []
    for mode in ("live", "backlog"):
        home, prefix = new_home(root, server, f"throughput-{mode}")
        port = s3server.free_ports(1)[0]
        url = f"http://127.0.0.1:{port}/v1/events/s3"
        http = httpx.Client(timeout=30)

        def put(
            n: int, events: bool, prefix: str = prefix, url: str = url, http: httpx.Client = http
        ) -> None:
            key, body = small_object(prefix, n)
            client.put_object(Bucket=server.bucket, Key=key, Body=body)
            if events:
                http.post(url, json=notification(server.bucket, key, len(body)))

        if mode == "backlog":
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda n: put(n, events=False), range(count)))
        daemon = Up(home, args=["--events-port", str(port)])
        try:
            seaweed_cpu, own_cpu, lakegate_cpu = (
                process_cpu(server.process.pid),
                time.process_time(),
                daemon.cpu_seconds(),
            )
            started = time.monotonic()
            if mode == "live":
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda n: put(n, events=True), range(count)))
            deadline = time.monotonic() + 600
            while len(daemon.lines) < count:
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(daemon.lines)} of {count} objects ingested")
                time.sleep(0.01)
            daemon_cpu, workers_cpu = (
                now - then for now, then in zip(daemon.cpu_seconds(), lakegate_cpu, strict=True)
            )
            seaweed_cpu = process_cpu(server.process.pid) - seaweed_cpu
            own_cpu = time.process_time() - own_cpu
        finally:
            daemon.stop()
        if mode == "live":
            elapsed = daemon.times[-1] - started
        else:  # ingest had begun before `lakegate is up` printed: time first to last status line
            elapsed = (daemon.times[-1] - daemon.times[0]) * count / (count - 1)
        accepted = sum(1 for line in daemon.lines if line.startswith("accepted"))
        rate = count / elapsed
        per = [f"{cpu / count * 1000:.1f}" for cpu in (daemon_cpu, workers_cpu, seaweed_cpu, own_cpu)]
        rows.append(
            [mode, str(count), str(accepted), f"{elapsed:.1f} s", f"{rate:.0f}", f"{rate / 50:.2f}", *per]
        )
    workers = daemon.stderr.split("(", 1)[1].split(",", 1)[0] if "(" in daemon.stderr else "?"
    print(f"\ningest throughput on S3, {count} small objects, {workers}, 2 cores shared with SeaweedFS")
    print_table(
        [
            "mode",
            "objects",
            "accepted",
            "time",
            "objects/s",
            "rate / 50/s",
            "CPU ms/obj: daemon",
            "workers",
            "SeaweedFS",
            "uploader",
        ],
        rows,
    )


def raw_connection(server: SeaweedS3, home: Path) -> duckdb.DuckDBPyConnection:
    """What an expert writes by hand: httpfs, a secret for the read-only identity, explicit views."""
    con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
    load_extension(con, "httpfs")
    host = server.endpoint.removeprefix("http://")
    con.execute(
        f"CREATE SECRET (TYPE s3, KEY_ID '{s3server.QUERY[0]}', SECRET '{s3server.QUERY[1]}', "
        f"ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')"
    )
    prefix = (home / "lakegate.yaml").read_text().split(f"s3://{server.bucket}/", 1)[1].split("/", 1)[0]
    con.execute("CREATE SCHEMA bench")
    listed = server.client().get_paginator("list_objects_v2")
    for table in ("csv_1mb", "csv_10mb", "parquet"):
        urls = [
            f"s3://{server.bucket}/{item['Key']}"
            for page in listed.paginate(Bucket=server.bucket, Prefix=f"{prefix}/lake/bench/{table}/")
            for item in page.get("Contents", [])
        ]
        reader = (
            f"read_parquet({urls}, hive_partitioning=true)"
            if table == "parquet"
            else f"read_csv({urls}, {DIALECT}, columns={COLUMNS}, hive_partitioning=true)"
        )
        con.execute(f"CREATE VIEW bench.{table} AS SELECT * FROM {reader}")
    return con


def rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with floats to 6 significant digits: parallel sums differ in the last bits."""
    return [tuple(float(f"{v:.6g}") if isinstance(v, float) else v for v in row) for row in rows]


def query_ratio(server: SeaweedS3, home: Path, repeats: int) -> None:
    ours = lakegate.connect(home)
    raw = raw_connection(server, home)
    rows = []
    for label, sql in QUERIES:
        if rounded(ours.execute(sql).fetchall()) != rounded(raw.execute(sql).fetchall()):
            raise SystemExit(f"lakegate and raw DuckDB disagree on {sql}")
        a, b = alternate_medians(
            lambda sql=sql: ours.execute(sql).fetchall(), lambda sql=sql: raw.execute(sql).fetchall(), repeats
        )
        rows.append([label, f"{b:.0f} ms", f"{a:.0f} ms", f"{a / b:.2f}"])
    ours.close()
    print(f"\nthe same query over S3, median of {repeats}, 2 threads each")
    print_table(["query", "raw DuckDB httpfs", "lakegate", "ratio"], rows)


def main() -> None:
    per_kind = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    small = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        root = Path(tmp)
        server = s3server.start(root / "seaweedfs")
        try:
            sources = make_sources(root, per_kind)
            home = arrival(root, server, sources, events=True)
            arrival(root, server, sources, events=False)
            throughput(root, server, small)
            query_ratio(server, home, 5)
        finally:
            server.stop()
    print("\ntargets: p95 under 1.5 s for a 10 MB CSV; at least 50 small objects/s; query ratio near 1")


if __name__ == "__main__":
    main()
