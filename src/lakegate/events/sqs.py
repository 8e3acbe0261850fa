"""An SQS consumer: S3 event notifications read from a queue (``events.sqs_queue_url``).

S3 sends to the queue directly or through SNS; both bodies are understood. Like the webhook,
the consumer never does work itself: it hands the keys to the ingest service, then deletes the
messages. A message is deleted only after its keys were handed over, so a crash in between
means a redelivery, and a repeated event is harmless. A body that is not an S3 notification is
logged with its message id and deleted (it can never become one; the reconciler covers any
object it might have named). On stop, messages received but not handed over are left in the
queue: they come back after the visibility timeout.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable
from typing import Any

from lakegate import aws
from lakegate.aws import describe_failure
from lakegate.config import Settings
from lakegate.errors import EventsError
from lakegate.events.s3_notifications import BadEvent, LandingFilter, parse

logger = logging.getLogger(__name__)

_AWS_QUEUE_URL = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
_TERMINAL_CODES = {
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "AccessDenied",
    "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAddress", "UnrecognizedClientException",
}  # fmt: skip


def sqs_client(settings: Settings) -> Any:
    """A boto3 SQS client for ``events.sqs_queue_url``, with the ingest identity of ``storage.s3``.

    The region comes from ``events.sqs_region``, else the queue URL, else ``storage.s3.region``.
    Unset keys mean the standard AWS credential chain.
    """
    from botocore.config import Config

    events, s3 = settings.events, settings.storage.s3
    match = _AWS_QUEUE_URL.match(events.sqs_queue_url or "")
    region = events.sqs_region or (match.group(1) if match else None) or s3.region
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=events.sqs_wait_seconds + 10,  # a long poll holds the socket that long
    )
    return aws.client(
        "sqs",
        region=region,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        endpoint_url=events.sqs_endpoint_url,
        config=config,
    )


def _error(op: str, queue_url: str, exc: Exception) -> EventsError:
    code, message = describe_failure(exc)
    transient = code not in _TERMINAL_CODES
    return EventsError(
        f"SQS {op} on {queue_url} failed: {message}",
        code="events.sqs",
        transient=transient,
        hint=None if transient else "check events.sqs_queue_url, the region and the credentials",
        details={"sqs_code": code},
    )


class SqsConsumer:
    """Long-polls ``queue_url`` on a background thread and calls ``notify(landing_key)``."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        landing: LandingFilter,
        notify: Callable[[str], None],
        wait_seconds: int = 20,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.landing = landing
        self.notify = notify
        self.wait_seconds = wait_seconds
        self.counts = {"messages": 0, "keys": 0, "ignored": 0, "bad": 0, "errors": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lakegate-sqs", daemon=True)

    def check(self) -> None:
        """GetQueueAttributes once, so a wrong URL or identity fails at start-up, naming the call.

        Raises:
            EventsError: ``events.sqs``; ``transient`` when the service may come back.
        """
        try:
            self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        except Exception as exc:
            error = _error("GetQueueAttributes", self.queue_url, exc)
            error.message += " (the GetQueueAttributes call at start-up)"
            raise error from exc

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stops polling. A long poll in flight is abandoned; its messages go back to the queue."""
        self._stop.set()
        self._thread.join(timeout=2)

    def poll_once(self) -> int:
        """One ReceiveMessage call, its keys handed over, its messages deleted. Returns messages.

        Raises:
            EventsError: when receiving fails.
        """
        try:
            response = self.client.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
            )
        except Exception as exc:
            raise _error("ReceiveMessage", self.queue_url, exc) from exc
        messages = response.get("Messages", [])
        if self._stop.is_set():
            return 0  # not handed over: leave them for the next start
        done = []
        for n, message in enumerate(messages):
            self._handle(message)
            done.append({"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]})
        if done:
            self._delete(done)
        return len(messages)

    def _handle(self, message: dict[str, Any]) -> None:
        self.counts["messages"] += 1
        try:
            created = parse(message.get("Body", ""))
        except BadEvent as exc:
            self.counts["bad"] += 1
            body = str(message.get("Body", ""))
            logger.warning(
                "SQS message %s is not an S3 event notification, deleted: %s; body starts %r",
                message.get("MessageId"),
                exc.one_line(),
                body[:200],
            )
            return
        keys, ignored = self.landing.keys(created)
        self.counts["ignored"] += ignored
        for key in keys:
            self.notify(key)
        self.counts["keys"] += len(keys)

    def _delete(self, entries: list[dict[str, str]]) -> None:
        try:
            response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as exc:
            logger.warning(
                "%s; the messages will be delivered again, harmlessly",
                _error("DeleteMessageBatch", self.queue_url, exc).one_line(),
            )
            return
        for failed in response.get("Failed", []):
            logger.warning("SQS could not delete message %s: %s", failed.get("Id"), failed.get("Message"))

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.poll_once()
                failures = 0
            except EventsError as exc:
                failures += 1
                self.counts["errors"] += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 8)) * (0.5 + random.random() / 2)
                logger.warning("%s; trying again in %.1f s", exc.one_line(), delay)
                self._stop.wait(delay)
            except Exception:
                failures += 1
                self.counts["errors"] += 1
                logger.exception("the SQS consumer failed; trying again")
                self._stop.wait(min(30.0, 0.5 * 2 ** min(failures, 8)))
