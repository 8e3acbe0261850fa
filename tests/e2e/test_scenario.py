"""The rules issue's scenario, end to end through `lakegate up`: three customers deliver two
datasets each (CSV orders and gzip'd NDJSON events, date-stamped names); some files are late,
some re-sent, some broken. Every file's fate and reason is asserted, a config fix is followed by
a replay, and the tables answer queries with exactly the accepted rows."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import subprocess
import sys
from pathlib import Path

from lakegate.app import open_app
from tests.e2e.daemon import Daemon
from tests.ingest.test_pipeline import rows

CONFIG = """\
datasets:
  - name: orders
    key: "landing/{customer}/orders_{date:%Y%m%d}.csv"
    database: "{customer}"
    table: orders
    partition: {dt: "{date:%Y-%m-%d}"}
    formats: [csv]
    compressions: [none]
    rules:
      - {check: required_columns, columns: [order_id, amount]}
      - {check: types, types: {order_id: integer, amount: number}}
      - {check: not_null, columns: [order_id]}
      - {check: unique, columns: [order_id]}
      - {check: rows, min: 1}
      - {check: age, field: date, max_age: 7d, severity: warn}
  - name: events
    key: "landing/{customer}/events_{date:%Y%m%d}.ndjson.gz"
    database: "{customer}"
    table: events
    partition: {dt: "{date:%Y-%m-%d}"}
    formats: [json]
    compressions: [gzip]
    duplicates: replace
    rules:
      - {check: required_columns, columns: [event_id, kind]}
      - {check: allowed_values, column: kind, values: [click, view, buy]}
      - {check: extension}
"""
KINDS = "[click, view, buy]"


def put(home: Path, key: str, data: bytes) -> None:
    path = home / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.rename(path)


def ndjson(*events: tuple[int, str]) -> bytes:
    return gzip.compress(b"".join(b'{"event_id": %d, "kind": "%s"}\n' % (i, k.encode()) for i, k in events))


def fates(lines: list[str]) -> dict[str, list[str]]:
    """Each landing key's status lines, in order."""
    out: dict[str, list[str]] = {}
    for line in lines:
        key = line.split()[1].rstrip(":")
        out.setdefault(key, []).append(line)
    return out


