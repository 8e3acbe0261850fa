"""Landing, lake and quarantine in different places: a folder, one bucket, another bucket."""

from __future__ import annotations

from pathlib import Path

import lakegate
from lakegate.app import open_app
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from tests import s3server
from tests.s3server import SeaweedS3


def test_areas_in_a_folder_and_two_buckets(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    inbox = tmp_path / "inbox"
    other_bucket = seaweed.new_bucket()
    prefix = seaweed.new_prefix()
    (home / "lakegate.yaml").write_text(
        f"storage:\n  landing: file://{inbox}/\n  lake: s3://{seaweed.bucket}/{prefix}/lake/\n"
        f"  quarantine: s3://{other_bucket}/rejects/\n  s3:\n    endpoint_url: {seaweed.endpoint}\n"
        f"    access_key: {s3server.INGEST[0]}\n    secret_key: {s3server.INGEST[1]}\n"
        f"    query_access_key: {s3server.QUERY[0]}\n    query_secret_key: {s3server.QUERY[1]}\n"
    )
    app = open_app(home)
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    try:
        (inbox / "s" / "t").mkdir(parents=True)
        (inbox / "s" / "t" / "a.csv").write_bytes(b"id\n1\n2\n")
        (inbox / "s" / "t" / "bad.csv").write_bytes(b"")
        for key in ["landing/s/t/a.csv", "landing/s/t/bad.csv"]:
            pipeline.process(key)
        assert [o.kind for o in outcomes] == ["accepted", "quarantined"]
        assert not (inbox / "s" / "t" / "a.csv").exists() and not (inbox / "s" / "t" / "bad.csv").exists()
        client = seaweed.client()
        lake = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=f"{prefix}/lake/")["Contents"]
        assert [o["Key"] for o in lake] == [f"{prefix}/lake/s/t/a.csv"]
        rejects = client.list_objects_v2(Bucket=other_bucket, Prefix="rejects/")["Contents"]
        assert len(rejects) == 1 and rejects[0]["Key"].endswith("/s/t/bad.csv")
        with lakegate.connect(home) as con:
            assert con.execute("SELECT sum(id) FROM s.t").fetchall() == [(3,)]
    finally:
        app.close()


def test_server_side_copy_across_buckets(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    inbound = seaweed.new_bucket()
    prefix = seaweed.new_prefix()
    (home / "lakegate.yaml").write_text(
        f"storage:\n  landing: s3://{inbound}/in/\n  lake: s3://{seaweed.bucket}/{prefix}/lake/\n"
        f"  s3:\n    endpoint_url: {seaweed.endpoint}\n"
        f"    access_key: {s3server.INGEST[0]}\n    secret_key: {s3server.INGEST[1]}\n"
    )
    app = open_app(home)
    try:
        landing, lake = app.store.area("landing"), app.store.area("lake")
        assert lake.same_account(landing)  # type: ignore[attr-defined]
        seaweed.client().put_object(Bucket=inbound, Key="in/s/t/a b.csv", Body=b"id\n7\n")
        obj = Pipeline(app.catalog, app.store).process("landing/s/t/a b.csv")
        assert obj is not None and obj.state == "done"
        assert seaweed.client().list_objects_v2(Bucket=inbound, Prefix="in/").get("Contents") is None
        body = (
            seaweed.client()
            .get_object(Bucket=seaweed.bucket, Key=f"{prefix}/lake/s/t/a b.csv")["Body"]
            .read()
        )
        assert body == b"id\n7\n"
    finally:
        app.close()
