"""The Spark Connect server shipped in the ``pyspark`` wheel, started once per test session on
free ports (``local[2]``, no web UI), stopped by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.s3server import free_ports

STARTED = "Spark Connect server started"


@dataclass
class SparkConnect:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def start(
    workdir: Path, timeout: float = 180, conf: dict[str, str] | None = None, jars: list[Path] | None = None
) -> SparkConnect:
    import pyspark

    home = Path(pyspark.__file__).parent
    port, driver, blocks = free_ports(3)
    log = workdir / "spark-connect.log"
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(workdir),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    args = [
        str(home / "bin" / "spark-submit"),
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name", "lakegate-tests", "--master", "local[2]",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.driver.port={driver}", "--conf", f"spark.blockManager.port={blocks}",
        "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.memory=1g",
        "--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.sql.session.timeZone=UTC",
        "--conf", f"spark.local.dir={workdir}",
    ]  # fmt: skip
    for key, value in (conf or {}).items():
        args += ["--conf", f"{key}={value}"]
    if jars:
        args += ["--jars", ",".join(str(jar) for jar in jars)]
    args.append("spark-internal")
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = SparkConnect(f"sc://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while STARTED not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"the Spark Connect server did not start:\n{log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.5)
    return server
