"""Athena's API on lakegate: a small query end to end through boto3 (StartQueryExecution → poll
GetQueryExecution → GetQueryResults) against the same query through `POST /v1/query`, in turns.

Starts `lakegate up --http-port 0 --aws-port 0` on a fresh home with the 5000-row shop.orders,
as the analyst ann (token for HTTP, AWS key for boto3), so both paths are authenticated, guarded,
rewritten through ann's grant and recorded in the history. Target: < 50 ms end to end through
boto3 for a small query (Athena's own floor is 1–3 s).

    .venv/bin/python bench/athena_api.py [repeats]
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHOP_SQL, Up, median, percentile, print_table, shop_lake


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-") as tmp:
        home = Path(tmp) / "home"
        up = Up(home, ["--http-port", "0", "--aws-port", "0"])
        try:
            http = re.search(r"HTTP API: (http://127\.0\.0\.1:\d+)/", up.stderr)
            aws = re.search(r"endpoint_url=(http://127\.0\.0\.1:\d+)", up.stderr)
            assert http and aws, up.stderr
            token, _lake_file = shop_lake(up, home)
            key, secret = _aws_key(home)
            athena = boto3.session.Session().client(
                "athena", endpoint_url=aws.group(1), region_name="eu-west-1",
                aws_access_key_id=key, aws_secret_access_key=secret,
            )  # fmt: skip
            client = httpx.Client(base_url=http.group(1), headers={"Authorization": f"Bearer {token}"})

            def through_athena() -> None:
                started = athena.start_query_execution(QueryString=SHOP_SQL)["QueryExecutionId"]
                while True:
                    state = athena.get_query_execution(QueryExecutionId=started)["QueryExecution"]["Status"]
                    if state["State"] not in ("QUEUED", "RUNNING"):
                        break
                assert state["State"] == "SUCCEEDED", state
                rows = athena.get_query_results(QueryExecutionId=started)["ResultSet"]["Rows"]
                assert len(rows) == 3  # the labels, EU, NA

            def through_http() -> None:
                answer = client.post("/v1/query", json={"sql": SHOP_SQL})
                answer.raise_for_status()
                assert answer.json()["row_count"] == 2

            for _ in range(5):  # warm both
                through_athena()
                through_http()
            times: dict[str, list[float]] = {"boto3 (Athena API)": [], "POST /v1/query": []}
            for _ in range(repeats):
                for name, run in (("boto3 (Athena API)", through_athena), ("POST /v1/query", through_http)):
                    t = time.perf_counter()
                    run()
                    times[name].append((time.perf_counter() - t) * 1000)
            base = median(times["POST /v1/query"])
            print(f"small query (`{SHOP_SQL}`), {repeats} runs each, in turns:\n")
            print_table(
                ["path", "p50 ms", "p95 ms", "vs /v1/query"],
                [
                    [name, f"{median(t):.1f}", f"{percentile(t, 95):.1f}", f"{median(t) / base:.2f}x"]
                    for name, t in times.items()
                ],
            )
            boto = median(times["boto3 (Athena API)"])
            print(f"\nend to end through boto3: {boto:.1f} ms (target < 50 ms; Athena: 1000-3000 ms)")
        finally:
            up.stop()


def _aws_key(home: Path) -> tuple[str, str]:
    from lakegate.app import open_app
    from lakegate.server.aws.app import aws_keys

    app = open_app(str(home))
    try:
        secret, info = aws_keys(app).create("ann", note="bench")
    finally:
        app.close()
    return info.id, secret


if __name__ == "__main__":
    main()
