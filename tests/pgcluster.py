"""A private PostgreSQL cluster made with `initdb` for one test, which may stop and start it.

Outage tests must never touch the shared server on 5432. The cluster lives in its own folder,
listens on a free loopback port and is removed afterwards. PostgreSQL refuses to run as root,
so as root the cluster is owned and run by the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.s3server import free_ports


def _bin(name: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    found = found or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"{name} not found: install PostgreSQL's server package")
    return found[-1]


class PrivatePostgres:
    def __init__(self) -> None:
        # Not under pytest's tmp folder: as root, that one is closed to the postgres user.
        self.root = Path(tempfile.mkdtemp(prefix="lakegate-pg-"))
        self.data = self.root / "data"
        (self.port,) = free_ports(1)
        self.user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.user:
            self.root.chmod(0o755)
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.user else []
        result = subprocess.run([*prefix, *command], check=False, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash: connections drop, no clean shutdown."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
