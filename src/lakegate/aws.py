"""boto3 helpers shared by the S3 store and the SQS consumer: clients and failure messages."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None


def client(
    service: str,
    *,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
    endpoint_url: str | None = None,
    config: Any = None,
) -> Any:
    """A boto3 client. Unset keys mean the standard AWS credential chain.

    Every client comes from one shared session, so each service's API description is loaded
    once per process (a session of its own per client costs about 0.15 s each).
    """
    import boto3

    global _session
    with _lock:  # creating clients from one session is not thread-safe
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            service,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            endpoint_url=endpoint_url,
            config=config,
        )


def describe_failure(exc: Exception) -> tuple[str, str]:
    """``(error code, "Code: message")`` of a botocore error; the code is "" for network errors."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return "", str(exc)
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or code
    return code, f"{code}: {message}" if code and code not in message else message
