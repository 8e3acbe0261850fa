"""The HTTP gateway: small-query latency and throughput at 1, 8 and 32 concurrent clients, the
overhead against in-process DuckDB, and streaming a 10-million-row download.

Starts `lakegate up --http-port 0` on a fresh home with one small table, as an analyst with a
grant (so every query is authenticated, guarded, rewritten through its grant and recorded in
the history), then:

- runs the same small aggregate over HTTP from 1, 8 and 32 threads (each its own connection),
  printing p50/p99 latency and queries/s, and the median of the same query run by DuckDB in this
  process on the same file (the ratio is the gateway's whole overhead: HTTP, token, guard,
  grants, history, sandboxed engine);
- downloads `range(10_000_000)` as an Arrow stream, printing rows/s and this client's and the
  server's peak memory (the server streams it batch by batch).

    .venv/bin/python bench/http_gateway.py [queries-per-client] [download-rows]
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

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHOP_SQL, Up, latency_row, median, peak_rss_mb, print_table, shop_lake

SQL = SHOP_SQL


def main() -> None:
    per_client = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    download_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        home = Path(tmp) / "home"
        up = Up(home, ["--http-port", "0"])
        try:
            base = re.search(r"HTTP API: (http://127\.0\.0\.1:\d+)/", up.stderr)
            assert base is not None
            url = base.group(1)
            token, lake_file = shop_lake(up, home)
            headers = {"Authorization": f"Bearer {token}"}

            local = duckdb.connect(config={"threads": 2})
            view = f"CREATE VIEW orders AS SELECT * FROM read_csv('{lake_file}')"
            local.execute(view)
            in_process = []
            for _ in range(30):
                started = time.perf_counter()
                local.execute(SQL.replace("shop.orders", "orders")).fetchall()
                in_process.append((time.perf_counter() - started) * 1000)
            base_ms = median(in_process)

            rows = []
            for clients in (1, 8, 32):

                def session() -> Callable[[], object]:
                    http = httpx.Client(headers=headers, timeout=60)

                    def query() -> None:
                        answer = http.post(f"{url}/v1/query", json={"sql": SQL})
                        assert answer.status_code == 200, answer.text

                    return query

                rows.append(latency_row(clients, session, per_client, base_ms))
            print(
                f"small query over HTTP ({per_client} per client); in-process DuckDB median {base_ms:.2f} ms"
            )
            print_table(["clients", "p50 ms", "p99 ms", "queries/s", "p50 / in-process DuckDB"], rows)

            sql = f"SELECT range AS n, range * 2 AS m FROM range({download_rows})"
            started = time.perf_counter()
            received = 0
            with (
                httpx.Client(headers=headers, timeout=None) as http,
                http.stream(
                    "POST", f"{url}/v1/query/download", json={"sql": sql, "format": "arrow"}
                ) as answer,
            ):
                assert answer.status_code == 200
                for chunk in answer.iter_bytes():
                    received += len(chunk)
            elapsed = time.perf_counter() - started
            server_peak = peak_rss_mb(up.proc.pid)
            print(
                f"download of {download_rows:,} rows as Arrow IPC: {download_rows / elapsed:,.0f} rows/s, "
                f"{received / 1e6 / elapsed:.0f} MB/s ({received / 1e6:.0f} MB); server peak memory "
                f"{server_peak:.0f} MB (the result is {received / 1e6:.0f} MB)"
            )
        finally:
            up.stop()


if __name__ == "__main__":
    main()
