"""Nodes started at once on one empty PostgreSQL catalog all come up: the catalog is migrated
once (the others wait for it, then find it done), exactly one node creates the first admin and
prints its token, and principals declared in lakegate.yaml are added once. The nodes share one
S3 prefix, as a real cluster does (a node refuses local folders another live node uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from tests.e2e.daemon import Daemon
from tests.s3server import SeaweedS3, s3_config

NODES = 5
DECLARED = "principals:\n  - name: ann\n    role: analyst\n  - name: bo\n    role: admin\n"


def test_nodes_initialising_at_once_on_an_empty_catalog_all_succeed(pg_url: str, tmp_path: Path) -> None:
    def init(i: int) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LAKEGATE_CATALOG": pg_url}
        return subprocess.run([sys.executable, "-m", "lakegate", "init", "--home", str(tmp_path / f"n{i}")],
                              capture_output=True, text=True, timeout=120, env=env, check=False)  # fmt: skip

    with ThreadPoolExecutor(NODES) as pool:
        done = list(pool.map(init, range(NODES)))
    assert [d.returncode for d in done] == [0] * NODES, [d.stderr for d in done]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def _homes(tmp_path: Path, seaweed: SeaweedS3, extra: str = "") -> list[Path]:
    shared = s3_config(seaweed, seaweed.new_prefix()) + extra
    homes = []
    for i in range(NODES):
        home = tmp_path / f"n{i}"
        home.mkdir()
        (home / "lakegate.yaml").write_text(shared)
        homes.append(home)
    return homes


def test_nodes_starting_at_once_create_one_first_admin(
    pg_url: str, tmp_path: Path, seaweed: SeaweedS3
) -> None:
    env = {"LAKEGATE_CATALOG": pg_url}
    daemons = [Daemon(home, env=env) for home in _homes(tmp_path, seaweed, DECLARED)]
    try:
        for d in daemons:
            d.wait_until(lambda d=d: "lakegate is up" in d.stderr, timeout=120)
        created = [d for d in daemons if "created the first admin" in d.stderr]
        # an admin is declared (bo), so no node needs to make one; without it, exactly one would
        assert created == []
        added = [d for d in daemons if "principals (lakegate.yaml): added ann" in d.stderr]
        assert len(added) == 1, [d.stderr for d in daemons]
    finally:
        codes = [d.stop() for d in daemons]
    assert codes == [0] * NODES
    with psycopg.connect(pg_url) as conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM principals").fetchall())
    assert names == ["ann", "bo"]


def test_without_a_declared_admin_exactly_one_node_makes_the_first(
    pg_url: str, tmp_path: Path, seaweed: SeaweedS3
) -> None:
    env = {"LAKEGATE_CATALOG": pg_url}
    daemons = [Daemon(home, env=env) for home in _homes(tmp_path, seaweed)]
    try:
        for d in daemons:
            d.wait_until(lambda d=d: "lakegate is up" in d.stderr, timeout=120)
        created = [d for d in daemons if "created the first admin" in d.stderr]
        assert len(created) == 1, [d.stderr for d in daemons]
        [token] = [w for w in created[0].stderr.split() if w.startswith("lg_")]
    finally:
        codes = [d.stop() for d in daemons]
    assert codes == [0] * NODES
    with psycopg.connect(pg_url) as conn:
        admins = conn.execute("SELECT name FROM principals WHERE role = 'admin'").fetchall()
        tokens = conn.execute("SELECT count(*) FROM tokens").fetchone()
    assert admins == [("admin",)] and tokens == (1,) and token
