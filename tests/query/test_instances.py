"""Engine instances: queries of one audience share them, so a workload over a few tables opens a
few instances, not one per set of tables; other audiences and table listings never share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver


@pytest.fixture
def engine(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[QueryEngine, list[list[str]]]]:
    for name in ("a", "b", "c"):
        deliver(app, f"landing/s/{name}/x.csv", f"id,{name}\n1,10\n2,20\n".encode())
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    opened: list[list[str]] = []
    real = engine._open

    def counted(views: dict[str, str], *args: Any) -> Any:
        opened.append(sorted(views))
        return real(views, *args)

    monkeypatch.setattr(engine, "_open", counted)
    yield engine, opened
    engine.close()


def test_an_audience_s_queries_grow_one_instance_over_their_tables(
    app: App, engine: tuple[QueryEngine, list[list[str]]]
) -> None:
    eng, opened = engine
    assert eng.execute("SELECT sum(a) AS n FROM s.a").table.to_pylist() == [{"n": 30}]
    assert eng.execute("SELECT sum(b) AS n FROM s.b").table.to_pylist() == [{"n": 30}]
    assert opened == [["s.a"], ["s.a", "s.b"]]  # the second took over the first one's view
    both = "SELECT sum(a + b) AS n FROM s.a JOIN s.b USING (id)"
    assert eng.execute(both).table.to_pylist() == [{"n": 60}]
    assert eng.execute("SELECT sum(a) AS n FROM s.a").table.to_pylist() == [{"n": 30}]
    assert len(opened) == 2  # served by the instance holding both
    deliver(app, "landing/s/a/y.csv", b"id,a\n3,5\n")  # s.a changes: its new view replaces the old
    assert eng.execute(both).table.to_pylist() == [{"n": 60}]
    assert eng.execute("SELECT sum(a) AS n FROM s.a").table.to_pylist() == [{"n": 35}]
    assert opened[2:] == [["s.a", "s.b"]]


def test_other_audiences_and_listings_do_not_share(
    app: App, engine: tuple[QueryEngine, list[list[str]]]
) -> None:
    eng, opened = engine
    people, grants = Principals(app.catalog), Grants(app.catalog)
    for name in ("ann", "bob"):
        people.add(name, role="analyst")
    grants.grant(database="s", principal="ann", by="test")
    grants.grant(database="s", table="a", principal="bob", by="test")
    ann = grants.access_for(people.require("ann"))
    bob = grants.access_for(people.require("bob"))
    eng.execute("SELECT * FROM s.a", access=ann)
    eng.execute("SELECT * FROM s.b", access=ann)
    eng.execute("SELECT * FROM s.a", access=bob)  # the same view, another audience: its own
    assert opened == [["s.a"], ["s.a", "s.b"], ["s.a"]]
    listed = eng.execute("SELECT table_name FROM information_schema.tables ORDER BY 1", access=bob)
    assert listed.table.column("table_name").to_pylist() == ["a"]
    listed = eng.execute("SELECT table_name FROM information_schema.tables ORDER BY 1", access=ann)
    assert listed.table.column("table_name").to_pylist() == ["a", "b", "c"]
    eng.execute("SELECT * FROM s.a", access=ann)
    assert eng.plan("SELECT * FROM s.a", access=ann).audience == eng.plan("SELECT 1", access=ann).audience
    assert eng.plan("SELECT * FROM information_schema.tables", access=ann).lists_tables
