"""Three nodes on one PostgreSQL catalog and one bucket take every delivery exactly once, share
the work, and finish what a killed node held once its lease runs out — no restart needed."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.cluster import Cluster, csv_files
from tests.e2e.test_events_s3 import notification
from tests.s3server import SeaweedS3, free_ports

LEASE = 4.0


def _check_exactly_once(cluster: Cluster, files: dict[str, bytes], ask: str = "a") -> None:
    per_key = cluster.sql("SELECT source_key, count(*), min(state) FROM objects GROUP BY source_key")
    assert {k for k, _, _ in per_key} == set(files)
    assert [(k, c, s) for k, c, s in per_key if c != 1 or s != "done"] == []
    assert cluster.keys("landing/") == []
    expected = {k.rsplit("/", 1)[1]: d.count(b"\n") - 1 for k, d in files.items()}
    with cluster.http(ask) as http:
        got = http.post("/v1/query", json={"sql": "SELECT file, count(*) FROM s.t GROUP BY file"}).json()
    assert {row[0]: row[1] for row in got["rows"]} == expected  # no row lost, none doubled


def test_three_nodes_take_each_delivery_once_and_share_the_work(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    cluster = Cluster(tmp_path, pg_url, seaweed, lease_seconds=LEASE)
    try:
        for name in ("a", "b", "c"):
            cluster.start(name, "--http-port", "0")
        files = csv_files(240)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda kv: cluster.put(*kv), files.items()))
        cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 120, "every delivery taken")
        _check_exactly_once(cluster, files)
        by_node = dict(cluster.sql("SELECT claimed_by, count(*) FROM objects GROUP BY claimed_by"))
        assert set(by_node) == {"a", "b", "c"} and min(by_node.values()) >= 40, by_node  # shared
        logs = "".join(d.stderr for d in cluster.nodes.values())
        assert "state_conflict" not in logs and "claim_lost" not in logs and "Traceback" not in logs
        names = [row[0] for row in cluster.sql("SELECT id FROM nodes WHERE stopped_at IS NULL ORDER BY id")]
        assert names == ["a", "b", "c"]
        [(leaders,)] = cluster.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        assert leaders == 1  # one node leads the housekeeping
    finally:
        codes = cluster.stop_all()
    assert codes == [0, 0, 0]
    assert cluster.sql("SELECT count(*) FROM nodes WHERE stopped_at IS NULL") == [(0,)]


def test_a_killed_nodes_deliveries_are_finished_by_the_others(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    cluster = Cluster(tmp_path, pg_url, seaweed, lease_seconds=LEASE)
    for name in ("a", "b"):
        cluster.start(name, "--http-port", "0")
    # kill -9 the moment the victim has copied a delivery into the lake, before it is cataloged
    cluster.start("victim", env={"LAKEGATE_TEST_CRASH_AT": "copied"})
    try:
        files = csv_files(300)
        with ThreadPoolExecutor(8) as pool:
            puts = pool.map(lambda kv: cluster.put(*kv), files.items())  # deliveries go on meanwhile
            victim = cluster.nodes["victim"]
            cluster.wait_until(lambda: victim.proc.poll() is not None, 60, "the victim's crash")
            killed_at = time.monotonic()
            held = cluster.sql("SELECT id FROM objects WHERE active AND claimed_by = 'victim'")
            assert held, f"the victim held nothing when it died: {victim.proc.returncode} {victim.stderr}"
            ids = [i for (i,) in held]

            def finished() -> bool:  # each of the victim's deliveries terminal, by another node
                active = cluster.sql("SELECT count(*) FROM objects WHERE id = ANY(%s) AND active", ids)
                return active == [(0,)]

            cluster.wait_until(finished, 60, "the victim's deliveries finished")  # while puts go on
            took = time.monotonic() - killed_at
            list(puts)
        assert took < LEASE + 10, took  # its lease, then a few seconds: not a restart
        cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 120, "every delivery taken")
        _check_exactly_once(cluster, files)
        finishers = cluster.sql("SELECT DISTINCT claimed_by FROM objects WHERE id = ANY(%s)", ids)
        assert {f for (f,) in finishers} <= {"a", "b"}  # finished by the live nodes, no restart
    finally:
        codes = [cluster.nodes[n].stop() for n in ("a", "b")]
    assert codes == [0, 0]


def test_a_second_node_is_refused_local_folders(tmp_path: Path, pg_url: str) -> None:
    from tests.e2e.daemon import Daemon

    first = Daemon(tmp_path / "one", env={"LAKEGATE_CATALOG": pg_url})
    try:
        first.wait_until(lambda: "lakegate is up" in first.stderr, timeout=120)
        second = Daemon(tmp_path / "two", env={"LAKEGATE_CATALOG": pg_url})
        assert second.proc.wait(timeout=120) != 0
        second.stop()
        assert "cluster.needs_shared_storage" in second.stderr and "S3" in second.stderr
    finally:
        assert first.stop() == 0


def test_two_homes_on_one_sqlite_catalog_are_refused(tmp_path: Path) -> None:
    from tests.e2e.daemon import Daemon

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = Daemon(tmp_path / "one", env={"LAKEGATE_CATALOG": url})
    try:
        first.wait_until(lambda: "lakegate is up" in first.stderr, timeout=120)
        second = Daemon(tmp_path / "two", env={"LAKEGATE_CATALOG": url})
        assert second.proc.wait(timeout=120) != 0
        second.stop()
        assert "cluster.needs_postgresql" in second.stderr and "PostgreSQL" in second.stderr
    finally:
        assert first.stop() == 0


def test_a_rolling_restart_under_load_loses_nothing_and_queries_are_answered(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    cluster = Cluster(tmp_path, pg_url, seaweed, lease_seconds=LEASE)
    names = ("a", "b", "c")
    for name in names:
        cluster.start(name, "--http-port", "0")
    urls = {name: cluster.url(name) for name in names}
    down: set[str] = set()
    answered: list[tuple[str, int, bool]] = []
    failed: list[tuple[str, int, bool]] = []
    done = threading.Event()

    def analyst() -> None:  # asks the nodes in turn, skipping one that is down, as a load balancer does
        turn = 0
        with httpx.Client(headers={"Authorization": f"Bearer {cluster.token()}"}, timeout=30) as http:
            while not done.is_set():
                name = names[turn % len(names)]
                turn += 1
                if name in down:
                    continue
                try:
                    got = http.post(f"{urls[name]}/v1/query", json={"sql": "SELECT count(*) FROM s.t"})
                except httpx.TransportError:
                    continue  # it went down between the check and the call: the balancer retries
                answer = (name, got.status_code, bool(down))  # (was a node down meanwhile?)
                (answered if got.status_code == 200 else failed).append(answer)
                time.sleep(0.05)

    files = csv_files(240)
    items = list(files.items())
    asking = threading.Thread(target=analyst)
    asking.start()
    try:
        for i, name in enumerate(names):  # each node in turn: stopped (SIGTERM), started again
            for key, data in items[i * 60 : i * 60 + 30]:
                cluster.put(key, data)
            down.add(name)
            assert cluster.nodes[name].stop() == 0
            for key, data in items[i * 60 + 30 : (i + 1) * 60]:
                cluster.put(key, data)
            cluster.start(name, "--http-port", "0")
            urls[name] = cluster.url(name)
            down.discard(name)
        for key, data in items[180:]:
            cluster.put(key, data)
        cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 120, "every delivery taken")
        _check_exactly_once(cluster, files)
    finally:
        done.set()
        asking.join(30)
        codes = cluster.stop_all()
    assert codes == [0, 0, 0]
    assert failed == [], failed
    assert {name for name, _, _ in answered} == set(names)
    assert any(during for _, _, during in answered)  # answered while a node was restarting


def test_a_changed_lakegate_yaml_is_applied_by_every_node(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    cluster = Cluster(tmp_path, pg_url, seaweed, lease_seconds=LEASE)
    try:
        for name in ("a", "b", "c"):
            cluster.start(name)
        rule = (
            "datasets:\n  - name: t\n    key: 'landing/s/t/{name}'\n    database: s\n    table: t\n"
            "    rules:\n      - {check: rows, max: 1}\n"
        )
        cluster.config.write_text(cluster.config.read_text() + rule)  # the file every node links to
        for node in cluster.nodes.values():
            node.wait_until(lambda node=node: "reloaded lakegate.yaml: 1 dataset" in node.stderr, timeout=30)
        files = csv_files(90)  # 1, 2 or 3 rows each
        for key, data in files.items():
            cluster.put(key, data)
        cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 120, "every delivery taken")
        judged = cluster.sql("SELECT claimed_by, state, reason_code FROM objects")
        assert sorted({(s, c) for _, s, c in judged}) == [("done", None), ("quarantined", "reject.rule.rows")]
        assert sum(1 for _, s, _ in judged if s == "quarantined") == 60  # every file of 2 or 3 rows
        assert {n for n, s, _ in judged if s == "quarantined"} == {"a", "b", "c"}  # by each node
    finally:
        codes = cluster.stop_all()
    assert codes == [0, 0, 0]


def test_an_event_sent_to_every_node_is_still_taken_once(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    cluster = Cluster(tmp_path, pg_url, seaweed, lease_seconds=LEASE)
    ports = free_ports(2)
    env = {"LAKEGATE_INGEST__RECONCILE_SECONDS": "600"}  # the events alone: no listing for 10 minutes
    try:
        for name, port in zip(("a", "b"), ports, strict=True):
            cluster.start(name, "--events-port", str(port), env=env)
        files = csv_files(60)
        with httpx.Client(timeout=10) as http:
            for key, data in files.items():
                cluster.put(key, data)
                event = notification(seaweed.bucket, f"{cluster.prefix}/{key}")
                for port in ports:  # fanned out to both, at the same moment
                    assert http.post(f"http://127.0.0.1:{port}/v1/events/s3", json=event).status_code == 200
        cluster.wait_until(lambda: cluster.ledger_idle(len(files)), 60, "every delivery taken by its event")
        per_key = cluster.sql("SELECT source_key, count(*), min(state) FROM objects GROUP BY source_key")
        assert sorted(per_key) == sorted((k, 1, "done") for k in files)
        logs = "".join(d.stderr for d in cluster.nodes.values())
        assert "state_conflict" not in logs and "claim_lost" not in logs and "Traceback" not in logs
    finally:
        codes = cluster.stop_all()
    assert codes == [0, 0]
