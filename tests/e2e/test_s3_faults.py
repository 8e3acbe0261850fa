"""Faults on S3: kill -9 while objects arrive, and the S3 server itself gone for 20 s."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakegate
from tests import s3server
from tests.e2e.daemon import Daemon, deliveries, kill_while_delivering, run_until_drained
from tests.e2e.test_up_s3 import keys, s3_home
from tests.s3server import SeaweedS3


@pytest.fixture
def private_s3(tmp_path: Path) -> Iterator[SeaweedS3]:
    """A SeaweedFS of this test's own, so stopping it disturbs no other test."""
    server = s3server.start(tmp_path / "seaweedfs")
    yield server
    server.stop()


def settle(home: Path, server: SeaweedS3, prefix: str, good: dict[str, int], bad: int) -> None:
    run_until_drained(home, lambda: keys(server, prefix, "landing/") == [], timeout=180)
    assert [k.rsplit("/", 1)[-1] for k in keys(server, prefix, "lake/")] == sorted(good)
    assert len(keys(server, prefix, "quarantine/")) == bad
    with lakegate.connect(home) as con:
        rows = con.execute("SELECT file, count(*) FROM s.t GROUP BY file ORDER BY file").fetchall()
    assert rows == sorted(good.items())


def test_kill_9_at_random_moments_while_200_objects_arrive_on_s3(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home, prefix = s3_home(tmp_path, seaweed)
    plan, good, bad = deliveries(200, 25)
    rng = random.Random(27)
    client = seaweed.client()

    def deliver(key: str, data: bytes) -> None:
        client.put_object(Bucket=seaweed.bucket, Key=f"{prefix}/{key}", Body=data)

    assert kill_while_delivering(home, plan, deliver, rng, pause=(1.0, 3.0)) >= 4
    settle(home, seaweed, prefix, good, bad)


def test_s3_server_gone_for_20_seconds_mid_ingest(tmp_path: Path, private_s3: SeaweedS3) -> None:
    home, prefix = s3_home(tmp_path, private_s3)
    plan, good, bad = deliveries(60, 20)
    client = private_s3.client()
    for key, data in plan:
        client.put_object(Bucket=private_s3.bucket, Key=f"{prefix}/{key}", Body=data)
    daemon = Daemon(home)
    try:
        daemon.wait_lines(5, timeout=60)  # ingest is under way
        private_s3.stop()
        time.sleep(20)
        assert daemon.proc.poll() is None  # an outage delays work; it does not stop the daemon
        assert private_s3.workdir is not None
        restarted = s3server.start(private_s3.workdir, private_s3.ports)
        private_s3.process = restarted.process
        daemon.wait_lines(len(plan), timeout=120)
    finally:
        daemon.stop()
    assert len(daemon.lines) == len(plan)  # each object reported once
    settle(home, private_s3, prefix, good, bad)