def test_three_customers_two_datasets_late_duplicated_and_broken_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "lakegate.yaml").write_text(CONFIG)
    today = dt.datetime.now(dt.UTC).date()
    d1, d2 = (today - dt.timedelta(days=2)), (today - dt.timedelta(days=1))
    s1, s2 = f"{d1:%Y%m%d}", f"{d2:%Y%m%d}"
    late = today - dt.timedelta(days=20)
    sl = f"{late:%Y%m%d}"
    first = {
        # acme: all good, one late file
        f"landing/acme/orders_{s1}.csv": b"order_id,amount\n1,10.5\n2,20\n",
        f"landing/acme/orders_{s2}.csv": b"order_id,amount\n3,30\n",
        f"landing/acme/orders_{sl}.csv": b"order_id,amount\n99,1\n",
        f"landing/acme/events_{s1}.ndjson.gz": ndjson((1, "click"), (2, "view")),
        f"landing/acme/events_{s2}.ndjson.gz": ndjson((3, "buy"), (4, "refund")),  # refund: not allowed yet
        # globex: a missing column, a text amount, an empty file
        f"landing/globex/orders_{s1}.csv": b"order_id,amount\n1,5\n",
        f"landing/globex/orders_{s2}.csv": b"order_id,total\n2,6\n",
        f"landing/globex/events_{s1}.ndjson.gz": ndjson((1, "view")),
        f"landing/globex/events_{s2}.ndjson.gz": b"",
        # initech: semicolons (read by evidence, not refused), text in a number, wrong extension,
        # a repeated order id
        f"landing/initech/orders_{s1}.csv": b"order_id;amount\n1;7.25\n2;8\n",
        f"landing/initech/orders_{s2}.csv": b"order_id,amount\n3,twelve\n4,12\n",
        f"landing/initech/events_{s1}.ndjson.gz": b'{"event_id": 1, "kind": "buy"}\n',  # not gzip'd
        f"landing/initech/events_{s2}.ndjson.gz": ndjson((1, "click")),
        f"landing/initech/orders_{sl}.csv": b"order_id,amount\n5,1\n5,2\n",
    }
    daemon = Daemon(home)
    try:
        for key, data in first.items():
            put(home, key, data)
        daemon.wait_lines(len(first))
        resent = {
            f"landing/globex/orders_{s1}.csv": first[f"landing/globex/orders_{s1}.csv"],  # identical
            f"landing/acme/events_{s1}.ndjson.gz": ndjson((1, "click"), (2, "view"), (5, "buy")),  # corrected
        }
        for key, data in resent.items():
            put(home, key, data)
        daemon.wait_lines(len(first) + len(resent))
        lines = list(daemon.lines)
        (home / "lakegate.yaml").write_text(CONFIG.replace(KINDS, "[click, view, buy, refund]"))
        daemon.wait_until(lambda: "reloaded lakegate.yaml" in daemon.stderr, timeout=30)
        command = [sys.executable, "-m", "lakegate", "quarantine", "replay", "--home", str(home),
                   "--reason", "reject.rule.allowed_values"]  # fmt: skip
        replay = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert replay.returncode == 0, replay.stderr
        daemon.wait_until(lambda: any(line.startswith("accepted") for line in daemon.lines[len(lines) :]))
    finally:
        daemon.stop()

    by_key = fates(lines)
    accepted = {k: line for k, v in by_key.items() for line in v if line.startswith("accepted")}
    quarantined = {k: v[-1].split(": ", 1)[1] for k, v in by_key.items() if v[-1].startswith("quarantined")}
    # each quarantine line names the id that `lakegate quarantine show|replay` take
    assert all(re.search(r" \(quarantine id \d+\)$", reason) for reason in quarantined.values()), quarantined
    quarantined = {k: re.sub(r" \(quarantine id \d+\)$", "", reason) for k, reason in quarantined.items()}
    assert sorted(accepted) == sorted([
        f"landing/acme/orders_{s1}.csv", f"landing/acme/orders_{s2}.csv", f"landing/acme/orders_{sl}.csv",
        f"landing/acme/events_{s1}.ndjson.gz", f"landing/globex/orders_{s1}.csv",
        f"landing/globex/events_{s1}.ndjson.gz", f"landing/initech/orders_{s1}.csv",
        f"landing/initech/events_{s2}.ndjson.gz",
    ])  # fmt: skip
    assert (
        "; warnings: age: the file arrived 20 days after its date"
        in accepted[f"landing/acme/orders_{sl}.csv"]
    )
    assert quarantined == {
        f"landing/acme/events_{s2}.ndjson.gz": "reject.rule.allowed_values: dataset 'events', rule "
        "allowed_values: kind is not one of the allowed values in 1 row: 'refund' (row 2)",
        f"landing/globex/orders_{s2}.csv": "reject.rule.required_columns: dataset 'orders', rule "
        "required_columns: required columns are missing: amount",
        f"landing/globex/events_{s2}.ndjson.gz": "reject.empty: the file is empty (0 bytes)",
        f"landing/initech/orders_{s2}.csv": "reject.rule.types: dataset 'orders', rule types: amount is not "
        "a number in 1 row: 'twelve' (row 1)",
        f"landing/initech/events_{s1}.ndjson.gz": "reject.format: dataset 'events' accepts the compressions "
        "gzip; this file is none",
        f"landing/initech/orders_{sl}.csv": "reject.rule.unique: dataset 'orders', rule unique: "
        "2 rows share a value of order_id with another row: '5' (rows 1, 2)",
    }  # fmt: skip
    assert by_key[f"landing/globex/orders_{s1}.csv"][-1].startswith("duplicate")
    assert len(by_key[f"landing/acme/events_{s1}.ndjson.gz"]) == 2  # the correction replaced the first
    after_replay = [line for line in daemon.lines[len(lines) :] if not line.startswith("replayed")]
    assert after_replay[0].startswith(f"accepted     landing/acme/events_{s2}.ndjson.gz -> acme.events")

    app = open_app(home)
    try:
        assert rows(app, "SELECT dt, order_id, amount FROM acme.orders ORDER BY order_id") == [
            (f"{d1}", 1, 10.5), (f"{d1}", 2, 20.0), (f"{d2}", 3, 30.0), (f"{late}", 99, 1.0),
        ]  # fmt: skip
        assert rows(app, "SELECT event_id, kind FROM acme.events ORDER BY event_id") == [
            (1, "click"), (2, "view"), (3, "buy"), (4, "refund"), (5, "buy"),
        ]  # fmt: skip
        assert rows(app, "SELECT sum(amount) FROM initech.orders") == [(15.25,)]
        assert rows(app, "SELECT count(*) FROM globex.orders") == [(1,)]
        assert rows(app, "SELECT count(*) FROM globex.events") == [(1,)]
        [replaced] = app.catalog.archived()
        assert replaced.cause == "replaced" and replaced.lake_key.endswith(
            f"acme/events/dt={d1}/events_{s1}.ndjson.gz"
        )
        assert (app.home.root / "lake" / "_archive" / replaced.archive_key.removeprefix("archive/")).is_file()
        assert (
            sorted(p.name for p in (home / "landing").rglob("*") if p.is_file()) == []
        )  # nothing left behind
    finally:
        app.close()
