"""The AWS-compatible endpoint of ``lakegate up --aws-port``: one address for Athena, Glue and
the S3 results bucket, told apart as AWS tells them apart.

    POST /  X-Amz-Target: AmazonAthena.<Op>   Athena (JSON 1.1)      server/aws/athena_api.py
    POST /  X-Amz-Target: AWSGlue.<Op>        Glue Data Catalog     server/aws/glue_api.py
    GET|HEAD /<bucket>/<key>, ?list-type=2    S3 results            server/aws/s3_results.py

Every request is signed with SigV4 by a lakegate AWS access key (``lakegate tokens create NAME
--aws``); its principal's grants, workgroup, history and metrics apply as on every front end.
Errors come in each protocol's own shape: ``{"__type", "Message"}`` for JSON services, an
``<Error><Code>`` document for S3.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lakegate.auth.aws_keys import SIGNED_BY, AwsIdentity, AwsKeys
from lakegate.auth.principals import Principal
from lakegate.errors import LakegateError
from lakegate.server.aws import rest_json, sigv2, sigv4
from lakegate.server.aws.s3_results import ResultsBucket
from lakegate.server.aws.s3_xml import list_xml, s3_error

log = logging.getLogger(__name__)
Operation = Callable[[Principal, dict[str, Any]], dict[str, Any]]
MAX_BODY = 1024 * 1024  # the largest JSON request (a 256 KB query, with room)
JSON = "application/x-amz-json-1.1"
_SERVICES = {"AmazonAthena": "athena", "AWSGlue": "glue"}
_AUTH_TYPES = {
    "aws.unsigned": ("MissingAuthenticationTokenException", 403),
    "aws.unknown_key": ("UnrecognizedClientException", 400),
    "aws.bad_signature": ("InvalidSignatureException", 400),
    "aws.clock_skew": ("InvalidSignatureException", 400),
}
_ATHENA_TYPES = {"auth.forbidden": "AccessDeniedException", "query.too_many": "TooManyRequestsException"}
_GLUE_TYPES = {
    "auth.forbidden": "AccessDeniedException", "aws.not_found": "EntityNotFoundException",
    "catalog.unknown_table": "EntityNotFoundException", "aws.bad_request": "InvalidInputException",
    "aws.crawler_running": "CrawlerRunningException",
}  # fmt: skip


def _json_error(service: str, error: LakegateError) -> Response:
    kind, status = _AUTH_TYPES.get(error.code, ("", 400))
    internal = error.code.endswith(".internal") or error.code.startswith(("catalog.", "storage."))
    if not kind and internal and error.code != "catalog.unknown_table":
        kind, status = ("InternalServerException" if service == "athena" else "InternalServiceException"), 500
    if not kind:
        kind = (_ATHENA_TYPES if service == "athena" else _GLUE_TYPES).get(
            error.code, "InvalidRequestException" if service == "athena" else "InvalidInputException"
        )
    body: dict[str, Any] = {"__type": kind, "Message": str(error), "LakegateCode": error.code}
    if kind == "InvalidRequestException":
        body["AthenaErrorCode"] = error.code
    if kind == "TooManyRequestsException":
        body["Reason"] = "CONCURRENT_QUERY_LIMIT_EXCEEDED"
    return Response(json.dumps(body), status, media_type=JSON, headers={"x-amzn-ErrorType": kind})


class AwsEndpoint:
    def __init__(
        self, keys: AwsKeys, services: dict[str, dict[str, Operation]], results: ResultsBucket
    ) -> None:
        """``services``: per signing name (athena, glue), its operations by name."""
        self.keys = keys
        self.services = services
        self.results = results

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])

    def _identify(self, request: Request, body: bytes, service: str) -> AwsIdentity:
        """Raises: AuthError ``aws.*`` when the signature does not prove a usable key."""
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("?")[0]
        if service == "s3" and (old := sigv2.parse(request.url.query)) is not None:
            identity = self.keys.identify(old.key_id)
            bucket = self.results.bucket
            virtual = headers.get("host", "").split(":", maxsplit=1)[0].startswith(bucket + ".")
            sigv2.verify(
                old, identity.secret, method=request.method, resource=f"/{bucket}{path}" if virtual else path
            )
            self.keys.used(old.key_id)
            return identity
        presigned = sigv4.parse_presigned(request.url.query) if service == "s3" else None
        signed = presigned or sigv4.parse_authorization(headers.get("authorization"))
        identity = self.keys.identify(signed.key_id)
        sigv4.verify(
            signed, identity.secret, method=request.method, path=path,
            query=request.url.query, headers=headers, body=body, service=service,
        )  # fmt: skip
        self.keys.used(signed.key_id)
        return identity

    async def handle(self, request: Request) -> Response:
        """JSON 1.1 by its ``X-Amz-Target``; else the service the request is signed for: Athena's
        REST-JSON (current botocore), or the S3 results bucket."""
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target")
        if request.method == "POST" and target:
            prefix, _, operation = target.partition(".")
            return await self._json(
                request, _SERVICES.get(prefix, "athena"), operation, request_id, json_1_1=True
            )
        if _signed_for(request.headers.get("authorization")) == "athena":
            return await self._json(request, "athena", None, request_id, json_1_1=False)
        return await self._s3(request, request_id)

    async def _json(
        self, request: Request, service: str, operation: str | None, request_id: str, *, json_1_1: bool
    ) -> Response:
        body = await _body(request)
        try:
            if body is None:
                raise LakegateError(f"the request is larger than {MAX_BODY} bytes", code="aws.bad_request")
            identity = await run_in_threadpool(self._identify, request, body, service)
            principal = identity.principal
            SIGNED_BY.set(identity.key_id)  # what the handler starts ends when this key does
            params: Any = json.loads(body or b"{}") if json_1_1 else None
            if not json_1_1:
                headers = {k.lower(): v for k, v in request.headers.items()}
                path = request.scope.get("raw_path", b"/").decode("latin-1").split("?")[0]
                found = rest_json.operation(
                    service, request.method, path, request.url.query, headers=headers, body=body
                )
                operation, params = found if found else (f"{request.method} {path}", {})
            handler = self.services.get(service, {}).get(operation or "")
            if handler is None:
                raise LakegateError(
                    f"{operation} is not an operation lakegate answers",
                    code="aws.unknown_operation",
                    hint="docs/aws.md lists the Athena and Glue operations lakegate answers",
                )
            if not isinstance(params, dict):
                raise LakegateError("the request body is not a JSON object", code="aws.bad_request")
            answer = await run_in_threadpool(handler, principal, params)
        except (json.JSONDecodeError, ValueError) as exc:
            return _json_error(service, LakegateError(f"the body is not JSON: {exc}", code="aws.bad_request"))
        except LakegateError as exc:
            if exc.code == "aws.unknown_operation":
                return _unknown(exc)
            return _json_error(service, exc)
        except Exception:  # a bug: the client gets a 500, the log the traceback
            log.exception("AWS endpoint: %s %s failed", service, operation)
            return _json_error(service, LakegateError("lakegate failed on this request", code="aws.internal"))
        return Response(json.dumps(answer), media_type=JSON, headers={"x-amzn-RequestId": request_id})

    async def _s3(self, request: Request, request_id: str) -> Response:
        head = request.method == "HEAD"
        try:
            body = await _body(request)
            principal = (await run_in_threadpool(self._identify, request, body or b"", "s3")).principal
            if request.method not in ("GET", "HEAD"):
                raise LakegateError(
                    "the results bucket is read-only",
                    code="auth.forbidden",
                    details={"s3_code": "AccessDenied"},
                )
            bucket, key = self.results.split(request.url.path, request.headers.get("host", ""))
            if not key:
                return await run_in_threadpool(
                    self._bucket, principal, bucket, dict(request.query_params), head
                )
            found = await run_in_threadpool(self.results.object, principal, bucket, key)
        except LakegateError as exc:
            return s3_error(exc, request.url.path, request_id, head=head)
        return _ranged(found, request.headers.get("range"), head=head, request_id=request_id)

    def _bucket(self, principal: Principal, bucket: str, query: dict[str, str], head: bool) -> Response:
        if head or "list-type" not in query:
            self.results._check_bucket(bucket)
            if head:
                return Response(status_code=200)
            if "location" in query:
                return Response(
                    '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint/>',
                    media_type="application/xml",
                )
        listing = self.results.list(principal, bucket, query)
        return Response(list_xml(bucket, listing), media_type="application/xml")


async def _body(request: Request) -> bytes | None:
    """The body, or None when it is larger than ``MAX_BODY`` (the rest is not read)."""
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _signed_for(header: str | None) -> str | None:
    """The service an Authorization header's credential scope names (None: unsigned or malformed)."""
    try:
        return sigv4.parse_authorization(header).service
    except LakegateError:
        return None


