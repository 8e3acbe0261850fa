"""The results bucket: each Athena query's result as the S3 object ``<OutputLocation><id>.csv``
(``.txt`` for utility statements), as PyAthena's pandas and arrow cursors, awswrangler and
``aws s3 cp`` download it: GetObject (with ranges), HeadObject, ListObjectsV2, HeadBucket.

Only the principal who ran a query (and admins) may read or list its result — unlike Athena,
whose results bucket escapes Lake Formation's grants. A result's file is written once, from the
kept Arrow result, beside it in the results folder, and served from there.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lakegate.auth.principals import Principal
from lakegate.errors import LakegateError
from lakegate.query.history import History
from lakegate.server.aws.athena_api import execution_id, history_id
from lakegate.server.aws.athena_meta import bad_request
from lakegate.server.aws.athena_values import csv_lines, text_lines
from lakegate.server.jobs import Jobs

_SUFFIXES = (".csv", ".txt")


@dataclass(frozen=True)
class S3Object:
    key: str
    path: Path
    size: int
    etag: str
    mtime: float

    def headers(self) -> dict[str, str]:
        kind = "text/csv" if self.key.endswith(".csv") else "text/plain"
        return {
            "ETag": self.etag, "Last-Modified": formatdate(self.mtime, usegmt=True),
            "Accept-Ranges": "bytes", "Content-Type": kind,
        }  # fmt: skip


def no_such(what: str, key: str) -> LakegateError:
    return LakegateError(
        f"no {what} {key!r} (results are kept for a day, and only their principal reads them)",
        code="aws.not_found",
        hint="GetQueryExecution gives a query's OutputLocation",
        details={"s3_code": "NoSuchKey" if what == "key" else "NoSuchBucket", "key": key},
    )


def parse_location(location: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix/``."""
    rest = location.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"


class ResultsBucket:
    def __init__(self, jobs: Jobs, history: History, location: str) -> None:
        self.jobs = jobs
        self.history = history
        self.bucket, self.prefix = parse_location(location)
        self._lock = threading.Lock()

    def split(self, path: str, host: str) -> tuple[str, str]:
        """(bucket, key) of a request: path style (``/bucket/key``) or virtual host (``bucket.host``)."""
        path = unquote(path)
        if host.split(":", maxsplit=1)[0].startswith(self.bucket + "."):
            return self.bucket, path.lstrip("/")
        bucket, _, key = path.lstrip("/").partition("/")
        return bucket, key

    def _check_bucket(self, bucket: str) -> None:
        if bucket != self.bucket:
            raise no_such("bucket", bucket)

    def object(self, principal: Principal, bucket: str, key: str) -> S3Object:
        """The result object ``key`` if ``principal`` may read it. Raises: ``aws.not_found``."""
        self._check_bucket(bucket)
        name = key.removeprefix(self.prefix)
        if not key.startswith(self.prefix) or "/" in name or not name.endswith(_SUFFIXES):
            raise no_such("key", key)
        stem, suffix = name[:-4], name[-4:]
        try:
            record = self.history.get(principal, history_id(stem))
        except LakegateError:
            raise no_such("key", key) from None
        wanted = ".csv" if (record.athena or {}).get("statement_type", "DML") == "DML" else ".txt"
        if record.state != "SUCCEEDED" or suffix != wanted:
            raise no_such("key", key)
        return self._file(record.id, key, suffix)

    def _file(self, query_id: str, key: str, suffix: str) -> S3Object:
        """The object's file, written once from the kept result with its ETag beside it.

        Raises: ``aws.not_found`` when the result is no longer kept."""
        path = self.jobs.result_path(query_id).with_suffix(suffix)
        tag = path.with_name(path.name + ".etag")
        with self._lock:
            if not (path.exists() and tag.exists()):
                try:
                    table = self.jobs.result(query_id)
                except LakegateError:
                    raise no_such("key", key) from None
                digest = hashlib.md5(usedforsecurity=False)
                partial = path.with_suffix(suffix + ".partial")
                with partial.open("wb") as out:
                    for line in csv_lines(table) if suffix == ".csv" else text_lines(table):
                        out.write(line)
                        digest.update(line)
                partial.replace(path)
                tag.write_text(f'"{digest.hexdigest()}"', encoding="ascii")
        stat = path.stat()
        return S3Object(key, path, stat.st_size, tag.read_text(encoding="ascii"), stat.st_mtime)

    def list(self, principal: Principal, bucket: str, params: dict[str, str]) -> dict[str, Any]:
        """ListObjectsV2: the caller's own kept results under ``prefix`` (admins: everyone's)."""
        self._check_bucket(bucket)
        prefix = params.get("prefix", "")
        try:
            most = min(1000, int(params.get("max-keys", "1000")))
        except ValueError:
            raise bad_request("max-keys is a number") from None
        after = params.get("continuation-token") or params.get("start-after") or ""
        found = []
        for record in self.history.of(principal, limit=10_000):
            if record.state != "SUCCEEDED" or not self.jobs.result_path(record.id).exists():
                continue
            suffix = ".csv" if (record.athena or {}).get("statement_type", "DML") == "DML" else ".txt"
            key = f"{self.prefix}{execution_id(record.id)}{suffix}"
            if key.startswith(prefix) and key > after:
                found.append(key)
        found.sort()
        page = found[:most]
        objects = [self._file(history_id(k[len(self.prefix) : -4]), k, k[-4:]) for k in page]
        return {
            "prefix": prefix, "objects": objects, "truncated": len(found) > most,
            "next": page[-1] if len(found) > most else None, "max_keys": most,
        }  # fmt: skip
