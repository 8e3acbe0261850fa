"""Files copied into landing/ the ordinary ways, while `lakegate up` watches: each delivered row
lands exactly once, nothing half-written is ever taken, and no single file reshapes a table.

One daemon serves the module (each test uses tables of its own); its quiet period is 1 s, so a
writer that pauses longer than that would have been taken mid-file before.
"""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakegate
from tests.e2e.daemon import Daemon

pytestmark = pytest.mark.slow

QUIET = 1.0


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    home = tmp_path_factory.mktemp("integrity") / "home"
    running = Daemon(home, env={"LAKEGATE_INGEST__SETTLE_SECONDS": str(QUIET)})
    running.wait_until((home / "landing").is_dir, timeout=30)
    yield running
    running.stop()


def landing(daemon: Daemon, key: str) -> Path:
    path = daemon.home / "landing" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def outcomes(daemon: Daemon, key: str) -> list[str]:
    """The status lines `lakegate up` printed for the landing key ``key``."""
    return [line for line in list(daemon.lines) if line.split()[1].rstrip(":") == f"landing/{key}"]


def wait_outcomes(daemon: Daemon, key: str, n: int = 1, timeout: float = 90) -> list[str]:
    daemon.wait_until(lambda: len(outcomes(daemon, key)) >= n, timeout)
    time.sleep(0.3)  # anything more (a second copy) would show now
    return outcomes(daemon, key)


def query(daemon: Daemon, sql: str) -> list[tuple[object, ...]]:
    with lakegate.connect(daemon.home) as con:
        return con.execute(sql).fetchall()


def csv_rows(start: int, n: int) -> list[bytes]:
    return [b"%d,customer %d,%d.25\n" % (i, i, i) for i in range(start, start + n)]


HEADER = b"order_id,customer,amount\n"


