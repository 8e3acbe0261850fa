"""`lakegate up` reloads lakegate.yaml when it changes; a broken file changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.daemon import Daemon

DATASET = """\
datasets:
  - name: sales
    key: "landing/{customer}/sales_{date:%Y%m%d}.csv"
    database: "{customer}"
    table: sales
    partition: {dt: "{date:%Y-%m-%d}"}
"""


def drop(home: Path, key: str, data: bytes) -> None:
    path = home / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize("processes", ["0", "2"])
def test_datasets_apply_as_soon_as_the_file_is_saved(tmp_path: Path, processes: str) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home, env={"LAKEGATE_INGEST__PROCESSES": processes})
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        drop(home, "landing/acme/sales_20261125.csv", b"id\n1\n")  # no dataset yet: no table folder
        daemon.wait_lines(1)
        (home / "lakegate.yaml").write_text(DATASET)
        daemon.wait_until(lambda: "reloaded lakegate.yaml: 1 dataset," in daemon.stderr, timeout=30)
        drop(home, "landing/acme/sales_20261126.csv", b"id\n2\n")
        daemon.wait_lines(2)
        (home / "lakegate.yaml").write_text(DATASET.replace("table: sales", "tabel: sales"))
        daemon.wait_until(lambda: "not reloaded" in daemon.stderr, timeout=30)
        drop(home, "landing/globex/sales_20261127.csv", b"id\n3\n")  # the dataset in force still routes it
        daemon.wait_lines(3)
        (home / "lakegate.yaml").write_text(DATASET + "query:\n  threads: 1\n")
        daemon.wait_until(
            lambda: "changes to query take effect when lakegate up restarts" in daemon.stderr, 30
        )
        time.sleep(0.5)
    finally:
        daemon.stop()
    assert daemon.lines[0].startswith("quarantined  landing/acme/sales_20261125.csv: reject.route")
    assert (
        daemon.lines[1] == "accepted     landing/acme/sales_20261126.csv -> acme.sales dt=2026-11-26 (1 row)"
    )
    assert (
        daemon.lines[2]
        == "accepted     landing/globex/sales_20261127.csv -> globex.sales dt=2026-11-27 (1 row)"
    )
    expected = "lakegate.yaml, line 5: unknown setting `datasets[0].tabel` (did you mean `table`?)"
    assert expected in daemon.stderr, daemon.stderr
