"""What only S3 does: server-side and multipart copies, read-only identities, clear errors."""

from __future__ import annotations

import os

import pytest

from lakegate.errors import StorageError
from lakegate.storage.s3 import S3Store
from tests import s3server
from tests.s3server import SeaweedS3


def test_multipart_server_side_copy_above_the_limit(s3_store: S3Store) -> None:
    payload = os.urandom(12 * 1024 * 1024 + 123)
    s3_store.write("landing/big.bin", payload)
    s3_store.copy_limit = 5 * 1024 * 1024
    s3_store.part_size = 5 * 1024 * 1024  # S3's smallest part: three parts here
    info = s3_store.copy("landing/big.bin", "lake/big.bin")
    assert info.size == len(payload)
    assert s3_store.sha256("lake/big.bin") == s3_store.sha256("landing/big.bin")
    assert s3_store.read("lake/big.bin") == payload


def test_query_identity_reads_and_lists_but_cannot_write(s3_store: S3Store, seaweed: SeaweedS3) -> None:
    s3_store.write("lake/t/a.csv", b"a\n1\n")
    reader = S3Store(s3_store.bucket, s3_store.prefix, endpoint_url=seaweed.endpoint,
                     access_key=s3server.QUERY[0], secret_key=s3server.QUERY[1])  # fmt: skip
    assert reader.read("lake/t/a.csv") == b"a\n1\n"
    assert [i.key for i in reader.list("lake/")] == ["lake/t/a.csv"]
    for attempt in (lambda: reader.write("lake/t/b.csv", b"x"), lambda: reader.delete("lake/t/a.csv"),
                    lambda: reader.copy("lake/t/a.csv", "lake/t/c.csv")):  # fmt: skip
        with pytest.raises(StorageError) as err:
            attempt()
        assert not err.value.transient and "AccessDenied" in str(err.value)
    assert s3_store.read("lake/t/a.csv") == b"a\n1\n"
    assert [i.key for i in s3_store.list("lake/")] == ["lake/t/a.csv"]


def test_listing_pages_through_many_objects(s3_store: S3Store) -> None:
    for i in range(1005):  # more than one page of 1000
        s3_store.client.put_object(Bucket=s3_store.bucket, Key=f"{s3_store.prefix}landing/k{i:04d}", Body=b"")
    keys = [i.key for i in s3_store.list("landing/")]
    assert len(keys) == 1005 and keys == sorted(keys)


def test_unreachable_endpoint_is_transient() -> None:
    store = S3Store("bucket", endpoint_url="http://127.0.0.1:9", access_key="a", secret_key="b")
    with pytest.raises(StorageError) as err:
        store.stat("landing/x")
    assert err.value.transient and "s3://bucket/landing/x" in str(err.value)


def test_wrong_secret_is_terminal(s3_store: S3Store, seaweed: SeaweedS3) -> None:
    store = S3Store(
        s3_store.bucket, endpoint_url=seaweed.endpoint, access_key=s3server.INGEST[0], secret_key="wrong"
    )
    with pytest.raises(StorageError) as err:
        store.write("x", b"1")
    assert not err.value.transient
