"""Schemathesis drives every operation of the published OpenAPI spec with generated requests
(valid and invalid ones) as an admin and as an analyst: none may end in a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.ingest.pipeline import Pipeline
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from lakegate.server.app import make_app
from tests.ingest.test_pipeline import deliver

_TOKENS: dict[str, str] = {}


@pytest.fixture
def api_schema(app: App, tmp_path: Path) -> Iterator[Any]:
    deliver(app, "landing/acme/orders/dt=1/a.csv", b"id,region,email\n1,EU,a@x\n2,US,b@x\n")
    deliver(app, "landing/acme/orders/dt=2/bad.csv", b"")  # one quarantined object to show
    people = Principals(app.catalog)
    for name, role in (("root", "admin"), ("ann", "analyst")):
        people.add(name, role=role)
        _TOKENS[name], _ = people.create_token(name)
    Grants(app.catalog).grant(principal="ann", database="acme", row_filter="region = 'EU'", by="root")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    pipeline = Pipeline(app.catalog, app.store)
    served = make_app(
        app.catalog, app.store, lambda: pipeline, Gateway(app.catalog, engine), results=tmp_path / "results"
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", served)
    if served.state.jobs is not None:
        served.state.jobs.shutdown()
    engine.close()


@pytest.mark.parametrize("who", ["root", "ann"])
def test_no_request_ends_in_a_server_error(api_schema: Any, who: str) -> None:
    headers = {"Authorization": f"Bearer {_TOKENS[who]}"}
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    operations = [found.ok() for found in api_schema.get_all_operations()]
    assert len(operations) > 30
    tried: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Unsatisfiable:  # nothing invalid to send: no parameters and no body
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            tried.append(f"{mode.value} {operation.label}")
    assert len(tried) > 50
