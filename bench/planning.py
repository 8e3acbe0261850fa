"""Planning a query over a table of 100,000 partitions, against the same over one partition.

Registers a table partitioned by day and hour (4,167 days × 24 hours = 100,008 files, one per
partition) in a SQLite catalog, then times ``engine.plan()`` — the guard, the catalog's table
(kept in memory while unchanged), pruning from partition values and the views — for queries that
filter on the partition keys, and the same queries over a table of one partition (the baseline,
same process). Also: the first plan of all (the whole table read from the catalog, the index
built), the first plan after one more file arrived (only the new file read in full), and a whole
query (plan, engine instance, scan) that reads one day of the big table.

    .venv/bin/python bench/planning.py [partitions]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import median, print_table
from lakegate.app import open_app
from lakegate.duck.readers import FilePlan
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.schema import Column

COLUMNS = [Column("id", "id", "BIGINT", 1), Column("amount", "amount", "DOUBLE", 1)]
QUERIES = [
    ("one hour", "SELECT count(*), sum(amount) FROM b.{t} WHERE dt = '{day}' AND hr = '12'"),
    ("one day", "SELECT count(*), sum(amount) FROM b.{t} WHERE dt = '{day}'"),
    ("one week", "SELECT count(*) FROM b.{t} WHERE dt BETWEEN '{day}' AND '{week}'"),
    ("days IN", "SELECT count(*) FROM b.{t} WHERE dt IN ('{day}', '{week}') AND hr >= '20'"),
]


def entries(table: str, days: int, hours: int) -> list[dict[str, Any]]:
    plan = FilePlan("csv", {"delim": ",", "quote": '"', "escape": '"', "header": True}, COLUMNS, 2)
    out = []
    start = dt.date(2015, 1, 1)
    for d in range(days):
        day = (start + dt.timedelta(days=d)).isoformat()
        for h in range(hours):
            path = f"dt={day}/hr={h:02d}"
            out.append(
                {
                    "url": f"lake/b/{table}/{path}/part.csv",
                    "size": 20,
                    "version": f"{table}{d}-{h}",
                    "plan": plan,
                    "partition": {"dt": day, "hr": f"{h:02d}"},
                    "partition_path": path,
                    "derived": "",
                    "location": f"lake/b/{table}",
                }
            )
    return out


def main() -> None:
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    days = max(1, partitions // 24)
    root = Path(tempfile.mkdtemp(prefix="lakegate-plan-"))
    app = open_app(root / "home", create=True)
    big, small = entries("big", days, 24), entries("small", 1, 1)
    for e in big[24 * 100 : 24 * 101] + small:  # the day the whole query reads, and the small table
        app.store.write(e["url"], b"id,amount\n1,2.5\n2,3.5\n")
    started = time.perf_counter()
    app.catalog.register_crawled("b", "big", "lake/b/big", big)
    app.catalog.register_crawled("b", "small", "lake/b/small", small)
    registered = time.perf_counter() - started
    day = big[24 * 100]["partition"]["dt"]
    week = (dt.date.fromisoformat(day) + dt.timedelta(days=6)).isoformat()
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        started = time.perf_counter()
        cold = engine.plan(QUERIES[0][1].format(t="big", day=day, week=week))
        cold_ms = (time.perf_counter() - started) * 1000
        rows = []
        for name, template in QUERIES:
            timings: dict[str, float] = {}
            kept = 0
            for table in ("small", "big"):
                sql = template.format(t=table, day=day, week=week)
                times = []
                for _ in range(25):
                    t = time.perf_counter()
                    plan = engine.plan(sql)
                    times.append((time.perf_counter() - t) * 1000)
                timings[table] = median(times)
                kept = plan.files
            rows.append([name, f"{kept:,}", f"{timings['small']:.2f}", f"{timings['big']:.2f}",
                         f"{timings['big'] / timings['small']:.2f}x"])  # fmt: skip
        extra = entries("big", days + 1, 24)[-1:]  # one more hour arrives
        app.catalog.register_crawled("b", "big", "lake/b/big", extra)
        started = time.perf_counter()
        after = engine.plan(QUERIES[0][1].format(t="big", day=day, week=week))
        after_ms = (time.perf_counter() - started) * 1000
        sql = QUERIES[1][1].format(t="big", day=day, week=week)
        started = time.perf_counter()
        answer = engine.execute(sql).table.to_pylist()
        first_run = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        engine.execute(sql)
        again = (time.perf_counter() - started) * 1000
    finally:
        engine.close()
        app.close()
    print(f"table: {len(big):,} partitions, one file each (registered in {registered:.1f} s)")
    print_table(
        ["query", "files kept", "plan ms, 1 partition", f"plan ms, {len(big):,}", "ratio"],
        rows,
    )
    print(
        f"first plan (the table read from the catalog, its index built): {cold_ms:.0f} ms, kept {cold.files}"
    )
    print(
        f"first plan after one more file arrived: {after_ms:.1f} ms,"
        f" kept {after.files} of {after.files_total:,}"
    )
    print(
        f"one day of the big table, whole query: {first_run:.1f} ms first, {again:.1f} ms again -> {answer}"
    )


if __name__ == "__main__":
    main()
