"""The Spark Connect server shipped in the ``pyspark`` wheel, started once per test session on
free ports (``local[2]``, no web UI), stopped by its PID. It runs with the settings operators are
told to use (``deploy/spark/spark-defaults.conf``), the S3 endpoint and keys replaced by the
test's, and the S3A jars ``make dev`` puts in ``.venv/spark-jars`` (``scripts/spark_s3a_jars.py``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.s3server import free_ports

STARTED = "Spark Connect server started"
DEFAULTS = Path(__file__).parent.parent / "deploy" / "spark" / "spark-defaults.conf"
S3A_JARS = Path(__file__).parent.parent / ".venv" / "spark-jars"


def documented_settings() -> dict[str, str]:
    """The settings of ``deploy/spark/spark-defaults.conf``, as spark-submit reads the file."""
    settings = {}
    for line in DEFAULTS.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(None, 1)
            settings[key] = value.strip()
    return settings


def s3a_jars() -> list[Path]:
    jars = sorted(S3A_JARS.glob("*.jar"))
    if len(jars) < 2:
        raise RuntimeError(f"the S3A jars are missing from {S3A_JARS}: make dev puts them there")
    return jars


@dataclass
class SparkConnect:
    url: str
    log: Path
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def usable(self, timeout: float = 30) -> bool:
        """Whether the server answers a small query within ``timeout`` (a server out of memory,
        or whose cores some runaway work holds, does not)."""
        import threading

        from pyspark.sql import SparkSession

        answered: list[object] = []

        def ask() -> None:
            with contextlib.suppress(Exception):
                session = SparkSession.builder.remote(self.url).create()
                try:
                    answered.append(session.sql("SELECT count(*) FROM range(1000)").collect())
                finally:
                    session.stop()

        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(timeout)
        return bool(answered)

    def restart(self, timeout: float = 180) -> None:
        """The same server again, on the same ports: its clients reconnect to the same URL."""
        self.stop()
        self._launch(timeout)

    def _launch(self, timeout: float) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        self.process = process
        deadline = time.monotonic() + timeout
        while STARTED not in self.log.read_bytes()[offset:].decode(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the Spark Connect server did not start:\n{self.log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)


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
        "--conf", "spark.sql.shuffle.partitions=4",
        "--conf", f"spark.local.dir={workdir}",
    ]  # fmt: skip
    for key, value in {**documented_settings(), **(conf or {})}.items():
        args += ["--conf", f"{key}={value}"]
    if jars:
        args += ["--jars", ",".join(str(jar) for jar in jars)]
    args.append("spark-internal")
    server = SparkConnect(f"sc://127.0.0.1:{port}", log, args, env)
    server._launch(timeout)
    return server
