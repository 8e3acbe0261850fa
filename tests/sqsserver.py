"""An SQS endpoint for the tests: moto's server (`moto[server]` from PyPI) on loopback.

This is the one stand-in in the S3 tests. SQS is an AWS service with no open-source server on
PyPI; moto implements its API (ReceiveMessage long polls, visibility timeouts, batch deletes)
well enough to exercise the real boto3 client lakegate uses. Everything else is real.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.s3server import free_ports

CREDENTIALS = ("moto-key", "moto-secret")


@dataclass
class MotoSQS:
    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS[0],
            aws_secret_access_key=CREDENTIALS[1],
        )

    def new_queue(self, visibility_seconds: int = 30) -> str:
        name = f"lg-{uuid.uuid4().hex[:12]}"
        response = self.client().create_queue(
            QueueName=name, Attributes={"VisibilityTimeout": str(visibility_seconds)}
        )
        return str(response["QueueUrl"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def start(workdir: Path) -> MotoSQS:
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if not binary:
        raise RuntimeError("moto is not installed: pip install 'moto[server]' (make test does)")
    (port,) = free_ports(1)
    log = (workdir / "moto.log").open("wb")
    process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    server = MotoSQS(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.client().list_queues()
            return server
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"moto_server did not start; see {workdir / 'moto.log'}") from None
            time.sleep(0.2)
