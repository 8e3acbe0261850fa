"""Several `lakegate up` nodes on one PostgreSQL catalog and one S3 bucket prefix, as an
operator runs them: each node its own home (with the same lakegate.yaml), its own ports."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.e2e.daemon import Daemon
from tests.s3server import SeaweedS3, s3_config


class Cluster:
    def __init__(
        self, root: Path, pg_url: str, seaweed: SeaweedS3, *, lease_seconds: float = 4.0, extra: str = ""
    ) -> None:
        self.root = root
        self.pg_url = pg_url
        self.seaweed = seaweed
        self.prefix = seaweed.new_prefix()
        self.config = root / "lakegate.yaml"  # one file every node's home links to (as a config map)
        self.config.write_text(f"catalog: {pg_url}\n" + s3_config(seaweed, self.prefix) + extra)
        self.env = {"LAKEGATE_CLUSTER__LEASE_SECONDS": str(lease_seconds), "LAKEGATE_INGEST__PROCESSES": "0"}
        self.nodes: dict[str, Daemon] = {}
        self._token: str | None = None

    def start(self, name: str, *args: str, wait: bool = True, env: dict[str, str] | None = None) -> Daemon:
        home = self.root / name
        home.mkdir(exist_ok=True)
        if not (home / "lakegate.yaml").exists():
            (home / "lakegate.yaml").symlink_to(self.config)
        node = Daemon(
            home, env={**self.env, "LAKEGATE_CLUSTER__NODE_ID": name, **(env or {})}, args=list(args)
        )
        self.nodes[name] = node
        if wait:
            node.wait_until(lambda: "lakegate is up" in node.stderr, timeout=120)
        return node

    def stop_all(self) -> list[int]:
        return [node.stop() for node in self.nodes.values()]

    # -- the bucket --------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        self.seaweed.client().put_object(Bucket=self.seaweed.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def keys(self, under: str) -> list[str]:
        client, found = self.seaweed.client(), []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.seaweed.bucket, Prefix=f"{self.prefix}/{under}"
        ):
            found += [item["Key"][len(self.prefix) + 1 :] for item in page.get("Contents", [])]
        return sorted(found)

    # -- the catalog ---------------------------------------------------------------------------

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.pg_url) as conn:
            return conn.execute(statement, params).fetchall()

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        """Seconds it took; fails with ``what`` and the nodes' logs when it does not happen."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if predicate():
                return time.monotonic() - began
            time.sleep(0.1)
        logs = "\n".join(f"--- {n}:\n{d.stderr[-3000:]}" for n, d in self.nodes.items())
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def ledger_idle(self, expected: int) -> bool:
        [(total, active)] = self.sql("SELECT count(*), count(*) FILTER (WHERE active) FROM objects")
        return total >= expected and active == 0

    # -- HTTP ----------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            from lakegate.auth.principals import Principals
            from lakegate.catalog import Catalog

            catalog = Catalog(self.pg_url)
            try:
                self._token, _ = Principals(catalog).create_token("admin", note="tests")
            finally:
                catalog.close()
        return self._token

    def url(self, name: str) -> str:
        node = self.nodes[name]
        node.wait_until(lambda: "HTTP API:" in node.stderr, timeout=60)
        [url] = re.findall(r"HTTP API: (\S+)/v1/", node.stderr)[-1:]
        return url

    def http(self, name: str, timeout: float = 30) -> httpx.Client:
        return httpx.Client(
            base_url=self.url(name), headers={"Authorization": f"Bearer {self.token()}"}, timeout=timeout
        )


def csv_files(n: int, table: str = "s/t") -> dict[str, bytes]:
    """``n`` CSV files, each row naming its file: a query counts rows per file."""
    out = {}
    for i in range(n):
        name = f"f{i:04d}.csv"
        rows = 1 + i % 3
        out[f"landing/{table}/{name}"] = b"file,n\n" + b"".join(
            b"%s,%d\n" % (name.encode(), j) for j in range(rows)
        )
    return out
