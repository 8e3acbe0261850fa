"""Query nodes behind one load balancer: any node answers any query's status, pages, downloads
and cancel; a workgroup's limit holds for the whole cluster; health and metrics name the node."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from lakegate.auth.principals import Principals
from lakegate.auth.workgroups import Workgroups
from lakegate.catalog import Catalog
from tests.conftest import pg_database
from tests.e2e.cluster import Cluster, csv_files
from tests.s3server import SeaweedS3

RUNAWAY = "SELECT count(*) FROM range(100000000) a, range(100000000) b"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedS3) -> Iterator[Cluster]:
    with pg_database() as url:
        cluster = Cluster(tmp_path_factory.mktemp("cluster"), url, seaweed, lease_seconds=4.0)
        try:
            for name in ("a", "b"):
                cluster.start(name, "--http-port", "0")
            files = csv_files(30)
            for key, data in files.items():
                cluster.put(key, data)
            cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 120, "every delivery taken")
            yield cluster
        finally:
            cluster.stop_all()


def _token(cluster: Cluster, name: str, workgroup: str | None = None) -> str:
    catalog = Catalog(cluster.pg_url)
    try:
        Principals(catalog).add(name, role="admin", workgroup=workgroup)
        token, _ = Principals(catalog).create_token(name)
        return token
    finally:
        catalog.close()


def test_a_query_submitted_on_one_node_is_read_cancelled_and_downloaded_on_another(cluster: Cluster) -> None:
    with cluster.http("a") as a, cluster.http("b") as b:
        sql = "SELECT file, n FROM s.t ORDER BY file, n"
        done = a.post("/v1/queries", json={"sql": sql, "wait": 60}).json()
        assert done["state"] == "SUCCEEDED", done
        shown = b.get(f"/v1/queries/{done['id']}").json()
        assert shown["state"] == "SUCCEEDED" and shown["rows"] == done["rows"]
        page = b.get(f"/v1/queries/{done['id']}/results", params={"limit": 5, "offset": 3}).json()
        whole = a.get(f"/v1/queries/{done['id']}/results", params={"limit": 1000}).json()
        assert page["rows"] == whole["rows"][3:8] and page["row_count"] == whole["row_count"] == done["rows"]
        csv = b.get(f"/v1/queries/{done['id']}/results", params={"format": "csv"})
        assert csv.status_code == 200 and csv.text.count("\n") == done["rows"] + 1

        running = a.post("/v1/queries", json={"sql": RUNAWAY}).json()
        cluster.wait_until(
            lambda: b.get(f"/v1/queries/{running['id']}").json()["state"] == "RUNNING", 30, "the query to run"
        )
        began = time.monotonic()
        cancelled = b.post(f"/v1/queries/{running['id']}/cancel").json()
        assert cancelled["state"] == "CANCELLED" and time.monotonic() - began < 5, cancelled
        assert a.get(f"/v1/queries/{running['id']}").json()["error_code"] == "query.cancelled"


def test_a_workgroups_limit_holds_across_nodes(cluster: Cluster) -> None:
    catalog = Catalog(cluster.pg_url)
    try:
        Workgroups(catalog).put("tight", max_concurrent=1, max_queued=1, timeout_seconds=60)
    finally:
        catalog.close()
    token = _token(cluster, "tim", "tight")
    heads = {"Authorization": f"Bearer {token}"}
    with cluster.http("a") as a, cluster.http("b") as b:
        first = a.post("/v1/queries", json={"sql": RUNAWAY}, headers=heads).json()  # tight's only turn
        cluster.wait_until(
            lambda: a.get(f"/v1/queries/{first['id']}", headers=heads).json()["state"] == "RUNNING",
            30,
            "the first query to run",
        )
        answers: list[int] = []
        queued = threading.Thread(
            target=lambda: answers.append(
                b.post("/v1/query", json={"sql": "SELECT 1 AS x"}, headers=heads).status_code
            )
        )
        queued.start()  # on the other node, it waits for tight's turn
        time.sleep(1.0)
        assert answers == []
        refused = b.post("/v1/query", json={"sql": "SELECT 2"}, headers=heads)  # the queue of one is full
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "query.too_many"
        b.post(f"/v1/queries/{first['id']}/cancel", headers=heads)
        queued.join(30)
        assert answers == [200]  # it got the turn once the first was cancelled


def test_health_and_metrics_name_the_node_and_list_the_live_ones(cluster: Cluster) -> None:
    with cluster.http("a") as a, cluster.http("b") as b:
        health = b.get("/v1/health").json()
        assert health["node"] == "b" and sorted(n["id"] for n in health["nodes"]) == ["a", "b"]
        assert [a.get("/v1/health").json()["leader"], health["leader"]].count(True) == 1
        nodes = a.get("/v1/nodes").json()["nodes"]
        assert {n["id"]: n["state"] for n in nodes} == {"a": "up", "b": "up"}
        assert all(n["http_url"] for n in nodes)
        metrics = a.get("/metrics").text
        assert 'lakegate_queries_total{node="a",state="SUCCEEDED"}' in metrics


def test_a_query_whose_node_dies_is_finished_as_lost(cluster: Cluster) -> None:
    node = cluster.start("doomed", "--http-port", "0")
    with cluster.http("doomed") as doomed, cluster.http("a") as a:
        running = doomed.post("/v1/queries", json={"sql": RUNAWAY}).json()
        cluster.wait_until(
            lambda: a.get(f"/v1/queries/{running['id']}").json()["state"] == "RUNNING", 30, "it to run"
        )
        node.kill()
        cluster.wait_until(
            lambda: a.get(f"/v1/queries/{running['id']}").json()["state"] == "FAILED", 30, "it to be lost"
        )
        assert a.get(f"/v1/queries/{running['id']}").json()["error_code"] == "query.node_lost"
    del cluster.nodes["doomed"]
