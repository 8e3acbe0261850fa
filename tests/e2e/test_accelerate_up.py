"""`lakegate up` writes the Parquet copies in the background, moments after a file is queryable;
`lakegate accelerate` reports them and rebuilds them after the derived area was wiped."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from lakegate.app import open_app
from lakegate.catalog import acceleration
from tests.e2e.daemon import Daemon


def _lakegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lakegate", *args], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _progress(home: Path) -> dict[str, int]:
    app = open_app(home)
    try:
        return acceleration.progress(app.catalog)
    finally:
        app.close()


def test_files_are_accelerated_in_the_background_and_rebuilt_on_demand(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home)
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        rows = "".join(f"{i},{i % 7},item {i}\n" for i in range(20_000))
        landed = home / "landing" / "shop" / "orders" / "a.csv"
        landed.parent.mkdir(parents=True)
        landed.write_text("id,qty,name\n" + rows)
        daemon.wait_lines(1)
        queryable = time.monotonic()
        deadline = queryable + 30
        while _progress(home)["accelerated"] < 1:
            assert time.monotonic() < deadline, daemon.stderr
            time.sleep(0.1)
        assert time.monotonic() - queryable < 30
    finally:
        daemon.stop()
    answer = _lakegate(
        "sql", "SELECT count(*), sum(qty) FROM shop.orders", "--home", str(home), "--format", "csv"
    )
    assert answer.returncode == 0 and answer.stdout.split()[-1] == "20000,59997", answer.stderr
    status = _lakegate("accelerate", "--status", "--home", str(home))
    assert "1 CSV/JSON files read through Parquet copies, 0 in place" in status.stdout, status.stderr
    shutil.rmtree(home / "lake" / "_derived")  # copies are disposable
    rebuilt = _lakegate("accelerate", "shop.orders", "--rebuild", "--home", str(home))
    assert rebuilt.returncode == 0 and rebuilt.stdout.startswith("accelerated  lake/shop/orders/a.csv"), (
        rebuilt
    )
    again = _lakegate(
        "sql", "SELECT count(*), sum(qty) FROM shop.orders", "--home", str(home), "--format", "csv"
    )
    assert again.stdout == answer.stdout