def _unknown(error: LakegateError) -> Response:
    body = {"__type": "UnknownOperationException", "Message": str(error)}
    return Response(
        json.dumps(body), 400, media_type=JSON, headers={"x-amzn-ErrorType": "UnknownOperationException"}
    )


def _ranged(found: Any, header: str | None, *, head: bool, request_id: str) -> Response:
    """The object's bytes, whole or the one range asked (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``)."""
    headers = {**found.headers(), "x-amz-request-id": request_id}
    start, end = 0, found.size - 1
    status = 200
    if header and header.startswith("bytes=") and found.size:
        first, _, last = header[6:].split(",")[0].partition("-")
        try:
            if first:
                start, end = int(first), min(int(last) if last else end, end)
            else:
                start = max(0, found.size - int(last))
        except ValueError:
            start, end = 0, found.size - 1
        if start > end or start >= found.size:
            error = LakegateError("the range is not satisfiable", code="aws.bad_request",
                                  details={"s3_code": "InvalidRange"})  # fmt: skip
            return s3_error(error, found.key, request_id, head=head, status=416)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{found.size}"
    headers["Content-Length"] = str(end - start + 1 if found.size else 0)
    if head:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(_read(found.path, start, end - start + 1), status, headers=headers)


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as data:
        data.seek(start)
        while length > 0:
            block = data.read(min(length, 1 << 20))
            if not block:
                return
            length -= len(block)
            yield block
