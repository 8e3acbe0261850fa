"""A lakegate with two tenants behind a PostgreSQL wire protocol server on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.pgwire.server import PgServer
from lakegate.pgwire.session import Options
from lakegate.query.engines import Engine
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.engines.isolated import IsolatedEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver


@dataclass
class Lake:
    app: App
    server: PgServer
    port: int
    tokens: dict[str, str]

    def dsn(self, user: str = "ann", *, token: str | None = None, **extra: str) -> str:
        parts = {"host": "127.0.0.1", "port": str(self.port), "user": user, "dbname": "lake",
                 "password": token if token is not None else self.tokens[user], "sslmode": "disable",
                 "connect_timeout": "10", **extra}  # fmt: skip
        return " ".join(f"{k}={v}" for k, v in parts.items())


def serve(
    app: App, tmp_path: Path, options: Options | None = None, tls: bool = False, isolation: str = "thread"
) -> Iterator[Lake]:
    deliver(
        app,
        "landing/acme/orders/a.csv",
        b"id,region,amount,day,email\n1,EU,2.5,2026-01-01,a@x\n2,US,3,2026-01-02,b@x\n3,EU,,2026-01-03,c@x\n",
    )
    deliver(app, "landing/globex/orders/a.csv", b"id,note\n7,GLOBEX-ROW\n")  # fmt: skip
    people = Principals(app.catalog)
    tokens = {}
    for name, role, prefix in (("ann", "analyst", None), ("gus", "analyst", None), ("root", "admin", None),
                               ("up", "provider", "acme/in")):  # fmt: skip
        people.add(name, role=role, landing_prefix=prefix)
        tokens[name], _ = people.create_token(name)
    grants = Grants(app.catalog)
    grants.grant(principal="ann", database="acme", columns=["email"], exclude=True,
                 row_filter="region = 'EU'", by="root")  # fmt: skip
    grants.grant(principal="gus", database="globex", by="root")
    engine: Engine
    if isolation == "process":
        engine = IsolatedEngine(
            str(app.home.root), app.settings.model_dump(), app.settings.query, processes=4
        )
    else:
        engine = QueryEngine(app.catalog, app.store, app.settings.query)
    certificate = None
    if tls:
        from lakegate.server.tls import self_signed

        certificate = self_signed(tmp_path / "tls")
    server = PgServer(Gateway(app.catalog, engine), tls=certificate, options=options)
    server.start()
    try:
        yield Lake(app, server, server.bound_port(), tokens)
    finally:
        server.stop()
        engine.close()


@pytest.fixture(params=["thread", "process"], ids=["in-process", "engine-processes"])
def lake(app: App, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Lake]:
    """The same behaviour whichever way the engine runs (``query.isolation``)."""
    yield from serve(app, tmp_path, isolation=request.param)
