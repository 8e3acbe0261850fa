"""The PostgreSQL front end under load, against a real `lakegate up --pg-port 0 --http-port 0`.

- fetches a 5-million-row result (two BIGINT columns and a short text) through psycopg in binary,
  through the HTTP Arrow download, and in-process DuckDB, printing rows/s and the ratios;
- times connection set-up (TCP, start-up, SCRAM-SHA-256 with a token), median and p99;
- runs a small query on 32 concurrent connections (each its own thread), printing p50/p99 and
  queries/s;
- prints the server's peak memory.

    .venv/bin/python bench/pgwire.py [rows] [queries-per-connection]
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHOP_SQL, Up, latency_row, median, peak_rss_mb, percentile, print_table, shop_lake

SMALL = SHOP_SQL


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    per_connection = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    big = f"SELECT range AS n, range * 2 AS m, 'row ' || (range % 1000) AS s FROM range({rows})"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        up = Up(home, ["--pg-port", "0", "--http-port", "0"])
        try:
            port_found = re.search(r"PostgreSQL: postgresql://<user>@127\.0\.0\.1:(\d+)/", up.stderr)
            http_found = re.search(r"HTTP API: (http://127\.0\.0\.1:\d+)/", up.stderr)
            assert port_found is not None and http_found is not None, up.stderr
            port, url = int(port_found.group(1)), http_found.group(1)
            token, lake_file = shop_lake(up, home)
            dsn = f"host=127.0.0.1 port={port} user=ann password={token} dbname=lake sslmode=disable"

            # -- a large result, three ways
            local = duckdb.connect(config={"threads": 2})
            started = time.perf_counter()
            reader = local.execute(big).to_arrow_reader(65536)
            in_process_rows = sum(b.num_rows for b in reader)
            in_process = time.perf_counter() - started
            started = time.perf_counter()
            with (
                httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=None) as http,
                http.stream(
                    "POST", f"{url}/v1/query/download", json={"sql": big, "format": "arrow"}
                ) as answer,
            ):
                received = sum(len(c) for c in answer.iter_bytes())
            over_http = time.perf_counter() - started
            started = time.perf_counter()
            with psycopg.connect(dsn, autocommit=True) as conn:
                cursor = conn.cursor(binary=True)
                cursor.execute(big)
                fetched = len(cursor.fetchall())
            over_pg = time.perf_counter() - started
            assert in_process_rows == fetched == rows, (in_process_rows, fetched)
            print(f"a {rows:,}-row result (BIGINT, BIGINT, text): rows/s and time against in-process DuckDB")
            print_table(
                ["path", "seconds", "rows/s", "time / in-process DuckDB"],
                [
                    ["in-process DuckDB (Arrow)", f"{in_process:.2f}", f"{rows / in_process:,.0f}", "1.0"],
                    [
                        "HTTP Arrow download",
                        f"{over_http:.2f}",
                        f"{rows / over_http:,.0f}",
                        f"{over_http / in_process:.1f}",
                    ],
                    [
                        "psycopg binary (fetchall)",
                        f"{over_pg:.2f}",
                        f"{rows / over_pg:,.0f}",
                        f"{over_pg / in_process:.1f}",
                    ],
                ],
            )
            print(f"(HTTP: {received / 1e6:.0f} MB; psycopg/HTTP time ratio {over_pg / over_http:.1f})")

            # -- connection set-up
            setups = []
            for _ in range(30):
                started = time.perf_counter()
                psycopg.connect(dsn).close()
                setups.append((time.perf_counter() - started) * 1000)
            print(f"connection set-up (SCRAM-SHA-256): median {median(setups):.1f} ms, "
                  f"p99 {percentile(setups, 99):.1f} ms")  # fmt: skip

            # -- 32 concurrent connections, small queries
            base = []
            local.execute(f"CREATE VIEW orders AS SELECT * FROM read_csv('{lake_file}')")
            for _ in range(30):
                started = time.perf_counter()
                local.execute(SMALL.replace("shop.orders", "orders")).fetchall()
                base.append((time.perf_counter() - started) * 1000)
            table = []
            for connections in (1, 8, 32):

                def session() -> Callable[[], object]:
                    conn = psycopg.connect(dsn, autocommit=True)
                    return lambda: conn.execute(SMALL).fetchall()

                table.append(latency_row(connections, session, per_connection, median(base)))
            print(f"small query over the PostgreSQL protocol ({per_connection} per connection); "
                  f"in-process DuckDB median {median(base):.2f} ms")  # fmt: skip
            print_table(["connections", "p50 ms", "p99 ms", "queries/s", "p50 / in-process DuckDB"], table)
            print(f"server peak memory {peak_rss_mb(up.proc.pid):.0f} MB")
        finally:
            up.stop()


if __name__ == "__main__":
    main()
