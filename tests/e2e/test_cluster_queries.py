"""Query nodes behind one load balancer: any node answers any query's status, pages, downloads
and cancel; a workgroup's limit holds for the whole cluster; health and metrics name the node."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from lakegate.auth.principals import Principals
from lakegate.auth.workgroups import Workgroups
from lakegate.catalog import Catalog
from tests.conftest import pg_database
from tests.e2e.cluster import Cluster, csv_files
from tests.s3server import SeaweedS3

# hours of work in little memory (a cross join's count may run out of memory within a second,
# ending the query a test needs running)
SLOW = "SELECT sum(hash(range)) FROM range(100000000000)"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedS3) -> Iterator[Cluster]:
    with pg_database() as url:
        root = tmp_path_factory.mktemp("cluster")
        shared_secret = f"aws:\n  secret_file: {root / 'aws-signing.secret'}\n"  # every node's AWS keys
        cluster = Cluster(root, url, seaweed, lease_seconds=4.0, extra=shared_secret)
        try:
            for name in ("a", "b"):
                cluster.start(name, "--http-port", "0", "--pg-port", "0", "--aws-port", "0")
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

        running = a.post("/v1/queries", json={"sql": SLOW}).json()
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
        first = a.post("/v1/queries", json={"sql": SLOW}, headers=heads).json()  # tight's only turn
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
        running = doomed.post("/v1/queries", json={"sql": SLOW}).json()
        cluster.wait_until(
            lambda: a.get(f"/v1/queries/{running['id']}").json()["state"] == "RUNNING", 30, "it to run"
        )
        node.kill()
        cluster.wait_until(
            lambda: a.get(f"/v1/queries/{running['id']}").json()["state"] == "FAILED", 30, "it to be lost"
        )
        assert a.get(f"/v1/queries/{running['id']}").json()["error_code"] == "query.node_lost"
    del cluster.nodes["doomed"]


class RoundRobin:
    """A TCP load balancer: each new connection goes to the next address in turn."""

    def __init__(self, targets: list[tuple[str, int]]) -> None:
        self.targets, self.turn = targets, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            target = self.targets[self.turn % len(self.targets)]
            self.turn += 1
            server = socket.create_connection(target)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def test_a_psql_cancel_that_a_load_balancer_sends_to_another_node_stops_the_query(cluster: Cluster) -> None:
    ports = []
    for name in ("a", "b"):
        node = cluster.nodes[name]
        node.wait_until(lambda node=node: "PostgreSQL: " in node.stderr, timeout=30)
        ports.append(int(re.findall(r"PostgreSQL: postgresql://<user>@[^:]+:(\d+)/", node.stderr)[-1]))
    balancer = RoundRobin([("127.0.0.1", port) for port in ports])
    try:
        url = f"postgresql://admin@127.0.0.1:{balancer.port}/lakegate?sslmode=disable"
        with psycopg.connect(url, password=cluster.token(), autocommit=True) as conn:  # on node a
            threading.Timer(2.0, conn.cancel_safe).start()  # its CancelRequest: to node b
            began = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(SLOW)
            assert time.monotonic() - began < 10
            assert conn.execute("SELECT 1").fetchone() == (1,)  # the session goes on
        assert balancer.turn >= 2  # the cancel went through the balancer, to the other node
        [(state, code, node)] = cluster.sql(
            "SELECT state, error_code, node FROM queries WHERE sql = %s AND via = 'pgwire'", SLOW
        )
        assert (state, code, node) == ("CANCELLED", "query.cancelled", "a")  # stopped where it ran
    finally:
        balancer.close()


def test_an_athena_query_started_on_one_node_is_read_and_downloaded_on_another(cluster: Cluster) -> None:
    import boto3

    from lakegate.auth.aws_keys import AwsKeys, load_signing_secret

    catalog = Catalog(cluster.pg_url)
    try:
        Principals(catalog).add("awsann", role="analyst")
        from lakegate.query.permissions import Grants

        Grants(catalog).grant(principal="awsann", database="s", by="tests")
        secret, info = AwsKeys(catalog, load_signing_secret(cluster.root / "aws-signing.secret")).create(
            "awsann"
        )
    finally:
        catalog.close()

    def client(service: str, node: str) -> Any:
        found = re.findall(r"endpoint_url=(\S+) ", cluster.nodes[node].stderr)
        return boto3.session.Session().client(
            service, endpoint_url=found[-1], region_name="eu-west-1",
            aws_access_key_id=info.id, aws_secret_access_key=secret,
        )  # fmt: skip

    started = client("athena", "a").start_query_execution(QueryString="SELECT count(*) AS n FROM s.t")
    query_id = started["QueryExecutionId"]
    b = client("athena", "b")
    cluster.wait_until(
        lambda: b.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
        == "SUCCEEDED",
        60, "the query seen done on the other node",
    )  # fmt: skip
    rows = b.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "60"
    body = client("s3", "b").get_object(Bucket="lakegate-results", Key=f"{query_id}.csv")["Body"].read()
    assert body == b'"n"\n"60"\n'
