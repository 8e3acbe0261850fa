"""AWS Signature Version 4, checked as AWS checks it: the request's canonical form, signed with a
key derived from the secret, the date, the region and the service.

    Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/<service>/aws4_request,
                   SignedHeaders=host;x-amz-date;..., Signature=<64 hex digits>

The region is whatever the client was configured with (lakegate has one place for everything);
the service (athena, glue, s3) must be the one the request is for. A request whose ``X-Amz-Date``
is more than ``MAX_SKEW_SECONDS`` from the server's clock is refused, as AWS refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from calendar import timegm
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lakegate.errors import AuthError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
UNSIGNED = "UNSIGNED-PAYLOAD"
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Signed:
    """What an Authorization header claims: who, when, where, and the signature."""

    key_id: str
    date: str  # yyyymmdd of the credential scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    presigned_at: str | None = None  # a presigned URL: its X-Amz-Date, and for how many seconds
    expires: int = 0

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _refused(message: str, code: str, hint: str) -> AuthError:
    return AuthError(message, code=code, hint=hint)


def parse_authorization(header: str | None) -> Signed:
    """Raises: AuthError ``aws.unsigned`` (no SigV4 header), ``aws.bad_signature`` (malformed)."""
    if not header:
        raise _refused(
            "the request is not signed",
            "aws.unsigned",
            "sign it with an AWS access key of lakegate's (`lakegate tokens create NAME --aws`)",
        )
    found = _AUTH.match(header.strip())
    if found is None:
        raise _refused(
            "the Authorization header is not an AWS4-HMAC-SHA256 signature",
            "aws.bad_signature",
            "use an AWS SDK or CLI with signature version 4 (the default)",
        )
    parts = found["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _refused(
            f"the credential scope {found['credential']!r} is not "
            "<key>/<date>/<region>/<service>/aws4_request",
            "aws.bad_signature",
            "use an AWS SDK or CLI with signature version 4 (the default)",
        )
    return Signed(parts[0], parts[1], parts[2], parts[3], found["signed"].split(";"), found["signature"])


MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


def parse_presigned(query: str) -> Signed | None:
    """The signature a presigned URL carries in its query string (None: it carries none).

    Raises: AuthError ``aws.bad_signature`` for one that is malformed."""
    values = {k: unquote(v) for k, _, v in (p.partition("=") for p in query.split("&") if p)}
    if values.get("X-Amz-Algorithm") != ALGORITHM or "X-Amz-Signature" not in values:
        return None
    header = (
        f"{ALGORITHM} Credential={values.get('X-Amz-Credential', '')}, "
        f"SignedHeaders={values.get('X-Amz-SignedHeaders', '')}, Signature={values['X-Amz-Signature']}"
    )
    signed = parse_authorization(header)
    try:
        expires = int(values.get("X-Amz-Expires", ""))
    except ValueError:
        expires = -1
    if not 1 <= expires <= MAX_PRESIGNED_SECONDS:
        raise _refused(
            "X-Amz-Expires of a presigned URL is 1 to 604800 seconds",
            "aws.bad_signature",
            "presign it again, for at most 7 days",
        )
    return Signed(
        signed.key_id, signed.date, signed.region, signed.service, signed.signed_headers, signed.signature,
        presigned_at=values.get("X-Amz-Date", ""), expires=expires,
    )  # fmt: skip


def _without_signature(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not p.startswith("X-Amz-Signature="))


def amz_time(value: str | None) -> float:
    """Seconds since the epoch of an ``X-Amz-Date`` (``20261205T081500Z``).

    Raises: AuthError ``aws.bad_signature`` when missing or malformed."""
    try:
        return float(timegm(time.strptime(value or "", "%Y%m%dT%H%M%SZ")))
    except ValueError:
        raise _refused(
            f"X-Amz-Date {value!r} is not a time like 20261205T081500Z",
            "aws.bad_signature",
            "use an AWS SDK or CLI with signature version 4 (the default)",
        ) from None


def check_clock(stamp: str | None, now: float | None = None) -> str:
    """Raises: AuthError ``aws.clock_skew`` when the request was signed too far from now."""
    when = amz_time(stamp)
    now = time.time() if now is None else now
    if abs(now - when) > MAX_SKEW_SECONDS:
        server = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        raise _refused(
            f"the request was signed at {stamp}, more than 15 minutes from the server's {server}",
            "aws.clock_skew",
            "correct this machine's clock (NTP)",
        )
    return stamp or ""


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw: str) -> str:
    """The query string as SigV4 signs it: pairs sorted, each part percent-encoded once."""
    pairs = []
    for part in raw.split("&") if raw else []:
        key, _, value = part.partition("=")
        pairs.append((_uri_encode(unquote(key)), _uri_encode(unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_path(path: str, service: str) -> str:
    """The path as SigV4 signs it: S3's as sent; other services' normalized (no ``.``, ``..``
    or doubled ``/``) and percent-encoded once more."""
    if service == "s3":
        return path or "/"
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    normalized = "/" + "/".join(parts) + ("/" if path.endswith("/") and parts else "")
    return quote(normalized, safe="/~")


def canonical_request(
    method: str, path: str, query: str, headers: Mapping[str, str], *, signed: list[str], payload_hash: str
) -> str:
    """``path``: ``canonical_path``'s. ``headers``: lowercase names."""
    lines = [f"{name}:{_SPACES.sub(' ', headers.get(name, '').strip())}" for name in signed]
    return "\n".join(
        [method, path or "/", canonical_query(query), "\n".join(lines) + "\n", ";".join(signed), payload_hash]
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), "sha256").digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), "sha256").digest()
    return key


