"""What a dataset's value checks add to judging a large file.

Judges one CSV (2 million rows, ~130 MB) as ingest does — sniff, infer, read in full — first
with no rules, then with a rule of every value check (types, not_null on two columns, unique,
allowed_values, regex, range). The checks' counts are computed inside the crawler's one full
read, so they add only their own arithmetic (a uniqueness hash over every row, a regex per
value...), never a second read. Target: below 2.5 times the judgement without rules (a second
read alone would take it to about 2), measured in turns in this process.

    .venv/bin/python bench/rules_overhead.py [rows]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import alternate_medians
from lakegate import duck
from lakegate.config import DatasetSettings
from lakegate.crawler.detect import detect
from lakegate.ingest.judging import judged as judge
from lakegate.ingest.routing import Dataset

RULES = [
    {"check": "types", "types": {"id": "integer", "amount": "number", "ordered_at": "timestamp"}},
    {"check": "not_null", "columns": ["id", "status"]},
    {"check": "unique", "columns": ["id"]},
    {"check": "allowed_values", "column": "status", "values": ["open", "shipped", "cancelled"]},
    {"check": "regex", "column": "email", "pattern": "[^@]+@[^@]+"},
    {"check": "range", "column": "amount", "min": 0, "max": 100000},
]


def write(path: Path, rows: int) -> None:
    statuses = ("open", "shipped", "cancelled")
    with path.open("w") as out:
        out.write("id,status,amount,email,ordered_at\n")
        for i in range(rows):
            out.write(f"{i},{statuses[i % 3]},{i % 9973}.25,user{i % 5000}@example.com,"
                      f"2026-11-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00\n")  # fmt: skip


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        write(path, rows)
        size = path.stat().st_size
        data = path.read_bytes()
        detected = detect(data[:65536], data[-16:], size)
        del data
        conn = duck.connect(threads=2)
        key = "landing/acme/orders.csv"

        def judged(rules: list[dict[str, object]]) -> None:
            dataset = Dataset(
                DatasetSettings(name="o", key="landing/{c}/{f}", database="{c}", table="t", rules=rules)
            )
            route = dataset.route(key)
            assert route is not None
            with judge(conn, route, str(path), key=key, size=size, detected=detected) as found:
                assert found.warnings == []

        with_rules, without = alternate_medians(lambda: judged(RULES), lambda: judged([]), repeats=3)
        print(f"file: {rows:,} rows, {size / 1e6:.0f} MB CSV")
        print(f"judge without rules:            {without:8.0f} ms")
        print(f"judge with {len(RULES)} value checks:       {with_rules:8.0f} ms")
        print(f"ratio (target < 2.5):           {with_rules / without:8.2f}")


if __name__ == "__main__":
    main()
