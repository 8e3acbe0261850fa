"""`lakegate up --pg-port 0` serves the PostgreSQL protocol beside ingestion: psql connects over
TLS with the first admin's token, reads what just landed, and Ctrl-C cancels a running query."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.daemon import Daemon


def test_psql_over_tls_against_a_running_lakegate(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = Daemon(home, args=["--pg-port", "0", "--tls-self-signed", "--pg-require-tls"])
    try:
        daemon.wait_until(lambda: "PostgreSQL: postgresql://" in daemon.stderr, timeout=60)
        found = re.search(
            r"PostgreSQL: postgresql://<user>@127\.0\.0\.1:(\d+)/lakegate\?sslmode=require", daemon.stderr
        )
        assert found is not None, daemon.stderr
        [token] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        landed = home / "landing" / "s" / "t" / "a.csv"
        landed.parent.mkdir(parents=True)
        landed.write_bytes(b"id,name\n1,ann\n2,bob\n")
        daemon.wait_lines(1)
        dsn = f"host=127.0.0.1 port={found.group(1)} user=admin dbname=lakegate sslmode=require"
        env = {**os.environ, "PGPASSWORD": token, "PGCONNECT_TIMEOUT": "10"}
        done = subprocess.run(["psql", dsn, "-X", "-A", "-t", "-c", "SELECT name FROM s.t ORDER BY id"],
                              env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0 and done.stdout.split() == ["ann", "bob"], done.stderr
        plain = subprocess.run(["psql", dsn.replace("require", "disable"), "-X", "-c", "SELECT 1"],
                               env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert plain.returncode != 0 and "only TLS" in plain.stderr
        # Ctrl-C in psql sends a CancelRequest: the query stops, psql says so
        endless = "SELECT sum(hash(range)) FROM range(100000000000)"
        slow = subprocess.Popen(["psql", dsn, "-X", "-c", endless], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(2)
        slow.send_signal(signal.SIGINT)
        _out, err = slow.communicate(timeout=60)
        assert "canceling statement due to user request" in err
    finally:
        daemon.stop()
