"""Query overhead: the same queries through lakegate.connect() and through raw DuckDB on the same files.

Builds about 1 GB of CSV in 8 partitions plus a small table, ingests them with lakegate, then
runs each query alternately through both paths and prints medians and ratios. The raw DuckDB
side is what an expert would write by hand: one connection, views with explicit columns and
dialect over the same files, the same thread and memory limits, no guard and no sandbox.
Usage: python bench/query_overhead.py [gigabytes] [repeats]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
import lakegate
from _common import alternate_medians, print_table
from lakegate.app import open_app
from lakegate.ingest.pipeline import Pipeline

BYTES_PER_ROW = 97  # of the generated CSV, measured
# The dialect spelled out, as lakegate does from its catalog: neither side sniffs at query time.
DIALECT = "auto_detect=false, delim=',', quote='\"', escape='\"', header=true"


QUERIES = [
    ("scan: count + sum", "SELECT count(*), sum(amount) FROM big.sales", "scan"),
    (
        "scan: group by",
        "SELECT category, count(*), avg(amount) FROM big.sales GROUP BY category ORDER BY 1",
        "scan",
    ),
    (
        "scan: filter + top-n",
        "SELECT id, amount FROM big.sales WHERE qty = 7 ORDER BY amount DESC LIMIT 10",
        "scan",
    ),
    ("small: point lookup", "SELECT * FROM small.customers WHERE id = 4242", "small"),
    ("small: aggregate", "SELECT region, count(*) FROM small.customers GROUP BY region ORDER BY 1", "small"),
    ("small: SELECT 1", "SELECT 1", "small"),
]


def build(root: Path, gigabytes: float) -> Path:
    home = root / "home"
    app = open_app(home, create=True)
    con = duckdb.connect()
    rows_per_part = int(gigabytes * 1e9 / BYTES_PER_ROW / 8)
    pipeline = Pipeline(app.catalog, app.store)
    for part in range(8):
        src = root / f"part{part}.csv"
        con.execute(
            f"COPY (SELECT range + {part * rows_per_part} AS id, 'customer-' || (range % 100003) AS customer,"
            f" round(random() * 1000, 2) AS amount, (range % 13)::INTEGER AS qty,"
            f" ['books', 'games', 'food', 'tools', 'garden'][1 + range % 5] AS category,"
            f" TIMESTAMP '2026-01-01' + INTERVAL (range) SECOND AS ts, md5(range::VARCHAR) AS note"
            f" FROM range({rows_per_part})) TO '{src}' (HEADER)"
        )
        key = f"landing/big/sales/part={part}/data.csv"
        with src.open("rb") as stream:
            app.store.write(key, stream)
        src.unlink()
        pipeline.process(key)
    small = root / "customers.csv"
    con.execute(
        f"COPY (SELECT range AS id, 'name ' || range AS name, ['eu', 'us', 'apac'][1 + range % 3] AS region"
        f" FROM range(10000)) TO '{small}' (HEADER)"
    )
    app.store.write("landing/small/customers/customers.csv", small.read_bytes())
    pipeline.process("landing/small/customers/customers.csv")
    app.close()
    return home


def raw_connection(home: Path, threads: int, memory: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory})
    big = sorted(str(p) for p in (home / "lake/big/sales").rglob("*.csv"))
    con.execute("CREATE SCHEMA big; CREATE SCHEMA small")
    con.execute(
        f"CREATE VIEW big.sales AS SELECT * FROM read_csv({big}, {DIALECT}, hive_partitioning=true,"
        " columns={'id': 'BIGINT', 'customer': 'VARCHAR', 'amount': 'DOUBLE', 'qty': 'BIGINT',"
        " 'category': 'VARCHAR', 'ts': 'TIMESTAMP', 'note': 'VARCHAR'})"
    )
    small = str(home / "lake/small/customers/customers.csv")
    con.execute(
        f"CREATE VIEW small.customers AS SELECT * FROM read_csv('{small}', {DIALECT},"
        " columns={'id': 'BIGINT', 'name': 'VARCHAR', 'region': 'VARCHAR'})"
    )
    return con


def main() -> None:
    gigabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 1.1
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory(prefix="lakegate-bench-", dir=Path(__file__).parent.parent) as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        home = build(root, gigabytes)
        size = sum(p.stat().st_size for p in (home / "lake").rglob("*.csv"))
        print(f"built and ingested {size / 1e9:.2f} GB of CSV in {time.perf_counter() - started:.0f} s")
        lg = lakegate.connect(home)
        settings = lg.app.settings.query
        raw = raw_connection(home, settings.threads, settings.memory_limit)
        rows = []
        for label, sql, kind in QUERIES:
            lg.execute(sql).fetchall()  # warm: the first query over a file set builds its instance
            raw.execute(sql).fetchall()
            a, b = alternate_medians(
                lambda sql=sql: lg.execute(sql).fetchall(),
                lambda sql=sql: raw.execute(sql).fetchall(),
                repeats if kind == "scan" else repeats * 20,
            )
            rows.append([label, f"{b:.1f} ms", f"{a:.1f} ms", f"{a / b:.2f}", f"{a - b:+.1f} ms"])
        lg.close()
    print(f"median of {repeats} (scans) / {repeats * 20} (small), {settings.threads} threads each")
    print_table(["query", "raw DuckDB", "lakegate", "ratio", "added"], rows)
    print("targets: ratio <= 1.10 on scans; < 20 ms added on small queries")


if __name__ == "__main__":
    main()
