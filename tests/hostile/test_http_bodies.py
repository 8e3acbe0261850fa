"""An HTTP request body is judged before it is read: no token, no reading; over the cap, 413."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.config import HttpSettings
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.server.app import make_app
from lakegate.server.background import BackgroundServer


@pytest.fixture
def served(app: App) -> Iterator[tuple[int, str, TestClient]]:
    people = Principals(app.catalog)
    people.add("root", role="admin")
    token, _ = people.create_token("root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    api = make_app(
        app.catalog,
        app.store,
        lambda: pipeline,
        Gateway(app.catalog, engine),
        http=HttpSettings(max_body_kb=64),
    )
    server = BackgroundServer(api, "127.0.0.1", 0, "t")
    server.start()
    yield server.bound_port(), token, TestClient(api)
    server.stop()
    engine.close()


def raw_post(
    port: int, path: str, headers: dict[str, str], body_bytes: int
) -> tuple[int, dict[str, object], float]:
    """Announce ``body_bytes`` of body, send only the first 64 KB of it, and read the answer."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Type: application/json",
                 f"Content-Length: {body_bytes}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        conn.sendall(b'{"sql": "' + b" " * 65_000)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body), time.monotonic() - started


def test_a_body_without_a_token_is_refused_before_it_is_read(served: tuple[int, str, TestClient]) -> None:
    port, _token, _client = served
    status, body, seconds = raw_post(port, "/v1/query", {}, 100 * 1024**2)
    assert status == 401 and body["error"]["code"] == "auth.invalid"  # type: ignore[index]
    assert seconds < 5  # it did not wait for the 100 MB it was promised


def test_a_body_over_the_cap_is_refused_at_once(served: tuple[int, str, TestClient]) -> None:
    port, token, client = served
    status, body, _ = raw_post(port, "/v1/query", {"Authorization": f"Bearer {token}"}, 100 * 1024**2)
    assert status == 413 and body["error"]["code"] == "http.body_too_large"  # type: ignore[index]
    assert "http.max_body_kb" in body["error"]["hint"]  # type: ignore[index]
    streamed = client.post(
        "/v1/query",
        content=(b"x" * 1024 for _ in range(200)),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    fine = client.post(
        "/v1/query", json={"sql": "SELECT 42 AS n"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert fine.status_code == 200 and fine.json()["rows"] == [[42]]


@pytest.mark.parametrize("limit", [10**30, -1, 1e300, "many", None])
def test_every_field_is_checked_with_a_4xx_answer(served: tuple[int, str, TestClient], limit: object) -> None:
    _port, token, client = served
    answer = client.post(
        "/v1/query", json={"sql": "SELECT 1", "limit": limit}, headers={"Authorization": f"Bearer {token}"}
    )
    assert 400 <= answer.status_code < 500, answer.text


def test_a_deep_statement_over_http_is_a_clear_400(served: tuple[int, str, TestClient]) -> None:
    _port, token, client = served
    sql = "SELECT " + "(" * 1000 + "1" + ")" * 1000
    answer = client.post("/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "guard.too_complex"


def test_an_upload_over_its_cap_is_refused_and_nothing_lands(app: App) -> None:
    people = Principals(app.catalog)
    people.add("root", role="admin")
    token, _ = people.create_token("root")
    pipeline = Pipeline(app.catalog, app.store)
    client = TestClient(
        make_app(app.catalog, app.store, lambda: pipeline, None, http=HttpSettings(max_upload_mb=1))
    )
    answer = client.post(
        "/v1/upload/landing/s/t/a.csv",
        content=(b"a,b\n" + b"1,2\n" * 1000 for _ in range(300)),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 413
    assert list(app.store.list("landing/")) == []
    small = client.post(
        "/v1/upload/landing/s/t/a.csv", content=b"a\n1\n", headers={"Authorization": f"Bearer {token}"}
    )
    assert small.status_code == 200


def test_a_client_that_sends_its_whole_body_first_still_reads_the_413(
    served: tuple[int, str, TestClient],
) -> None:
    port, token, _client = served
    body = json.dumps({"sql": "SELECT 1" + ", 1" * 1_000_000}).encode()  # 3 MB: over the 64 KB cap
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/query", data=body, method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"]["code"] == "http.body_too_large"
