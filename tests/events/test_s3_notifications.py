from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakegate.events.s3_notifications import BadEvent, ObjectCreated, parse


def record(key: str, name: str = "ObjectCreated:Put", bucket: str = "b") -> dict[str, object]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": name,
        "s3": {
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 3, "eTag": "abc", "sequencer": "01"},
        },
    }


def test_plain_s3_notification() -> None:
    payload = {"Records": [record("landing/a/b/my+file%C3%A9.csv"), record("x", name="ObjectRemoved:Delete")]}
    assert parse(payload) == [ObjectCreated("b", "landing/a/b/my fileé.csv", 3, "abc", "01")]


def test_sns_envelope_and_test_event() -> None:
    inner = json.dumps({"Records": [record("k")]})
    assert [e.key for e in parse({"Type": "Notification", "Message": inner})] == ["k"]
    assert parse({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}) == []
    assert parse(json.dumps({"Records": []}).encode()) == []


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"hello": 1}', b'{"Records": [{"eventName": "ObjectCreated:Put"}]}']
)
def test_junk_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(BadEvent) as err:
        parse(body)
    assert err.value.code == "events.bad_payload"


@given(st.text(min_size=1, max_size=40).filter(lambda k: "\x00" not in k))
def test_keys_round_trip_through_url_encoding(key: str) -> None:
    assert parse({"Records": [record(quote_plus(key, safe="/"))]})[0].key == key
