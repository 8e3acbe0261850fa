"""A running `lakegate up --aws-port 0` with two tenants and a filtered analyst, and each
principal's AWS access key made by `lakegate tokens create NAME --aws` — for real AWS clients
(boto3, the AWS CLI, PyAthena, awswrangler, SQLAlchemy) pointed at it with ``endpoint_url``.

    ann   analyst, reads acme.*
    gil   analyst, reads globex.*
    rita  analyst, reads acme.orders rows with region = 'EU', without the amount column
    tia   analyst in workgroup tight (one query at a time, none waiting)
    max   analyst in workgroup managed (managed results: clients page GetQueryResults), reads acme.*
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon import Daemon

REGION = "eu-west-1"
RESULTS = "s3://lakegate-results/"


@dataclass
class AwsLake:
    daemon: Daemon
    home: Path
    http: str
    endpoint: str
    admin_token: str
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.http + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lakegate", *args, "--home", str(self.home)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def new_key(self, name: str) -> tuple[str, str]:
        made = self.cli("tokens", "create", name, "--aws")
        assert made.returncode == 0, made.stderr
        found = dict(re.findall(r"(aws_\w+) = (\S+)", made.stdout))
        return found["aws_access_key_id"], found["aws_secret_access_key"]

    def client_kwargs(self, who: str) -> dict[str, str]:
        key, secret = self.keys[who]
        return {
            "endpoint_url": self.endpoint, "region_name": REGION,
            "aws_access_key_id": key, "aws_secret_access_key": secret,
        }  # fmt: skip

    def client(self, service: str, who: str) -> Any:
        import boto3

        return boto3.session.Session().client(service, **self.client_kwargs(who))

    def drop(self, key: str, data: bytes) -> None:
        path = self.home / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def settled(self, key: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrival in self.api("GET", "/v1/arrivals?limit=1000")["arrivals"]:
                if arrival["key"] == key and arrival["outcome"] != "processing":
                    assert arrival["outcome"] == "accepted", arrival
                    return
            time.sleep(0.1)
        raise AssertionError(f"{key} did not settle: {self.daemon.stderr[-2000:]}")


ORDERS_1 = (
    b"id,region,amount,price,day\n1,EU,9.5,1.25,2026-11-01\n2,US,12,2.50,2026-11-01\n3,EU,,0.75,2026-11-01\n"
)
ORDERS_2 = b"id,region,amount,price,day\n4,EU,3.25,4.00,2026-11-02\n5,US,7,1.10,2026-11-02\n"


@pytest.fixture(scope="package")
def aws_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsLake]:
    home = tmp_path_factory.mktemp("aws") / "home"
    home.mkdir()
    legacy = home.parent / "legacy"  # data already in a store, for a Glue crawler to catalog
    (legacy / "sales").mkdir(parents=True)
    (legacy / "sales" / "part-0.csv").write_bytes(b"sku,qty\na,1\nb,2\n")
    (home / "lakegate.yaml").write_text(
        "aws:\n  managed_results: [managed]\n"
        f"crawlers:\n  - name: legacy\n    url: {legacy}\n    database: legacy\n"
    )
    daemon = Daemon(home, args=["--http-port", "0", "--aws-port", "0"])
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        http = re.search(r"web console: (http://[\d.]+:\d+)/", daemon.stderr)
        endpoint = re.search(r"endpoint_url=(http://[\d.]+:\d+)", daemon.stderr)
        assert http and endpoint, daemon.stderr
        [admin] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        lake = AwsLake(daemon, home, http.group(1), endpoint.group(1), admin)
        lake.api("PUT", "/v1/workgroups/tight", {"max_concurrent": 1, "max_queued": 0})
        lake.api("PUT", "/v1/workgroups/managed", {})
        people = [("ann", None), ("gil", None), ("rita", None), ("tia", "tight"), ("max", "managed")]
        for name, workgroup in people:
            lake.api("POST", "/v1/principals", {"name": name, "role": "analyst", "workgroup": workgroup})
        lake.api("POST", "/v1/grants", {"principal": "ann", "database": "acme"})
        lake.api("POST", "/v1/grants", {"principal": "tia", "database": "acme"})
        lake.api("POST", "/v1/grants", {"principal": "max", "database": "acme"})
        lake.api("POST", "/v1/grants", {"principal": "gil", "database": "globex"})
        for key, data in [
            ("landing/acme/orders/dt=2026-11-01/a.csv", ORDERS_1),
            ("landing/acme/orders/dt=2026-11-02/b.csv", ORDERS_2),
            ("landing/globex/secrets/s.csv", b"id,formula\n1,cola\n"),
        ]:
            lake.drop(key, data)
            lake.settled(key)
        lake.api("POST", "/v1/grants", {
            "principal": "rita", "database": "acme", "table": "orders", "columns": ["amount"],
            "exclude": True, "row_filter": "region = 'EU'",
        })  # fmt: skip
        for name in ("admin", "ann", "gil", "rita", "tia", "max"):
            lake.keys[name] = lake.new_key(name)
        yield lake
    finally:
        daemon.stop()


def wait_done(athena: Any, query_id: str, timeout: float = 60) -> dict[str, Any]:
    """The query's execution once it is no longer QUEUED or RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return execution
        time.sleep(0.05)
    raise AssertionError(f"query {query_id} did not finish")


def run(athena: Any, sql: str, **kwargs: Any) -> dict[str, Any]:
    started = athena.start_query_execution(QueryString=sql, **kwargs)
    return wait_done(athena, started["QueryExecutionId"])
