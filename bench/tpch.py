"""TPC-H delivered as CSV files: how soon lakegate answers, and how fast, against its peers and
against the limit. One run, same machine, same files (DuckDB's dbgen, ``--scale``, default 0.2):

- DuckDB on the CSV files in place (views over ``read_csv``);
- DuckDB converting the CSV files to Parquet, then querying those: the limit — every byte read
  once, written once, then queried natively;
- ROAPI (DataFusion), which loads the CSV files into memory first, queried over its HTTP API on
  free ports (its PostgreSQL default, 5432, is taken here);
- lakegate as shipped: the 8 files copied into landing/ of a running `lakegate up`, timed until
  every file is queryable and until every one is accelerated, then the 22 queries;
- lakegate with ``ingest.copy_while_judging`` (a large file's copy written in the read that
  judges it);
- lakegate with acceleration off (the files in place), then accelerated by hand.

Answers are compared with DuckDB's over its converted Parquet files (numbers to 1e-9 relative);
the last lines give the issue's targets as ratios to the limit.

    .venv/bin/python bench/tpch.py [--scale 1]     (make bench installs ROAPI)
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
from decimal import Decimal
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
    if (
        isinstance(a, float | Decimal)
        and isinstance(b, float | Decimal)
        and (type(a) is not type(b) or isinstance(a, float))
    ):
        a, b = float(a), float(b)  # a DECIMAL in one reader may be a DOUBLE in another
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def run_all(
    run: Any, queries: list[tuple[int, str]], times: list[float] | None = None
) -> tuple[float, list[Any], list[int]]:
    """Seconds for the 22 queries, their answers, and the numbers of those that failed; each
    query's seconds appended to ``times``."""
    answers, failed = [], []
    started = time.perf_counter()
    for n, sql in queries:
        began = time.perf_counter()
        try:
            answers.append(run(sql))
        except Exception as exc:  # a peer that cannot run one query: counted, reported
            failed.append(n)
            answers.append(None)
            print(f"  query {n} failed: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
        if times is not None:
            times.append(time.perf_counter() - began)
    return time.perf_counter() - started, answers, failed


def duckdb_over(folder: Path, reader: str, suffix: str) -> Any:
    from lakegate.duck import connect

    conn = connect()
    for t in TABLES:
        conn.execute(f"CREATE VIEW {t} AS SELECT * FROM {reader}('{folder}/{t}.{suffix}')")
    return conn


def duckdb_conversion(data: Path) -> float:
    """Seconds DuckDB takes to read the 8 CSV files and write them as Parquet (into
    ``data/converted``): the least any system that reads every byte once must spend."""
    from lakegate.duck import connect

    out = data / "converted"
    out.mkdir()
    conn = connect()
    started = time.perf_counter()
    for t in TABLES:
        conn.execute(
            f"COPY (SELECT * FROM read_csv('{data}/csv/{t}.csv')) TO '{out}/{t}.parquet' (FORMAT parquet)"
        )
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def deliver(up: Up, home: Path, data: Path, timeout: float = 900) -> tuple[float, float]:
    """Copy the 8 CSV files into landing/ of ``up`` at once: when the copies were done
    (``time.monotonic()``), and seconds from then until the last file is queryable."""
    for t in TABLES:
        target = home / "landing" / "tpch" / t
        target.mkdir(parents=True)
        # copyfile, not copy: lakegate may take the file before a chmod after it could run
        shutil.copyfile(data / "csv" / f"{t}.csv", target / f"{t}.csv")
    copied = time.monotonic()
    while len(up.lines) < len(TABLES):
        if time.monotonic() - copied > timeout:
            raise RuntimeError(f"not queryable after {timeout} s: {up.lines} {up.stderr}")
        time.sleep(0.01)
    return copied, max(up.times) - copied


def run_tpch(
    home: Path, queries: list[tuple[int, str]], times: list[float] | None = None
) -> tuple[float, list[Any], list[int]]:
    """The 22 queries through ``lakegate.connect`` (after one to warm up), as ``run_all``."""
    import lakegate

    mine = [(n, qualified(q, "tpch")) for n, q in queries]
    with lakegate.connect(home=home) as con:
        run = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        run_all(run, mine[:1])  # warm-up: the engine, the catalog
        return run_all(run, mine, times)


def lakegate_as_delivered(
    home: Path, data: Path, queries: list[tuple[int, str]], **settings: str
) -> dict[str, Any]:
    """lakegate as shipped (acceleration on, ``settings`` as given): the files copied into
    landing/ at once; seconds until every file is queryable and until every one is accelerated;
    the 22 queries then."""
    from lakegate.app import open_app
    from lakegate.catalog import acceleration

    up = Up(home, **settings)
    copied, queryable = deliver(up, home, data)
    app = open_app(home)
    try:
        while acceleration.progress(app.catalog)["accelerated"] < len(TABLES):
            if time.monotonic() - copied > 900:
                raise RuntimeError(f"not accelerated after 900 s: {acceleration.progress(app.catalog)}")
            time.sleep(0.05)
        accelerated = time.monotonic() - copied
    finally:
        app.close()
    rss = up.peak_rss_mb()
    up.stop()
    times: list[float] = []
    total, answers, failed = run_tpch(home, queries, times)
    return {"queryable": queryable, "accelerated": accelerated, "queries": total, "answers": answers,
            "failed": failed, "rss": rss, "times": times}  # fmt: skip


def lakegate_part(home: Path, data: Path, queries: list[tuple[int, str]]) -> dict[str, Any]:
    from lakegate.app import open_app
    from lakegate.ingest.accelerate import Accelerator

    up = Up(home, ingest__accelerate="off")
    _, queryable = deliver(up, home, data)
    up.stop()
    in_place, before, failed_before = run_tpch(home, queries)
    app = open_app(home)
    accelerator = Accelerator(app.catalog, app.store, lambda: app.settings, threads=2, memory_limit="4GB")
    t0 = time.perf_counter()
    done = accelerator.run_pending()
    accelerating = time.perf_counter() - t0
    app.close()
    biggest = max(done, key=lambda d: d.bytes)
    accelerated, after, failed_after = run_tpch(home, queries)
    return {
        "queryable": queryable, "in_place": in_place, "accelerate": accelerating,
        "accelerated": accelerated, "same": same(before, after), "exact": before == after,
        "before": before, "after": after,
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


def agreeing(answers: list[Any], truth: list[Any]) -> str:
    """How many of the 22 answers equal DuckDB's over the Parquet files it converted."""
    return (
        f"{sum(1 for a, b in zip(answers, truth, strict=True) if a is not None and same(a, b))}/{len(truth)}"
    )


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
        csv_time, csv_answers, csv_failed = run_all(lambda sql: csv_conn.execute(sql).fetchall(), queries)
        pq_conn = duckdb_over(root / "parquet", "read_parquet", "parquet")
        pq_time, _truth, pq_failed = run_all(lambda sql: pq_conn.execute(sql).fetchall(), queries)
        converting = duckdb_conversion(root)
        cv_conn = duckdb_over(root / "converted", "read_parquet", "parquet")
        cv_times: list[float] = []
        cv_time, truth, cv_failed = run_all(lambda sql: cv_conn.execute(sql).fetchall(), queries, cv_times)
        shipped = lakegate_as_delivered(root / "shipped", root, queries)
        at_once = lakegate_as_delivered(root / "at_once", root, queries, ingest__copy_while_judging="true")
        ours = lakegate_part(root / "home", root, queries)
        roapi = roapi_part(root, queries)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    limit = cv_time
    rows = [
        ["DuckDB views over the CSV files", "0", f"{csv_time:.2f}", f"{csv_time / limit:.2f}x",
         agreeing(csv_answers, truth)],
        ["DuckDB converting to Parquet, then querying it (the limit)", f"{converting:.2f}", f"{cv_time:.2f}",
         "1.00x", f"{22 - len(cv_failed)}/22 ran"],
        ["ROAPI (loads into memory)", f"{roapi['load']:.2f}", f"{roapi['queries']:.2f}",
         f"{roapi['queries'] / limit:.2f}x", f"{22 - len(roapi['failed'])}/22 ran"],
        ["lakegate, files copied into landing/", f"{shipped['queryable']:.2f} (accelerated at "
         f"{shipped['accelerated']:.2f})", f"{shipped['queries']:.2f}", f"{shipped['queries'] / limit:.2f}x",
         agreeing(shipped["answers"], truth)],
        ["lakegate, ingest.copy_while_judging", f"{at_once['queryable']:.2f} (accelerated at "
         f"{at_once['accelerated']:.2f})", f"{at_once['queries']:.2f}", f"{at_once['queries'] / limit:.2f}x",
         agreeing(at_once["answers"], truth)],
        ["lakegate, acceleration off: in place", f"{ours['queryable']:.2f}", f"{ours['in_place']:.2f}",
         f"{ours['in_place'] / limit:.2f}x", agreeing(ours["before"], truth)],
        ["lakegate, then accelerated by hand", f"+{ours['accelerate']:.2f}", f"{ours['accelerated']:.2f}",
         f"{ours['accelerated'] / limit:.2f}x", agreeing(ours["after"], truth)],
    ]  # fmt: skip
    print_table(
        ["TPC-H SF " + str(scale), "s until queryable", "22 queries, s", "vs the limit", "answers"], rows
    )
    big = ours["biggest"]
    failed = sorted(
        set(csv_failed + pq_failed + cv_failed + shipped["failed"] + at_once["failed"] + ours["failed"])
    )
    print(
        f"targets: queryable {shipped['queryable'] / converting:.2f}x DuckDB's conversion (<= 1.5x), "
        f"accelerated {shipped['accelerated'] / converting:.2f}x (<= 2x), "
        f"queries {shipped['queries'] / limit:.2f}x DuckDB on its Parquet (<= 1.15x); with "
        f"copy_while_judging: queryable {at_once['queryable'] / converting:.2f}x, accelerated "
        f"{at_once['accelerated'] / converting:.2f}x; "
        f"DuckDB on dbgen's own Parquet: {pq_time:.2f} s; "
        f"failed: {failed or 'none'}"
    )
    ratios = [
        (mine / theirs, n) for mine, theirs, (n, _q) in zip(shipped["times"], cv_times, queries, strict=True)
    ]
    worst = sorted(ratios, reverse=True)[:3]
    print(
        "slowest queries against the limit (target: none above 1.5x): "
        + ", ".join(f"Q{n} {r:.2f}x" for r, n in worst)
    )
    up_rss, workers_rss = shipped["rss"]
    print(
        f"peak memory while the files were delivered and accelerated: lakegate up {up_rss:.0f} MB, "
        f"its worker processes {workers_rss:.0f} MB (sum of their peaks), "
        f"together at most {up_rss + workers_rss:.0f} MB (target < 2 GB at scale 1)"
    )
    print(
        f"same rows in place and accelerated: {ours['same']} (bit for bit: {ours['exact']}); "
        f"copies: {ours['outcomes']}; "
        f"lineitem.csv {ours['lineitem_csv_mb']:.0f} MB accelerated in {big.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
