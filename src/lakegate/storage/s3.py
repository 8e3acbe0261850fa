"""An S3-compatible bucket (AWS, MinIO, Ceph, SeaweedFS, ...) as an object store, through boto3.

Keys live under an optional prefix of one bucket. Every write is a single PUT (S3 objects appear
whole or not at all); ``copy`` is server-side (``CopyObject``, multipart ``UploadPartCopy`` above
the single-copy limit), conditional on the source's ETag so a replaced source is never copied
half-old. botocore errors are translated here, at the edge, into ``StorageError``s that say
whether a retry can help.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, cast

from lakegate import aws
from lakegate.aws import describe_failure
from lakegate.errors import StorageError
from lakegate.storage.base import ObjectInfo, ObjectStore, Scan, Sink, scan_stream, validate_key

COPY_LIMIT = 5 * 1024**3  # the largest single CopyObject S3 allows
PART_SIZE = 512 * 1024**2

_TERMINAL_CODES = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "InvalidBucketName",
    "AllAccessDisabled", "InvalidObjectState", "MethodNotAllowed", "403", "401", "Forbidden", "404",
}  # fmt: skip


class S3Store(ObjectStore):
    """Objects in ``bucket`` under ``prefix``.

    Args:
        bucket: the bucket name.
        prefix: a key prefix inside the bucket ("" for the whole bucket).
        endpoint_url: a custom endpoint (MinIO, SeaweedFS, ...); None for AWS.
        region: the region name.
        access_key, secret_key: explicit credentials; None uses the standard AWS credential chain.
        path_style: path-style addressing (most self-hosted stores need it).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        path_style: bool = True,
        copy_limit: int = COPY_LIMIT,
        part_size: int = PART_SIZE,
    ) -> None:
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.path_style = path_style
        self.copy_limit = copy_limit
        self.part_size = part_size
        config = Config(
            s3={"addressing_style": "path" if path_style else "virtual"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=15,  # per socket read: a stalled server must not hold a worker for minutes
            parameter_validation=False,  # lakegate builds every call itself; validation costs CPU per call
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",  # the pipeline hashes what it reads itself
        )
        self.client: Any = aws.client(
            "s3",
            region=region or "us-east-1",
            access_key=access_key,
            secret_key=secret_key,
            endpoint_url=endpoint_url,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3Store({self.url('')!r}, endpoint={self.endpoint_url!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def _error(self, op: str, key: str, exc: Exception) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        code, message = describe_failure(exc)
        transient = code not in _TERMINAL_CODES
        return StorageError(
            f"S3 {op} of {self.url(key)} failed: {message}",
            code=f"storage.{op}",
            transient=transient,
            hint="check the bucket, the endpoint and the credentials" if not transient else None,
            details={"s3_code": code},
        )

    def check(self) -> None:
        """HeadBucket, then one ListObjectsV2 page: the two calls every later step depends on."""
        calls: list[tuple[str, Callable[[], object]]] = [
            ("HeadBucket", lambda: self.client.head_bucket(Bucket=self.bucket)),
            (
                "ListObjectsV2",
                lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1),
            ),
        ]
        for op, call in calls:
            try:
                call()
            except Exception as exc:
                error = self._error(op, "", exc)
                error.message = f"{error.message} (the {op} call at start-up)"
                raise error from exc

    def stat(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("stat", key, exc) from exc
        except Exception as exc:
            raise self._error("stat", key, exc) from exc
        return ObjectInfo(key, int(head["ContentLength"]), _ns(head["LastModified"]), _etag(head))

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        where = {"StartAfter": self.prefix + start_after} if start_after else {}
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix, **where):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    if not key or key.endswith("/"):
                        continue  # folder markers some tools create
                    yield ObjectInfo(key, int(item["Size"]), _ns(item["LastModified"]), _etag(item))
        except StorageError:
            raise
        except Exception as exc:
            raise self._error("list", prefix, exc) from exc

    def _get(self, key: str) -> dict[str, Any]:
        """GetObject: the answer, whose ``Body`` streams the content."""
        from botocore.exceptions import ClientError

        try:
            return cast(dict[str, Any], self.client.get_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise self._not_found(key) from None
            raise self._error("open", key, exc) from exc
        except Exception as exc:
            raise self._error("open", key, exc) from exc

    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, self._get(key)["Body"])

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """One ranged GET; a negative ``start`` asks for the last ``-start`` bytes."""
        wanted = f"bytes=-{-start}" if start < 0 else f"bytes={start}-{start + length - 1}"
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=wanted)
            return bytes(response["Body"].read())[:length]
        except Exception as exc:
            raise self._error("read", key, exc) from exc

    def write(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(data))
            else:
                self.client.upload_fileobj(cast(IO[bytes], data), self.bucket, self._key(key))
        except Exception as exc:
            raise self._error("write", key, exc) from exc
        info = self.stat(key)
        if info is None:
            raise StorageError(f"{self.url(key)} is missing right after it was written", code="storage.write",
                               transient=True)  # fmt: skip
        return info

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._error("delete", key, exc) from exc

    def same_account(self, other: S3Store) -> bool:
        """True when this store's credentials can read ``other``'s objects in a server-side copy."""
        mine = self.client._request_signer._credentials
        theirs = other.client._request_signer._credentials
        return bool(
            self.endpoint_url == other.endpoint_url
            and mine is not None
            and theirs is not None
            and mine.get_frozen_credentials() == theirs.get_frozen_credentials()
        )

    def copy(self, src: str, dst: str, *, if_etag: str | None = None, size: int | None = None) -> ObjectInfo:
        """Server-side copy; multipart above ``copy_limit``; only from the ETag seen at the start."""
        return self.copy_from(self, src, dst, if_etag=if_etag, size=size)

    def copy_from(
        self, origin: S3Store, src: str, dst: str, *, if_etag: str | None = None, size: int | None = None
    ) -> ObjectInfo:
        """Server-side copy of ``origin``'s ``src`` (any bucket this account reads) to ``dst`` here.

        CopyObject is conditional on the source's ETag: ``if_etag`` when the caller read the
        source (then ``size`` spares a HeadObject), else the ETag a HeadObject finds. The returned
        info carries the new object's ETag and time from CopyObject's answer.
        """
        from botocore.exceptions import ClientError

        if if_etag is None or size is None:
            info = origin.stat(src)
            if info is None:
                raise origin._not_found(src)
            if if_etag is not None and info.etag != if_etag:
                raise origin._changed(src)
            if_etag, size = info.etag, info.size
        etag = f'"{if_etag}"' if if_etag else ""
        source = {"Bucket": origin.bucket, "Key": origin._key(src)}
        try:
            if size <= self.copy_limit:
                result = self.client.copy_object(
                    Bucket=self.bucket, Key=self._key(dst), CopySource=source, CopySourceIfMatch=etag
                )["CopyObjectResult"]
                return ObjectInfo(dst, size, _ns(result["LastModified"]), _etag(result))
            self._multipart_copy(source, dst, size, etag)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412"):
                raise origin._changed(src) from None
            if code in ("NoSuchKey", "404"):
                raise origin._not_found(src) from None
            raise self._error("copy", src, exc) from exc
        except Exception as exc:
            raise self._error("copy", src, exc) from exc
        copied = self.stat(dst)
        if copied is None:
            raise StorageError(
                f"{self.url(dst)} is missing right after a copy", code="storage.copy", transient=True
            )
        return copied

    def _not_found(self, key: str) -> StorageError:
        return StorageError(f"object {self.url(key)} not found", code="storage.not_found")

    def _changed(self, key: str) -> StorageError:
        return StorageError(f"{self.url(key)} was replaced while it was being copied", code="storage.changed")

    def _multipart_copy(self, source: dict[str, str], dst: str, size: int, etag: str) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=self._key(dst))
        upload_id = upload["UploadId"]
        parts = []
        try:
            for number, start in enumerate(range(0, size, self.part_size), start=1):
                end = min(start + self.part_size, size) - 1
                part = self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=self._key(dst),
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=source,
                    CopySourceRange=f"bytes={start}-{end}",
                    CopySourceIfMatch=etag,
                )
                parts.append({"PartNumber": number, "ETag": part["CopyPartResult"]["ETag"]})
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self._key(dst), UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except Exception:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(dst), UploadId=upload_id)
            raise

    def scan(self, key: str, head_bytes: int = 0, tail_bytes: int = 0, spool: Sink | None = None) -> Scan:
        """One GET: the hash, first and last bytes, and the ETag of the version read."""
        response = self._get(key)
        body = response["Body"]
        try:
            etag, mtime_ns = _etag(response), _ns(response["LastModified"])
            return scan_stream(body, head_bytes, tail_bytes, spool, etag=etag, mtime_ns=mtime_ns)
        except Exception as exc:
            raise self._error("read", key, exc) from exc
        finally:
            body.close()


def _etag(answer: dict[str, Any]) -> str | None:
    """The ETag of an S3 answer without its quotes (some servers send them, some do not)."""
    value = answer.get("ETag")
    return str(value).strip('"') if value else None


def _ns(when: Any) -> int:
    """A botocore datetime as nanoseconds since the epoch."""
    return int(when.timestamp() * 1e9)
