"""S3's XML: an error document and a ListObjectsV2 answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from starlette.responses import Response

from lakegate.errors import LakegateError

_STATUS = {"NoSuchKey": 404, "NoSuchBucket": 404, "AccessDenied": 403, "InvalidRange": 416}
_AUTH_CODES = {
    "aws.unsigned": "AccessDenied", "aws.unknown_key": "InvalidAccessKeyId",
    "aws.bad_signature": "SignatureDoesNotMatch", "aws.clock_skew": "RequestTimeTooSkewed",
}  # fmt: skip


def s3_error(
    error: LakegateError, resource: str, request_id: str, *, head: bool = False, status: int | None = None
) -> Response:
    """S3's error document (a HEAD gets the status alone, as S3 answers it)."""
    code = _AUTH_CODES.get(error.code) or error.details.get("s3_code") or "InvalidRequest"
    status = status or _STATUS.get(
        code, 403 if error.code.startswith("aws.") or error.code.startswith("auth.") else 400
    )
    headers = {"x-amz-request-id": request_id}
    if head:
        return Response(status_code=status, headers=headers)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(str(error))}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(document, status, media_type="application/xml", headers=headers)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def list_xml(bucket: str, listing: dict[str, Any]) -> str:
    """ListObjectsV2's answer."""
    contents = "".join(
        f"<Contents><Key>{escape(o.key)}</Key><LastModified>{_iso(o.mtime)}</LastModified>"
        f"<ETag>{escape(o.etag)}</ETag><Size>{o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        for o in listing["objects"]
    )
    following = (
        f"<NextContinuationToken>{escape(listing['next'])}</NextContinuationToken>" if listing["next"] else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(listing['prefix'])}</Prefix>"
        f"<KeyCount>{len(listing['objects'])}</KeyCount><MaxKeys>{listing['max_keys']}</MaxKeys>"
        f"<IsTruncated>{'true' if listing['truncated'] else 'false'}</IsTruncated>{contents}{following}"
        "</ListBucketResult>"
    )
