"""S3 event notifications over HTTP make ingest immediate; duplicates and junk are harmless."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx

from tests.e2e.daemon import Daemon
from tests.e2e.test_up_s3 import keys, put, s3_home
from tests.s3server import SeaweedS3, free_ports
from tests.sqsserver import MotoSQS


def notification(bucket: str, key: str) -> dict[str, object]:
    return {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket},
            "object": {"key": quote_plus(key, safe="/"), "size": 1, "sequencer": "0A"}}}]}  # fmt: skip


def test_events_trigger_ingest_without_waiting_for_the_reconciler(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home, prefix = s3_home(tmp_path, seaweed)
    (port,) = free_ports(1)
    daemon = Daemon(
        home, env={"LAKEGATE_INGEST__RECONCILE_SECONDS": "600"}, args=["--events-port", str(port)]
    )
    url = f"http://127.0.0.1:{port}/v1/events/s3"
    try:
        daemon.wait_until(lambda: "S3 events:" in daemon.stderr, timeout=30)
        time.sleep(1.5)  # the first full listing has run; from now on only events find objects
        key = "landing/shop/orders/new file+1.csv"
        put(seaweed, prefix, key, b"id\n1\n")
        started = time.monotonic()
        event = notification(seaweed.bucket, f"{prefix}/{key}")
        deadline = time.monotonic() + 30
        while True:  # the server may still be binding its port
            try:
                response = httpx.post(url, json=event, timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200 and response.json() == {"accepted": 1, "ignored": 0}
        daemon.wait_lines(1, timeout=20)
        elapsed = time.monotonic() - started
        assert httpx.post(url, json=event, timeout=5).status_code == 200  # a duplicate event
        other = httpx.post(url, json=notification("another-bucket", key), timeout=5)
        assert other.json() == {"accepted": 0, "ignored": 1}
        junk = httpx.post(url, content=b"{not json", timeout=5)
        assert junk.status_code == 400 and junk.json()["error"]["code"] == "events.bad_payload"
        time.sleep(1)
    finally:
        daemon.stop()
    assert elapsed < 10  # far below the 600 s reconcile interval
    assert len(daemon.lines) == 1 and daemon.lines[0].startswith("accepted")
    assert keys(seaweed, prefix, "lake/") == ["lake/shop/orders/new file+1.csv"]


def test_events_from_an_sqs_queue_trigger_ingest(tmp_path: Path, seaweed: SeaweedS3, sqs: MotoSQS) -> None:
    """S3 -> SQS -> lakegate, with the notification sent as S3 would (SeaweedFS does not publish to SQS)."""
    home, prefix = s3_home(tmp_path, seaweed)
    queue = sqs.new_queue()
    env = {
        "LAKEGATE_INGEST__RECONCILE_SECONDS": "600",
        "LAKEGATE_EVENTS__SQS_QUEUE_URL": queue,
        "LAKEGATE_EVENTS__SQS_ENDPOINT_URL": sqs.endpoint,
        "LAKEGATE_EVENTS__SQS_WAIT_SECONDS": "1",
    }
    daemon = Daemon(home, env=env)
    try:
        daemon.wait_until(lambda: "reading the SQS queue" in daemon.stderr, timeout=30)
        time.sleep(1.5)  # the first full listing has run; from now on only events find objects
        names = ["a.csv", "b c+d.csv", "ü=1.csv"]
        for n, name in enumerate(names):
            put(seaweed, prefix, f"landing/shop/orders/{name}", f"id\n{n}\n".encode())
        started = time.monotonic()
        client = sqs.client()
        for name in [*names, names[0]]:  # the last one a duplicate
            body = notification(seaweed.bucket, f"{prefix}/landing/shop/orders/{name}")
            client.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
        daemon.wait_lines(3, timeout=20)
        elapsed = time.monotonic() - started
        time.sleep(1)
    finally:
        daemon.stop()
    assert elapsed < 10  # far below the 600 s reconcile interval
    assert sorted(line.split()[0] for line in daemon.lines) == ["accepted"] * 3
    assert keys(seaweed, prefix, "lake/") == sorted(f"lake/shop/orders/{name}" for name in names)
    attributes = client.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_a_missing_sqs_queue_stops_start_up_with_the_failing_call(
    tmp_path: Path, seaweed: SeaweedS3, sqs: MotoSQS
) -> None:
    home, _ = s3_home(tmp_path, seaweed)
    env = {
        "LAKEGATE_EVENTS__SQS_QUEUE_URL": f"{sqs.endpoint}/123456789012/missing",
        "LAKEGATE_EVENTS__SQS_ENDPOINT_URL": sqs.endpoint,
    }
    daemon = Daemon(home, env=env)
    assert daemon.proc.wait(timeout=60) == 1
    daemon.stop()
    assert "error[events.sqs]" in daemon.stderr and "GetQueueAttributes" in daemon.stderr


def test_events_need_s3_storage(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path / "home", args=["--events-port", str(free_ports(1)[0])])
    assert daemon.proc.wait(timeout=30) == 1
    daemon.stop()
    assert "error[cli.events_need_s3]" in daemon.stderr