def signature(secret: str, signed: Signed, stamp: str, request: str) -> str:
    to_sign = "\n".join([ALGORITHM, stamp, signed.scope, hashlib.sha256(request.encode("utf-8")).hexdigest()])
    key = signing_key(secret, signed.date, signed.region, signed.service)
    return hmac.new(key, to_sign.encode("utf-8"), "sha256").hexdigest()


def verify(
    signed: Signed,
    secret: str,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    service: str,
) -> None:
    """Raises: AuthError ``aws.bad_signature`` (it does not match, names another service, or
    signs too little), ``aws.clock_skew``."""
    hint = "check the secret access key; it is shown once by `lakegate tokens create NAME --aws`"
    if signed.presigned_at is not None:
        stamp = signed.presigned_at
        if time.time() > amz_time(stamp) + signed.expires:
            raise _refused("the presigned URL has expired", "aws.clock_skew", "presign it again")
        if amz_time(stamp) > time.time() + MAX_SKEW_SECONDS:
            check_clock(stamp)
        query, headers = _without_signature(query), {**headers, "x-amz-content-sha256": UNSIGNED}
    else:
        stamp = check_clock(headers.get("x-amz-date"))
    if signed.service != service:
        raise _refused(
            f"the request is signed for the service {signed.service!r}, not {service!r}",
            "aws.bad_signature",
            hint,
        )
    if "host" not in signed.signed_headers or stamp[:8] != signed.date:
        raise _refused(
            "the signature must cover the Host header, and its scope the day of X-Amz-Date",
            "aws.bad_signature",
            "use an AWS SDK or CLI with signature version 4 (the default)",
        )
    declared = headers.get("x-amz-content-sha256")
    actual = hashlib.sha256(body).hexdigest()
    if declared not in (None, UNSIGNED, actual):
        raise _refused("the body is not the one the request was signed with", "aws.bad_signature", hint)
    request = canonical_request(
        method, canonical_path(path, service), query, headers, signed=signed.signed_headers,
        payload_hash=declared or actual,
    )  # fmt: skip
    if not hmac.compare_digest(signature(secret, signed, stamp, request), signed.signature):
        raise _refused(
            "the request's signature does not match the one computed with the key's secret",
            "aws.bad_signature",
            hint,
        )
