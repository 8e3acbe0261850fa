"""TPC-H delivered as CSV files: how soon lakegate answers, and how fast, against its peers.

One run, same machine, same files (DuckDB's dbgen, ``--scale``, default 0.2):

- lakegate: time until the 8 files are queryable (`lakegate up`, acceleration off), the 22
  queries over the files in place, the time to write the Parquet copies, the 22 queries again
  over the copies — and whether both give the same rows;
- DuckDB on the CSV files in place (views over ``read_csv``), and on native Parquet files;
- ROAPI (DataFusion), which loads the CSV files into memory first, queried over its HTTP API on
  free ports (its PostgreSQL default, 5432, is taken here).

    .venv/bin/python bench/tpch.py [--scale 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

sys.path.insert(0, str(Path(__file__).parent))
from _common import Up, print_table

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generate(scale: float, folder: Path) -> list[tuple[int, str]]:
    """CSV and Parquet files of the 8 tables in ``folder``; the 22 queries."""
    from lakegate.duck import connect, load_extension

    conn = connect()
    load_extension(conn, "tpch")
    conn.execute(f"CALL dbgen(sf={scale})")
    (folder / "csv").mkdir()
    (folder / "parquet").mkdir()
    for t in TABLES:
        conn.execute(f"COPY {t} TO '{folder}/csv/{t}.csv' (HEADER, DELIMITER ',')")
        conn.execute(f"COPY {t} TO '{folder}/parquet/{t}.parquet' (FORMAT parquet)")
    queries = [
        (int(n), str(q)) for n, q in conn.execute("SELECT query_nr, query FROM tpch_queries()").fetchall()
    ]
    conn.close()
    return queries


def qualified(sql: str, database: str) -> str:
    """The query with its tables named ``database.table`` (lakegate has no default database)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in TABLES and table.name not in ctes:
            table.set("db", exp.to_identifier(database))
    return tree.sql(dialect="duckdb")


