"""`lakegate up` on a real S3 server: the reconciler finds every object; a kill at any step loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import lakegate
from lakegate.catalog import records as r
from tests import s3server
from tests.e2e.daemon import Daemon
from tests.s3server import SeaweedS3, s3_config


def s3_home(tmp_path: Path, seaweed: SeaweedS3) -> tuple[Path, str]:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    prefix = seaweed.new_prefix()
    (home / "lakegate.yaml").write_text(s3_config(seaweed, prefix))
    return home, prefix


def put(seaweed: SeaweedS3, prefix: str, key: str, data: bytes) -> None:
    seaweed.client().put_object(Bucket=seaweed.bucket, Key=f"{prefix}/{key}", Body=data)


def keys(seaweed: SeaweedS3, prefix: str, under: str) -> list[str]:
    """The keys under ``under``, without the derived area's Parquet copies (disposable, written
    in the background by acceleration)."""
    listed = seaweed.client().list_objects_v2(Bucket=seaweed.bucket, Prefix=f"{prefix}/{under}")
    found = (item["Key"][len(prefix) + 1 :] for item in listed.get("Contents", []))
    return sorted(k for k in found if not k.startswith("lake/_derived/"))


def test_objects_put_into_the_bucket_become_tables(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home, prefix = s3_home(tmp_path, seaweed)
    daemon = Daemon(home)
    try:
        put(seaweed, prefix, "landing/shop/orders/dt=2026-11-26/a b+c=%.csv", b"id,amount\n1,2.5\n")
        put(seaweed, prefix, "landing/shop/orders/dt=2026-11-27/ü.ndjson", b'{"id": 2, "amount": 4}\n')
        put(seaweed, prefix, "landing/shop/orders/empty.csv", b"")
        lines = daemon.wait_lines(3)
    finally:
        assert daemon.stop() == 0
    assert sum(line.startswith("accepted") for line in lines) == 2
    assert any("reject.empty" in line for line in lines)
    assert keys(seaweed, prefix, "landing/") == []
    assert keys(seaweed, prefix, "lake/") == [
        "lake/shop/orders/dt=2026-11-26/a b+c=%.csv",
        "lake/shop/orders/dt=2026-11-27/ü.ndjson",
    ]
    with lakegate.connect(home) as con:
        assert con.execute("SELECT id, amount, dt FROM shop.orders ORDER BY id").fetchall() == [
            (1, 2.5, "2026-11-26"),
            (2, 4.0, "2026-11-27"),
        ]


@pytest.mark.parametrize(
    "point", [r.VALIDATED, r.COPIED, r.CATALOGED, "before_remove_source", r.QUARANTINE_COPIED]
)
def test_sigkill_on_s3_loses_nothing(tmp_path: Path, seaweed: SeaweedS3, point: str) -> None:
    home, prefix = s3_home(tmp_path, seaweed)
    data = b"" if point == r.QUARANTINE_COPIED else b"id\n1\n2\n"
    put(seaweed, prefix, "landing/s/t/a.csv", data)
    mark = tmp_path / "hit"
    crashing = Daemon(home, env={"LAKEGATE_TEST_CRASH_AT": point, "LAKEGATE_TEST_CRASH_MARK": str(mark)})
    assert crashing.proc.wait(timeout=90) == -9, crashing.stderr
    crashing.stop()
    assert mark.read_text().split() == [point]
    again = Daemon(home)
    try:
        again.wait_lines(1)
    finally:
        again.stop()
    assert keys(seaweed, prefix, "landing/") == []
    if data:
        assert keys(seaweed, prefix, "lake/") == ["lake/s/t/a.csv"]
        with lakegate.connect(home) as con:
            assert con.execute("SELECT count(*) FROM s.t").fetchall() == [(2,)]
    else:
        assert len(keys(seaweed, prefix, "quarantine/")) == 1


def test_bad_credentials_are_reported_at_start_up(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home, _prefix = s3_home(tmp_path, seaweed)
    config = home / "lakegate.yaml"
    config.write_text(config.read_text().replace(s3server.INGEST[1], "wrong-secret"))
    daemon = Daemon(home)
    assert daemon.proc.wait(timeout=30) == 1
    daemon.stop()
    assert "error[storage.HeadBucket]" in daemon.stderr and "start-up" in daemon.stderr
