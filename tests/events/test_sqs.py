"""The SQS consumer against moto's SQS server (a stand-in: SQS has no open-source server)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from lakegate.config import Settings
from lakegate.errors import EventsError
from lakegate.events.s3_notifications import LandingFilter
from lakegate.events.sqs import SqsConsumer, sqs_client
from tests.sqsserver import CREDENTIALS, MotoSQS


def s3_record(bucket: str, key: str) -> dict[str, Any]:
    return {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 5}},
    }


def consumer_for(sqs: MotoSQS, queue_url: str, seen: list[str], wait: int = 0) -> SqsConsumer:
    settings = Settings.model_validate(
        {
            "events": {
                "sqs_queue_url": queue_url,
                "sqs_endpoint_url": sqs.endpoint,
                "sqs_wait_seconds": wait,
            },
            "storage": {"s3": {"access_key": CREDENTIALS[0], "secret_key": CREDENTIALS[1]}},
        }
    )
    return SqsConsumer(sqs_client(settings), queue_url, LandingFilter("lake", "in/"), seen.append, wait)


def test_keys_from_every_body_shape_are_handed_over_and_messages_deleted(sqs: MotoSQS) -> None:
    queue = sqs.new_queue()
    client = sqs.client()
    bodies = [
        {
            "Records": [
                s3_record("lake", "in/shop/orders/a+b%C3%A9%2B.csv"),
                s3_record("lake", "in/s/t/2.csv"),
            ]
        },
        {"Type": "Notification", "Message": json.dumps({"Records": [s3_record("lake", "in/s/t/3.csv")]})},
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "lake"},
        {"Records": [s3_record("other", "in/s/t/4.csv"), s3_record("lake", "elsewhere/5.csv")]},
    ]
    for body in bodies:
        client.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    client.send_message(QueueUrl=queue, MessageBody="this is not JSON")
    seen: list[str] = []
    consumer = consumer_for(sqs, queue, seen)
    consumer.check()
    received = 0
    for _ in range(10):
        received += consumer.poll_once()
        if received == 5:
            break
    assert received == 5
    assert sorted(seen) == ["s/t/2.csv", "s/t/3.csv", "shop/orders/a bé+.csv"]
    assert consumer.counts == {"messages": 5, "keys": 3, "ignored": 2, "bad": 1, "errors": 0}
    attributes = client.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"  # deleted, not just hidden


def test_messages_received_while_stopping_go_back_to_the_queue(sqs: MotoSQS) -> None:
    queue = sqs.new_queue(visibility_seconds=1)
    sqs.client().send_message(
        QueueUrl=queue, MessageBody=json.dumps({"Records": [s3_record("lake", "in/a.csv")]})
    )
    seen: list[str] = []
    consumer = consumer_for(sqs, queue, seen)
    consumer._stop.set()  # a stop arrives while ReceiveMessage is in flight
    consumer.poll_once()
    assert seen == []
    time.sleep(1.5)  # the visibility timeout passes: the message is delivered again
    again = consumer_for(sqs, queue, seen)
    for _ in range(10):
        if again.poll_once():
            break
    assert seen == ["a.csv"]


def test_the_background_loop_long_polls_and_hands_over_quickly(sqs: MotoSQS) -> None:
    queue = sqs.new_queue()
    seen: list[str] = []
    consumer = consumer_for(sqs, queue, seen, wait=2)
    consumer.start()
    try:
        time.sleep(0.3)  # the consumer is waiting in a long poll
        sent = time.monotonic()
        sqs.client().send_message(
            QueueUrl=queue, MessageBody=json.dumps({"Records": [s3_record("lake", "in/x.csv")]})
        )
        while not seen and time.monotonic() - sent < 10:
            time.sleep(0.01)
        latency = time.monotonic() - sent
    finally:
        consumer.stop()
    assert seen == ["x.csv"]
    assert latency < 1.5  # delivered by the poll in flight, not after the 2 s wait ran out


def test_a_missing_queue_is_a_clear_start_up_error(sqs: MotoSQS) -> None:
    consumer = consumer_for(sqs, f"{sqs.endpoint}/123456789012/no-such-queue", [])
    with pytest.raises(EventsError) as err:
        consumer.check()
    assert err.value.code == "events.sqs" and not err.value.transient
    assert "GetQueueAttributes" in err.value.message and "no-such-queue" in err.value.message


def test_an_unreachable_endpoint_is_transient(sqs: MotoSQS) -> None:
    settings = Settings.model_validate(
        {"events": {"sqs_queue_url": "http://127.0.0.1:9/q", "sqs_endpoint_url": "http://127.0.0.1:9"}}
    )
    consumer = SqsConsumer(sqs_client(settings), "http://127.0.0.1:9/q", LandingFilter("b", ""), print, 0)
    with pytest.raises(EventsError) as err:
        consumer.poll_once()
    assert err.value.transient and "ReceiveMessage" in err.value.message


def test_region_comes_from_an_aws_queue_url() -> None:
    settings = Settings.model_validate(
        {"events": {"sqs_queue_url": "https://sqs.eu-west-3.amazonaws.com/123456789012/lake-events"}}
    )
    assert sqs_client(settings).meta.region_name == "eu-west-3"
    settings.events.sqs_region = "ap-south-1"
    assert sqs_client(settings).meta.region_name == "ap-south-1"