def same(a: Any, b: Any) -> bool:
    """Equal answers, floats equal to 1e-9 relative: DOUBLE sums depend on the order in which a
    parallel scan adds them, between any two runs."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def run_all(run: Any, queries: list[tuple[int, str]]) -> tuple[float, list[Any], list[int]]:
    """Seconds for the 22 queries, their answers, and the numbers of those that failed."""
    answers, failed = [], []
    started = time.perf_counter()
    for n, sql in queries:
        try:
            answers.append(run(sql))
        except Exception as exc:  # a peer that cannot run one query: counted, reported
            failed.append(n)
            answers.append(None)
            print(f"  query {n} failed: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
    return time.perf_counter() - started, answers, failed


def duckdb_over(folder: Path, reader: str, suffix: str) -> Any:
    from lakegate.duck import connect

    conn = connect()
    for t in TABLES:
        conn.execute(f"CREATE VIEW {t} AS SELECT * FROM {reader}('{folder}/{t}.{suffix}')")
    return conn


def lakegate_part(home: Path, data: Path, queries: list[tuple[int, str]]) -> dict[str, Any]:
    import lakegate
    from lakegate.app import open_app
    from lakegate.ingest.accelerate import Accelerator

    up = Up(home, ingest__accelerate="off")
    started = time.monotonic()
    for t in TABLES:
        target = home / "landing" / "tpch" / t
        target.mkdir(parents=True)
        shutil.copy(data / "csv" / f"{t}.csv", target / f"{t}.csv")
    copied = time.monotonic()
    while len(up.lines) < len(TABLES):
        if time.monotonic() - started > 600:
            raise RuntimeError(f"not queryable after 600 s: {up.lines} {up.stderr}")
        time.sleep(0.01)
    queryable = max(up.times) - copied
    up.stop()
    mine = [(n, qualified(q, "tpch")) for n, q in queries]
    with lakegate.connect(home=home) as con:
        run = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        run_all(run, mine[:1])  # warm-up: the engine, the catalog
        in_place, before, failed_before = run_all(run, mine)
    app = open_app(home)
    accelerator = Accelerator(app.catalog, app.store, lambda: app.settings, threads=2, memory_limit="4GB")
    t0 = time.perf_counter()
    done = accelerator.run_pending()
    accelerating = time.perf_counter() - t0
    app.close()
    biggest = max(done, key=lambda d: d.bytes)
    with lakegate.connect(home=home) as con:
        run = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        run_all(run, mine[:1])
        accelerated, after, failed_after = run_all(run, mine)
    return {
        "queryable": queryable, "in_place": in_place, "accelerate": accelerating,
        "accelerated": accelerated, "same": same(before, after), "exact": before == after,
        "failed": sorted(set(failed_before + failed_after)),
        "outcomes": sorted({d.outcome for d in done}), "biggest": biggest,
        "lineitem_csv_mb": (data / "csv" / "lineitem.csv").stat().st_size / 1e6,
    }  # fmt: skip


def roapi_part(data: Path, queries: list[tuple[int, str]]) -> dict[str, Any]:
    binary = shutil.which("roapi") or str(Path(sys.executable).parent / "roapi")
    http, pg, flight = free_port(), free_port(), free_port()
    args = [
        binary,
        "-a",
        f"127.0.0.1:{http}",
        "-p",
        f"127.0.0.1:{pg}",
        "--addr-flight-sql",
        f"127.0.0.1:{flight}",
    ]
    for t in TABLES:
        args += ["-t", f"{t}={data}/csv/{t}.csv"]
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{http}/api/sql"

    def run(sql: str) -> Any:
        request = urllib.request.Request(url, data=sql.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read())

    try:
        while True:
            try:
                run("SELECT 1")
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 600:
                    raise RuntimeError(
                        f"roapi did not start: {proc.stderr.read() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.05)
        loaded = time.perf_counter() - started
        total, _answers, failed = run_all(run, queries)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"load": loaded, "queries": total, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.2)
    scale = parser.parse_args().scale
    root = Path(tempfile.mkdtemp(prefix="lakegate-bench-tpch-"))
    try:
        t0 = time.perf_counter()
        queries = generate(scale, root)
        print(f"TPC-H SF {scale}: generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        csv_conn = duckdb_over(root / "csv", "read_csv", "csv")
        csv_time, _a, csv_failed = run_all(lambda sql: csv_conn.execute(sql).fetchall(), queries)
        pq_conn = duckdb_over(root / "parquet", "read_parquet", "parquet")
        pq_time, _b, pq_failed = run_all(lambda sql: pq_conn.execute(sql).fetchall(), queries)
        ours = lakegate_part(root / "home", root, queries)
        roapi = roapi_part(root, queries)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    native = pq_time
    rows = [
        ["DuckDB, CSV in place", f"{csv_time:.2f}", f"{csv_time / native:.2f}x", "", str(csv_failed or "")],
        ["DuckDB, native Parquet", f"{pq_time:.2f}", "1.00x", "", str(pq_failed or "")],
        ["ROAPI (in memory)", f"{roapi['queries']:.2f}", f"{roapi['queries'] / native:.2f}x",
         f"load {roapi['load']:.1f} s", str(roapi["failed"] or "")],
        ["lakegate, files in place", f"{ours['in_place']:.2f}", f"{ours['in_place'] / native:.2f}x",
         f"queryable {ours['queryable']:.2f} s", str(ours["failed"] or "")],
        ["lakegate, accelerated", f"{ours['accelerated']:.2f}", f"{ours['accelerated'] / native:.2f}x",
         f"accelerated in {ours['accelerate']:.1f} s", ""],
    ]  # fmt: skip
    print_table(["22 queries, one run", "seconds", "vs native Parquet", "", "failed queries"], rows)
    big = ours["biggest"]
    print(
        f"same rows in place and accelerated: {ours['same']} (bit for bit: {ours['exact']}); "
        f"copies: {ours['outcomes']}; "
        f"lineitem.csv {ours['lineitem_csv_mb']:.0f} MB accelerated in {big.seconds:.1f} s; "
        f"accelerated vs DuckDB on CSV: {csv_time / ours['accelerated']:.1f}x faster, "
        f"vs ROAPI: {roapi['queries'] / ours['accelerated']:.2f}x"
    )


if __name__ == "__main__":
    main()