def test_a_large_csv_copied_in_place_with_cp_lands_once(daemon: Daemon, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    n = 222_976
    with source.open("wb") as out:
        out.write(HEADER)
        out.writelines(csv_rows(1, n))
    subprocess.run(["cp", str(source), str(landing(daemon, "cp/orders/big.csv"))], check=True)
    [line] = wait_outcomes(daemon, "cp/orders/big.csv")
    assert line.startswith("accepted") and f"({n} rows)" in line, line
    assert query(daemon, "SELECT count(*), count(DISTINCT order_id), sum(order_id) FROM cp.orders") == [
        (n, n, n * (n + 1) // 2)
    ]


def test_a_writer_that_pauses_longer_than_the_quiet_period_is_waited_for(daemon: Daemon) -> None:
    path = landing(daemon, "slow/orders/rows.csv")
    with path.open("wb") as out:
        out.write(HEADER)
        out.writelines(csv_rows(1, 5000))
        out.write(b"5001,customer 50")  # cut mid-row, then a long pause
        out.flush()
        time.sleep(QUIET * 2.5)
        out.write(b"01,5001.25\n")
        out.writelines(csv_rows(5002, 4999))
    [line] = wait_outcomes(daemon, "slow/orders/rows.csv")
    assert line.startswith("accepted") and "(10000 rows)" in line, line
    assert query(daemon, "SELECT count(*), sum(order_id), max(customer) FROM slow.orders") == [
        (10_000, 10_000 * 10_001 // 2, "customer 9999")
    ]


def test_gzip_written_in_place_is_taken_whole(daemon: Daemon) -> None:
    def write(part: int) -> None:
        with gzip.open(landing(daemon, f"gz/lineitem/part-{part}.csv.gz"), "wb") as out:
            out.write(HEADER)
            for chunk in range(6):
                out.writelines(csv_rows(part * 100_000 + chunk * 2000, 2000))
                time.sleep(0.3)

    writers = [threading.Thread(target=write, args=(p,)) for p in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    for p in range(4):
        [line] = wait_outcomes(daemon, f"gz/lineitem/part-{p}.csv.gz")
        assert line.startswith("accepted") and "(12000 rows)" in line, line
    assert query(daemon, "SELECT count(*), count(DISTINCT order_id) FROM gz.lineitem") == [(48_000, 48_000)]


def test_an_empty_file_filled_later_is_taken_with_its_rows(daemon: Daemon) -> None:
    path = landing(daemon, "late/orders/later.csv")
    path.touch()  # `touch` now, the content a moment later (within the quiet period)
    time.sleep(QUIET / 3)
    path.write_bytes(HEADER + b"".join(csv_rows(1, 3)))
    [line] = wait_outcomes(daemon, "late/orders/later.csv")
    assert line.startswith("accepted") and "(3 rows)" in line, line


def test_a_file_that_stays_empty_is_quarantined_after_the_quiet_period(daemon: Daemon) -> None:
    started = time.monotonic()
    landing(daemon, "late/orders/empty.csv").touch()
    [line] = wait_outcomes(daemon, "late/orders/empty.csv")
    assert line.startswith("quarantined") and "reject.empty" in line, line
    assert time.monotonic() - started >= QUIET


def test_a_file_still_open_for_writing_is_not_taken_even_when_it_looks_quiet(daemon: Daemon) -> None:
    path = landing(daemon, "open/orders/held.csv")
    out = path.open("wb")
    out.write(HEADER + b"".join(csv_rows(1, 10)))
    out.flush()
    time.sleep(QUIET * 3)  # unchanged three quiet periods long, but open
    assert outcomes(daemon, "open/orders/held.csv") == []
    out.write(b"".join(csv_rows(11, 10)))
    out.close()
    [line] = wait_outcomes(daemon, "open/orders/held.csv")
    assert "(20 rows)" in line, line


def test_rsync_inplace_rewrite_of_a_file_being_delivered(daemon: Daemon, tmp_path: Path) -> None:
    if shutil.which("rsync") is None:
        pytest.fail("rsync is missing: make system-deps installs it")
    target = landing(daemon, "rs/orders/orders.csv")
    # A first, short version, still open (a slow producer), rewritten in place from the start.
    with target.open("wb") as out:
        out.write(HEADER + b"".join(csv_rows(1, 50)))
        out.flush()
        with target.open("r+b") as rewrite:
            rewrite.write(HEADER + b"".join(csv_rows(1, 100)))  # longer: overwrites and extends
            rewrite.flush()
            time.sleep(QUIET * 1.5)
    [line] = wait_outcomes(daemon, "rs/orders/orders.csv")
    assert "(100 rows)" in line, line
    # rsync --inplace, slowly (bandwidth-limited), of a new version under the same name.
    source = tmp_path / "orders.csv"
    source.write_bytes(HEADER + b"".join(csv_rows(1000, 40_000)))
    subprocess.run(["rsync", "--inplace", "--bwlimit=600", str(source), str(target)], check=True, timeout=60)
    lines = wait_outcomes(daemon, "rs/orders/orders.csv", n=2)
    assert len(lines) == 2 and "(40000 rows)" in lines[1], lines
    assert query(daemon, "SELECT count(*), count(DISTINCT order_id) FROM rs.orders") == [(40_100, 40_100)]


def test_a_stray_non_data_file_is_quarantined_not_added_as_columns(daemon: Daemon) -> None:
    landing(daemon, "stray/orders/a.csv").write_bytes(HEADER + b"".join(csv_rows(1, 2)))
    wait_outcomes(daemon, "stray/orders/a.csv")
    landing(daemon, "stray/orders/notes.txt").write_bytes(b"a b\n1 2\n")
    [line] = wait_outcomes(daemon, "stray/orders/notes.txt")
    assert line.startswith("quarantined") and "reject.schema.disjoint" in line, line
    columns = query(
        daemon,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' "
        "AND table_schema = 'stray' ORDER BY ordinal_position",
    )
    assert columns == [("order_id",), ("customer",), ("amount",)]


def test_one_bad_value_in_a_typed_column_is_quarantined_with_the_value(daemon: Daemon) -> None:
    landing(daemon, "typed/orders/a.csv").write_bytes(b"order_id,amount\n1,10\n2,20\n")
    wait_outcomes(daemon, "typed/orders/a.csv")
    landing(daemon, "typed/orders/b.csv").write_bytes(b"order_id,amount\n3,30\n4,unknown\n5,50\n")
    [line] = wait_outcomes(daemon, "typed/orders/b.csv")
    assert line.startswith("quarantined") and "reject.schema.type_change" in line, line
    assert "amount from BIGINT to VARCHAR" in line and "'unknown' (row 2)" in line, line
    # `n/a` is an empty value where that keeps the column's type: accepted, and said so
    landing(daemon, "typed/orders/c.csv").write_bytes(b"order_id,amount\n6,n/a\n7,70\n")
    [line] = wait_outcomes(daemon, "typed/orders/c.csv")
    assert line.startswith("accepted") and "n/a read as empty values" in line, line
    assert query(daemon, "SELECT sum(amount), typeof(sum(amount)) FROM typed.orders") == [(100, "HUGEINT")]


def test_a_new_column_is_accepted_and_said_on_the_status_line(daemon: Daemon) -> None:
    landing(daemon, "wide/orders/a.csv").write_bytes(b"order_id,amount\n1,10\n")
    wait_outcomes(daemon, "wide/orders/a.csv")
    landing(daemon, "wide/orders/b.csv").write_bytes(b"order_id,amount,coupon\n2,2.5,W\n")
    [line] = wait_outcomes(daemon, "wide/orders/b.csv")
    assert line.startswith("accepted") and "schema v2: + coupon VARCHAR, ~ amount BIGINT → DOUBLE" in line


WRITER = textwrap.dedent(
    """
    import sys, time
    path, start = sys.argv[1], int(sys.argv[2])
    with open(path, "wb") as out:
        out.write(b"order_id,customer,amount\\n")
        out.flush()
        i = start
        while True:
            out.write(b"%d,customer %d,%d.25\\n" % (i, i, i))
            out.flush()
            print(i, flush=True)
            i += 1
            time.sleep(0.01)
    """
)


def test_a_writer_killed_mid_write_delivers_its_complete_rows_once(daemon: Daemon) -> None:
    path = landing(daemon, "killed/orders/stream.csv")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "1"], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.kill()
    proc.wait()
    assert proc.stdout is not None
    written = [int(n) for n in proc.stdout.read().split()]
    [line] = wait_outcomes(daemon, "killed/orders/stream.csv")
    assert line.startswith("accepted"), line
    assert query(daemon, "SELECT count(*), count(DISTINCT order_id), max(order_id) FROM killed.orders") == [
        (len(written), len(written), written[-1])
    ]


def _stress_writer(daemon: Daemon, writer: int, rng: random.Random, versions: dict[str, int]) -> None:
    """One provider's deliveries, at random: append with pauses, rewrite in place, truncate and
    write again, rename a finished file over the name. Each finished version is recorded with the
    rows it holds (tag ``w<writer>v<version>``)."""
    key = f"stress/rows/w{writer}.csv"
    path = landing(daemon, key)
    for version in range(3):
        tag = f"w{writer}v{version}".encode()
        n = rng.randint(20, 400)
        body = [b"%s,%d,%d\n" % (tag, i, rng.randint(0, 10**6)) for i in range(n)]
        how = rng.choice(["append", "rewrite", "truncate", "rename"])
        if how == "rename":
            temp = path.with_name(f".w{writer}.partial")
            temp.write_bytes(b"tag,seq,payload\n" + b"".join(body))
            temp.replace(path)
        else:
            with path.open("wb") as out:
                out.write(b"tag,seq,payload\n")
                if how in ("rewrite", "truncate"):
                    junk = b"".join(b"%s,%d,-1\n" % (tag + b"x", i) for i in range(n // 2))
                    out.write(junk)  # a draft, replaced before the writer is done
                    out.flush()
                    time.sleep(rng.uniform(0, 5))
                    out.seek(len(b"tag,seq,payload\n"))
                    if how == "truncate":
                        out.truncate()
                for i in range(0, n, 50):
                    out.write(b"".join(body[i : i + 50]))
                    out.flush()
                    time.sleep(rng.uniform(0, 5) if rng.random() < 0.3 else 0)
                out.truncate()  # a rewrite shorter than its draft ends where it ends
        versions[tag.decode()] = n
        time.sleep(rng.uniform(0, 0.5))


def test_stress_writers_that_pause_rewrite_truncate_and_rename_over(daemon: Daemon) -> None:
    rng = random.Random(18)
    versions: dict[str, int] = {}
    threads = [
        threading.Thread(target=_stress_writer, args=(daemon, w, random.Random(rng.random()), versions))
        for w in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    landing_root = daemon.home / "landing" / "stress"
    daemon.wait_until(lambda: not any(p.is_file() for p in landing_root.rglob("*")), timeout=120)
    time.sleep(0.5)
    found = dict(query(daemon, "SELECT tag, count(*) FROM stress.rows GROUP BY tag"))
    doubled = query(daemon, "SELECT tag, seq FROM stress.rows GROUP BY tag, seq HAVING count(*) > 1")
    assert doubled == []
    assert not [t for t in found if t.endswith("x")], "a draft was taken"
    for tag, n in versions.items():
        # a version renamed over before it was taken was replaced by its provider: absent, or whole
        assert found.get(tag, 0) in (0, n), (tag, found.get(tag), n)
    for w in range(6):
        last = f"w{w}v2"
        assert found.get(last) == versions[last], (last, found.get(last))
    assert daemon.proc.poll() is None
    assert "Traceback" not in daemon.stderr
