"""The 22 TPC-H queries on DuckDB and on Spark (local[2], the Spark Connect server of the pyspark
wheel) through lakegate, over the same lake, and what lakegate adds to Spark.

The lake: TPC-H at ``--scale`` (default 0.05) delivered as CSV files, with their Parquet copies
written (both engines read the copies). Per query, the median of ``--repeats`` runs of:

- DuckDB through lakegate (``QueryEngine.execute``);
- Spark through lakegate (``SparkEngine.execute``: plan, a kept session, the views it lacks,
  the query, the result as Arrow); its first run, the views made, is shown apart;
- Spark called directly with the same views, created once beforehand in one session: only the
  query and its result. lakegate's overhead is the ratio of the two (target: at most 1.1x).

    .venv/bin/python bench/engines.py [--scale 0.05] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests import sparkserver
from tests.ingest.test_pipeline import deliver

from _common import print_table
from lakegate.app import open_app
from lakegate.duck import connect, load_extension
from lakegate.ingest.accelerate import Accelerator
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.spark_engine import SparkEngine
from lakegate.query.engines.spark_sessions import Session
from lakegate.query.engines.spark_views import query_sql, spark_views
from tpch import TABLES, qualified, same


def timed(run: Any, repeats: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeats`` runs, and the last answer."""
    times, answer = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        conn = connect()
        load_extension(conn, "tpch")
        conn.execute(f"CALL dbgen(sf={args.scale})")
        queries = [
            (int(n), qualified(str(q), "tpch"))
            for n, q in conn.execute("SELECT * FROM tpch_queries()").fetchall()
        ]
        app = open_app(root / "home", create=True)
        for table in TABLES:
            path = root / f"{table}.csv"
            conn.execute(f"COPY {table} TO '{path}' (HEADER, DELIMITER ',')")
            deliver(app, f"landing/tpch/{table}/{table}.csv", path.read_bytes())
        conn.close()
        Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
        server = sparkserver.start(root)
        duck = QueryEngine(app.catalog, app.store, app.settings.query)
        spark = SparkEngine(app.catalog, app.store, app.settings.query, server.url)
        direct = Session(spark._session())  # the direct calls: one session, the views made once
        rows, totals, differ = [], [0.0, 0.0, 0.0], []
        try:
            for n, sql in queries:
                plan = spark.planner.plan(sql)
                views = spark_views(plan, spark._address)
                direct.load(views)
                direct_sql = query_sql(sql, views.names)
                d_ms, d_answer = timed(lambda sql=sql: duck.execute(sql).table.to_pylist(), args.repeats)
                cold_ms, _ = timed(lambda sql=sql: spark.execute(sql), 1)  # its views made in a session
                ours, theirs = [], []  # alternated, so that the machine's drift hits both alike
                for _ in range(args.repeats):
                    ms, s_answer = timed(lambda sql=sql: spark.execute(sql).table.to_pylist(), 1)
                    ours.append(ms)
                    theirs.append(timed(lambda q=direct_sql: direct.spark.sql(q).toArrow(), 1)[0])
                s_ms, x_ms = statistics.median(ours), statistics.median(theirs)
                if not same([list(r.values()) for r in d_answer], [list(r.values()) for r in s_answer]):
                    differ.append(n)
                for i, ms in enumerate((d_ms, s_ms, x_ms)):
                    totals[i] += ms
                rows.append([f"Q{n}", f"{d_ms:.0f}", f"{cold_ms:.0f}", f"{s_ms:.0f}", f"{x_ms:.0f}",
                             f"{s_ms / x_ms:.2f}x",
                             "duckdb" if d_ms < s_ms else "spark"])  # fmt: skip
        finally:
            direct.stop()
            spark.close()
            duck.close()
            server.stop()
            app.close()
    print(f"\nTPC-H scale {args.scale}, median of {args.repeats} runs, ms (Parquet copies):")
    header = ["query", "DuckDB", "Spark via lakegate, first", "Spark via lakegate", "Spark direct"]
    print_table([*header, "lakegate overhead", "faster"], rows)
    d, s, x = totals
    print(f"\nall 22: DuckDB {d:.0f} ms, Spark via lakegate {s:.0f} ms, Spark direct {x:.0f} ms; "
          f"lakegate over Spark {s / x:.2f}x; Spark over DuckDB {s / d:.1f}x")  # fmt: skip
    print(f"answers equal to DuckDB's: {22 - len(differ)} of 22" + (f" (differ: {differ})" if differ else ""))


if __name__ == "__main__":
    main()
