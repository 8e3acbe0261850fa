"""Reading S3 event notifications: the JSON S3 sends to SQS, SNS or a webhook.

Accepted shapes: ``{"Records": [...]}`` (S3 and S3-compatible stores), the SNS envelope
(``{"Type": "Notification", "Message": "<the S3 JSON>"}``), and the ``s3:TestEvent`` S3 sends
when a notification is configured (acknowledged, nothing to do). Object keys arrive URL-encoded
(spaces as ``+``) and are decoded here. Only ``ObjectCreated:*`` records matter: the reconciler
and the ledger make duplicate, late and out-of-order events harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from lakegate.errors import EventsError


class BadEvent(EventsError):
    code = "events.bad_payload"


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    sequencer: str | None = None


def parse(payload: Any) -> list[ObjectCreated]:
    """The created objects a notification names (an empty list for test events and other kinds).

    Raises:
        BadEvent: for JSON that is not an S3 notification.
    """
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise BadEvent(
                f"the body is not JSON: {exc}", hint="send the S3 event notification JSON"
            ) from None
    if not isinstance(payload, dict):
        raise BadEvent("expected a JSON object with Records", hint="send the S3 event notification JSON")
    if payload.get("Type") in ("Notification", "SubscriptionConfirmation") and "Message" in payload:
        if payload["Type"] == "SubscriptionConfirmation":
            return []
        return parse(payload["Message"])
    if payload.get("Event") == "s3:TestEvent":
        return []
    records = payload.get("Records")
    if not isinstance(records, list):
        raise BadEvent("the JSON has no Records list", hint="send the S3 event notification JSON")
    found = []
    for index, record in enumerate(records):
        try:
            if not str(record.get("eventName", "")).startswith(("ObjectCreated:", "s3:ObjectCreated:")):
                continue
            s3 = record["s3"]
            obj = s3["object"]
            found.append(
                ObjectCreated(
                    bucket=str(s3["bucket"]["name"]),
                    key=unquote_plus(str(obj["key"])),
                    size=int(obj["size"]) if obj.get("size") is not None else None,
                    etag=obj.get("eTag"),
                    sequencer=obj.get("sequencer"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadEvent(f"record {index} is not an S3 event record: missing or bad {exc}") from None
    return found


class LandingFilter:
    """Which created objects are landing objects: those in ``bucket`` under ``prefix``.

    Returns their keys relative to the prefix, the keys the landing store uses. A notification
    for another bucket or prefix (one queue often serves several) is counted and ignored.
    """

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.root = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def keys(self, created: list[ObjectCreated]) -> tuple[list[str], int]:
        """``(landing keys, number ignored)``."""
        keys = [
            event.key[len(self.root) :]
            for event in created
            if event.bucket == self.bucket and event.key.startswith(self.root) and event.key != self.root
        ]
        return keys, len(created) - len(keys)
