"""The quarantine over HTTP: the same operations as `lakegate quarantine`, as JSON."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.server.app import make_app
from tests.e2e.daemon import Daemon
from tests.s3server import free_ports


def client(app: App, role: str = "admin", token: str | None = None) -> TestClient:
    """A client with a new principal's token (of ``role``), or with ``token`` as it is ("": none)."""
    pipeline = Pipeline(app.catalog, app.store, router=Router.from_settings(app.settings))
    if token is None:
        people = Principals(app.catalog)
        name = f"{role}{len(people.all())}"
        people.add(name, role=role, landing_prefix="x/" if role == "provider" else None)
        token, _info = people.create_token(name)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(make_app(app.catalog, app.store, lambda: pipeline), headers=headers)


def quarantined(app: App, key: str, data: bytes) -> int:
    app.store.write(key, data)
    Pipeline(app.catalog, app.store).process(key)
    [obj] = [o for o in app.catalog.objects_in(("quarantined",)) if o.source_key == key]
    return obj.id


def test_list_show_purge_and_errors(app: App) -> None:
    empty = quarantined(app, "landing/s/t/empty.csv", b"")
    api = client(app)
    listed = api.get("/v1/quarantine").json()["objects"]
    assert [(o["id"], o["reason_code"]) for o in listed] == [(empty, "reject.empty")]
    assert api.get("/v1/quarantine", params={"reason": "reject.route"}).json() == {"objects": []}
    shown = api.get(f"/v1/quarantine/{empty}").json()
    assert (
        shown["reason"] == "the file is empty (0 bytes)"
        and shown["how_to_fix"] == "deliver it again with data"
    )
    kept = shown["kept_at"]
    assert app.store.stat(kept) is not None
    missing = api.get("/v1/quarantine/999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "quarantine.unknown"
    purged = api.post(f"/v1/quarantine/{empty}/purge").json()
    assert purged["purged"] and purged["object"]["state"] == "purged" and purged["object"]["kept_at"] is None
    assert app.store.stat(kept) is None
    again = api.post(f"/v1/quarantine/{empty}/replay")
    assert again.status_code == 409 and again.json()["error"]["code"] == "quarantine.purged"


def test_replay_puts_the_object_back_in_landing(app: App) -> None:
    obj = quarantined(app, "landing/s/t/empty.csv", b"")
    app.store.write("landing/s/t/late.csv", b"")  # nothing to do with it
    replayed = client(app).post(f"/v1/quarantine/{obj}/replay").json()
    assert replayed["replayed"] and replayed["object"]["state"] == "replayed"
    assert app.store.stat("landing/s/t/empty.csv") is not None  # taken again by whoever watches landing
    conflict = client(app).post(f"/v1/quarantine/{obj}/replay")
    assert conflict.status_code == 404  # no longer quarantined


def test_only_admins_with_a_valid_token_may_use_it(app: App) -> None:
    for anonymous in (client(app, token=""), client(app, token="lg_00000000_nope")):
        refused = anonymous.get("/v1/quarantine")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.invalid"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.get("/v1/health").status_code == 200
    analyst = client(app, role="analyst")
    refused = analyst.post("/v1/quarantine/1/purge")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.forbidden"
    assert analyst.get("/v1/whoami").json()["role"] == "analyst"


RULED = """\
datasets:
  - name: t
    key: "landing/s/t/{name}"
    database: s
    table: t
    rules: [{check: rows, min: 2}]
"""


def test_lakegate_up_serves_it_and_takes_a_replayed_object_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "lakegate.yaml").write_text(RULED)
    (port,) = free_ports(1)
    daemon = Daemon(home, args=["--http-port", str(port)])
    try:
        daemon.wait_until(lambda: "HTTP API: http://127.0.0.1:" in daemon.stderr, timeout=60)
        # the first start made an admin and printed its token, once
        [token] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        auth = {"Authorization": f"Bearer {token}"}
        delivered = home / "landing" / "s" / "t" / "a.csv"
        delivered.parent.mkdir(parents=True)
        delivered.write_bytes(b"id\n1\n")
        daemon.wait_lines(1)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/v1/quarantine").status_code == 401
        [obj] = httpx.get(f"{base}/v1/quarantine", headers=auth).json()["objects"]
        assert (obj["object"], obj["reason_code"]) == ("landing/s/t/a.csv", "reject.rule.rows")
        (home / "lakegate.yaml").write_text(RULED.replace("min: 2", "min: 1"))  # the rule was wrong
        daemon.wait_until(lambda: "reloaded lakegate.yaml" in daemon.stderr, timeout=30)
        answer = httpx.post(f"{base}/v1/quarantine/{obj['id']}/replay", headers=auth, timeout=30)
        assert answer.status_code == 200 and answer.json()["replayed"], answer.text
        daemon.wait_until(lambda: any(line.startswith("accepted") for line in daemon.lines), timeout=30)
        time.sleep(0.2)
    finally:
        daemon.stop()
    assert daemon.lines[-1] == "accepted     landing/s/t/a.csv -> s.t (1 row)"


