"""S3's query-string Signature Version 2: the presigned URLs boto3 makes by default for an S3
endpoint of its own (``?AWSAccessKeyId=…&Expires=…&Signature=…``), for GET and HEAD only.

    Signature = base64(HMAC-SHA1(secret, "GET\\n\\n\\n<Expires>\\n/<bucket>/<key>"))
"""

from __future__ import annotations

import base64
import hmac
import time
from dataclasses import dataclass
from urllib.parse import unquote

from lakegate.errors import AuthError

MAX_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class QuerySigned:
    key_id: str
    expires: int
    signature: str


def parse(query: str) -> QuerySigned | None:
    """The V2 signature of a presigned URL (None: it carries none)."""
    values = {k: unquote(v) for k, _, v in (p.partition("=") for p in query.split("&") if p)}
    if not {"AWSAccessKeyId", "Signature", "Expires"} <= set(values):
        return None
    try:
        expires = int(values["Expires"])
    except ValueError:
        expires = 0
    return QuerySigned(values["AWSAccessKeyId"], expires, values["Signature"])


def verify(signed: QuerySigned, secret: str, *, method: str, resource: str) -> None:
    """``resource``: ``/<bucket>/<key>`` as the URL writes it.

    Raises: AuthError ``aws.clock_skew`` (expired, or valid for more than 7 days),
    ``aws.bad_signature`` (it does not match), or ``aws.unsigned`` for a method other than GET/HEAD."""
    if method not in ("GET", "HEAD"):
        raise AuthError("presigned URLs read results only", code="aws.unsigned", hint="use GET")
    now = time.time()
    if signed.expires < now or signed.expires > now + MAX_SECONDS:
        raise AuthError(
            "the presigned URL has expired (or is valid for more than 7 days)",
            code="aws.clock_skew",
            hint="presign it again",
        )
    wanted = f"{method}\n\n\n{signed.expires}\n{resource}".encode()
    computed = base64.b64encode(hmac.new(secret.encode(), wanted, "sha1").digest()).decode()
    if not hmac.compare_digest(computed, signed.signature):
        raise AuthError(
            "the presigned URL's signature does not match",
            code="aws.bad_signature",
            hint="presign it again with the key's secret",
        )
