"""What an operator copies from deploy/ works: the compose file and the systemd unit start nodes
with options `lakegate up` takes and settings lakegate reads; the unit passes `systemd-analyze
verify`; and two nodes started from the unit's own command line, with the example environment
(pointed at a test catalog and bucket), share deliveries and answer queries.

Docker cannot run here (no daemon, no registry), so the compose file is checked, not started."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import typer
import yaml

from lakegate.catalog import Catalog
from lakegate.cli.main import app as cli
from lakegate.config import load_settings
from lakegate.home import Home
from tests.s3server import INGEST, QUERY, SeaweedS3, free_ports

DEPLOY = Path(__file__).parent.parent / "deploy"
UNIT = DEPLOY / "systemd" / "lakegate@.service"
LAKEGATE = str(Path(sys.executable).parent / "lakegate")


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile and compose's env_file read them."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def check_up_args(args: list[str]) -> None:
    """``args`` (``up ...``) as `lakegate up` parses them: an unknown option or a bad value fails."""
    assert args[0] == "up", args
    group = typer.main.get_command(cli)
    command = group.commands["up"]  # type: ignore[attr-defined]
    command.make_context("up", list(args[1:]))


def check_settings_env(env: dict[str, str], home: Path) -> Any:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "lakegate.yaml", home / "lakegate.yaml")
    return load_settings(Home(home), environ=env)


# -- compose ---------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_the_compose_nodes_start_lakegate_with_options_and_settings_it_takes(tmp_path: Path) -> None:
    services = compose()["services"]
    nodes = {name: s for name, s in services.items() if s.get("image") == "lakegate:latest"}
    assert {"ingest-1", "ingest-2", "query-1", "query-2"} <= set(nodes)
    example = env_file(DEPLOY / "lakegate.env.example")
    roles, names = {}, set()
    for name, node in nodes.items():
        check_up_args(node["command"])
        roles[name] = node["command"][node["command"].index("--role") + 1]
        env = {**example, **node["environment"]}
        names.add(env["LAKEGATE_CLUSTER__NODE_ID"])
        settings = check_settings_env(env, tmp_path / name)
        assert settings.catalog.startswith("postgresql://")
        assert all(
            getattr(settings.storage, a).startswith("s3://") for a in ("landing", "lake", "quarantine")
        )
        assert node["env_file"] == "lakegate.env" and node["stop_grace_period"] == "60s"
        assert node["depends_on"]["catalog"]["condition"] == "service_healthy"
        mount = node["volumes"][0].split(":")
        assert (DEPLOY / mount[0]).resolve() == DEPLOY / "lakegate.yaml"
        assert mount[1].endswith("/lakegate.yaml")
    assert len(names) == len(nodes)  # each node its own name in the registry
    assert set(roles.values()) == {"ingest", "query"}
    published = [p.split(":")[0] for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))
    assert not {"5432", "6379", "5672", "4222", "3306"} & set(published)
    build = nodes["query-1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    lb = services["balancer"]["command"]
    assert [lb[i + 1] for i, a in enumerate(lb) if a == "--to"] == ["query-1:8080", "query-2:8080"]


def test_the_s3_identities_of_the_compose_file_match_the_example_environment() -> None:
    example = env_file(DEPLOY / "lakegate.env.example")
    identities = {
        i["name"]: (i["credentials"][0]["accessKey"], i["credentials"][0]["secretKey"], i["actions"])
        for i in json.loads((DEPLOY / "s3.json").read_text())["identities"]
    }
    ingest = identities[example["LAKEGATE_STORAGE__S3__ACCESS_KEY"]]
    query = identities[example["LAKEGATE_STORAGE__S3__QUERY_ACCESS_KEY"]]
    assert ingest[1] == example["LAKEGATE_STORAGE__S3__SECRET_KEY"] and "Write" in ingest[2]
    assert query[1] == example["LAKEGATE_STORAGE__S3__QUERY_SECRET_KEY"] and query[2] == ["Read", "List"]


def test_the_image_installs_from_what_the_dockerfile_copies(tmp_path: Path) -> None:
    root = DEPLOY.parent
    copied = tmp_path / "src"
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, target = line.split()[1:]
            for source in sources:
                dest = copied / target.removeprefix("/src").lstrip("/")
                dest = dest / Path(source).name if target.endswith("/") else dest
                dest.parent.mkdir(parents=True, exist_ok=True)
                if (root / source).is_dir():
                    shutil.copytree(root / source, dest, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(root / source, dest)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "-w", str(tmp_path / "wheel"), str(copied)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (tmp_path / "wheel").glob("lakegate-*.whl")
    assert wheel.stat().st_size > 100_000  # the console's assets and the migrations are in it


# -- systemd ---------------------------------------------------------------------------------------


def unit() -> list[tuple[str, str]]:
    pairs = []
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: `make test` installs systemd")
    env = tmp_path / "lakegate.env"
    shutil.copy(DEPLOY / "lakegate.env.example", env)
    text = UNIT.read_text().replace("/opt/lakegate/bin/lakegate", LAKEGATE)
    text = text.replace("/etc/lakegate/lakegate.env", str(env))
    (tmp_path / "lakegate@.service").write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "lakegate@query-1.service")],
        check=False, capture_output=True, text=True, env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )  # fmt: skip
    complaints = [line for line in done.stderr.splitlines() if "lakegate@" in line]
    assert done.returncode == 0 and complaints == [], done.stderr


def render(instance: str, state: Path, env: dict[str, str]) -> tuple[list[list[str]], dict[str, str]]:
    """The unit's commands for ``instance`` as systemd runs them (specifiers, then variables:
    ``${X}`` one word, ``$X`` split on white space) and their environment."""
    specifiers = {"%i": instance, "%H": socket.gethostname(), "%S": str(state)}
    values = dict(env)
    commands = []
    for key, raw in unit():
        value = raw
        for spec, replacement in specifiers.items():
            value = value.replace(spec, replacement)
        if key == "Environment":
            name, _, setting = value.partition("=")
            values[name] = setting
        elif key == "EnvironmentFile":
            path = Path(value.lstrip("-").replace("/etc/lakegate", str(state / "etc")))
            if path.exists() or not value.startswith("-"):
                values.update(env_file(path))
        elif key in ("ExecStartPre", "ExecStart"):
            words: list[str] = []
            for word in shlex.split(value.replace("/etc/lakegate", str(state / "etc"))):
                if re.fullmatch(r"\$\{\w+\}", word):
                    words.append(values[word[2:-1]])
                elif re.fullmatch(r"\$\w+", word):
                    words += values[word[1:]].split()
                else:
                    words.append(word)
            commands.append(words)
    return commands, values


def test_two_nodes_from_the_systemd_unit_share_a_catalog_and_answer_queries(
    tmp_path: Path, pg_url: str, seaweed: SeaweedS3
) -> None:
    etc, prefix = tmp_path / "etc", seaweed.new_prefix()
    etc.mkdir()
    config = (DEPLOY / "lakegate.yaml").read_text().replace("s3://lake/", f"s3://{seaweed.bucket}/{prefix}/")
    (etc / "lakegate.yaml").write_text(config.replace("http://s3:8333", seaweed.endpoint))
    shared = env_file(DEPLOY / "lakegate.env.example") | {
        "LAKEGATE_CATALOG": pg_url,
        "LAKEGATE_STORAGE__S3__ACCESS_KEY": INGEST[0],
        "LAKEGATE_STORAGE__S3__SECRET_KEY": INGEST[1],
        "LAKEGATE_STORAGE__S3__QUERY_ACCESS_KEY": QUERY[0],
        "LAKEGATE_STORAGE__S3__QUERY_SECRET_KEY": QUERY[1],
    }  # fmt: skip
    (etc / "lakegate.env").write_text("".join(f"{k}={v}\n" for k, v in shared.items()))
    http_port, pg_port = free_ports(2)
    for name in ("ingest-1", "query-1"):
        text = (DEPLOY / "systemd" / f"{name}.env.example").read_text()
        (etc / f"{name}.env").write_text(text.replace("8080", str(http_port)).replace("6543", str(pg_port)))
    nodes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in ("ingest-1", "query-1"):
            (tmp_path / "lakegate" / name).mkdir(parents=True)  # StateDirectory=
            commands, env = render(name, tmp_path, dict(os.environ))
            *before, start = commands
            for command in before:
                subprocess.run(command, check=True)
            start[0] = LAKEGATE
            log = (tmp_path / f"{name}.log").open("wb")
            env |= {"LAKEGATE_INGEST__RECONCILE_SECONDS": "0.5"}
            nodes[name] = subprocess.Popen(start, env=env, stdout=log, stderr=subprocess.STDOUT)
        for name in nodes:
            wait_for(lambda n=name: "lakegate is up" in (tmp_path / f"{n}.log").read_text(), 90, tmp_path)
        seaweed.client().put_object(
            Bucket=seaweed.bucket, Key=f"{prefix}/landing/shop/orders/a.csv", Body=b"id,v\n1,10\n2,20\n"
        )
        catalog = Catalog(pg_url)
        try:
            from lakegate.auth.principals import Principals

            token, _ = Principals(catalog).create_token("admin", note="tests")
            host = socket.gethostname()
            assert sorted(n.id for n in _alive(catalog)) == [f"{host}-ingest-1", f"{host}-query-1"]
        finally:
            catalog.close()
        url = f"http://127.0.0.1:{http_port}"
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            landed = {"sql": "SELECT 1 FROM shop.orders"}
            wait_for(lambda: http.post("/v1/query", json=landed).status_code == 200, 60, tmp_path)
            got = http.post("/v1/query", json={"sql": "SELECT sum(v) AS s FROM shop.orders"}).json()
            assert got["rows"] == [[30]]
            assert http.get("/v1/health").json()["roles"] == "query"
        with psycopg.connect(pg_url) as conn:
            taken = conn.execute("SELECT claimed_by, state FROM objects").fetchall()
        assert taken == [(f"{socket.gethostname()}-ingest-1", "done")]  # the ingest node took it
        assert (tmp_path / "lakegate" / "query-1" / "lakegate.yaml").is_symlink()  # ExecStartPre ran
    finally:
        for process in nodes.values():
            process.terminate()
        codes = [process.wait(timeout=60) for process in nodes.values()]
    assert codes == [0, 0]


def _alive(catalog: Catalog) -> list[Any]:
    from lakegate.cluster.registry import Registry

    return Registry(catalog, lease_seconds=15).alive()


def wait_for(predicate: Any, timeout: float, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    text = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs.glob("*.log"))
    raise AssertionError(f"timed out\n{text}")