def test_lakegate_sql_asks_a_remote_server_with_a_token(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    daemon = Daemon(home, args=["--http-port", "0"])  # a free port, which it prints
    try:
        daemon.wait_until(lambda: "HTTP API: http://127.0.0.1:" in daemon.stderr, timeout=60)
        found = re.search(r"HTTP API: http://127\.0\.0\.1:(\d+)/", daemon.stderr)
        assert found is not None and found.group(1) != "0"
        port = int(found.group(1))
        [token] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        delivered = home / "landing" / "s" / "t" / "a.csv"
        delivered.parent.mkdir(parents=True)
        delivered.write_bytes(b"id,name\n1,ann\n2,bob\n")
        daemon.wait_lines(1)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        accepted = r'^lakegate_ingest_objects_total\{node="[^"]+",outcome="accepted"\} 1$'
        assert re.search(accepted, metrics, re.M)

        def remote(*extra: str, key: str = token) -> subprocess.CompletedProcess[str]:
            args = [
                "sql",
                "SELECT id, name FROM s.t ORDER BY id",
                "--server",
                f"http://127.0.0.1:{port}",
                *extra,
            ]
            return subprocess.run(
                [sys.executable, "-m", "lakegate", *args, "--token", key],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip

        answer = remote("-f", "csv")
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.splitlines() == ["id,name", "1,ann", "2,bob"]
        refused = remote(key="lg_00000000_wrong")
        assert refused.returncode == 1 and "auth.invalid" in refused.stderr
        typed = remote("-f", "json")  # exact types, as Arrow: the ids stay integers
        assert typed.returncode == 0 and '"id": 1' in typed.stdout.replace('"id":1', '"id": 1'), typed.stdout
    finally:
        daemon.stop()


def test_lakegate_connect_to_a_remote_server_reads_as_the_tokens_principal(tmp_path: Path) -> None:

    import lakegate
    from lakegate.app import open_app
    from lakegate.query.permissions import Grants

    home = tmp_path / "home"
    daemon = Daemon(home, args=["--http-port", "0"])
    try:
        daemon.wait_until(lambda: "HTTP API: http://127.0.0.1:" in daemon.stderr, timeout=60)
        found = re.search(r"HTTP API: (http://127\.0\.0\.1:\d+)/", daemon.stderr)
        assert found is not None
        for name, text in (("s/t/a.csv", b"id,amount\n1,2.5\n2,3\n"), ("x/y/a.csv", b"id\n9\n")):
            (home / "landing" / name).parent.mkdir(parents=True)
            (home / "landing" / name).write_bytes(text)
        daemon.wait_lines(2)
        app = open_app(str(home))
        try:
            Principals(app.catalog).add("ann")
            token, _ = Principals(app.catalog).create_token("ann")
            Grants(app.catalog).grant(principal="ann", database="s", by="test")
        finally:
            app.close()
        with lakegate.connect(server=found.group(1), token=token) as con:
            cur = con.execute("SELECT id, amount FROM s.t WHERE amount > ? ORDER BY id", [2.6])
            assert cur.fetchall() == [(2, 3.0)]
            assert str(cur.fetch_arrow().schema.field("amount").type) == "double"  # exact types
            with pytest.raises(lakegate.GuardError):
                con.execute("SELECT * FROM x.y")  # not granted: unknown
    finally:
        daemon.stop()


def test_the_http_api_over_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:

    home = tmp_path / "home"
    daemon = Daemon(home, args=["--http-port", "0", "--tls-self-signed"])
    try:
        daemon.wait_until(lambda: "HTTP API: https://127.0.0.1:" in daemon.stderr, timeout=60)
        found = re.search(r"HTTP API: (https://127\.0\.0\.1:\d+)/.*clients trust (\S+?)\)", daemon.stderr)
        assert found is not None, daemon.stderr
        url, certificate = found.group(1), found.group(2)
        [token] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        import ssl

        trusted = ssl.create_default_context(cafile=certificate)
        answer = httpx.get(f"{url}/v1/whoami", headers={"Authorization": f"Bearer {token}"}, verify=trusted)
        assert answer.status_code == 200 and answer.json()["role"] == "admin"
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served there
            httpx.get(url.replace("https", "http") + "/healthz", timeout=5)
        with pytest.raises(httpx.HTTPError):  # nor to a client that does not trust the certificate
            httpx.get(f"{url}/healthz", timeout=5)
    finally:
        daemon.stop()
