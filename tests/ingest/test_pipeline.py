"""The per-object state machine, in process: outcomes, idempotency and resumption from every state."""

from __future__ import annotations

import pytest

from lakegate.app import App
from lakegate.catalog import records as r
from lakegate.ingest import faults
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.query.engines.duck_engine import QueryEngine


def rows(app: App, sql: str) -> list[tuple[object, ...]]:
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        table = engine.execute(sql).table
        return [tuple(d.values()) for d in table.to_pylist()]
    finally:
        engine.close()


def deliver(app: App, key: str, data: bytes) -> Outcome:
    outcomes: list[Outcome] = []
    app.store.write(key, data)
    Pipeline(app.catalog, app.store, on_outcome=outcomes.append).process(key)
    assert len(outcomes) == 1
    return outcomes[0]


def landing_keys(app: App) -> list[str]:
    return [i.key for i in app.store.list("landing/")]


def test_accepted_file_is_organized_cataloged_and_removed(app: App) -> None:
    outcome = deliver(app, "landing/sales/orders/dt=2026-01-01/a.csv", b"id,amount\n1,2.5\n2,3\n")
    assert outcome.kind == "accepted" and outcome.table == "sales.orders" and outcome.rows == 2
    assert app.store.read("lake/sales/orders/dt=2026-01-01/a.csv") == b"id,amount\n1,2.5\n2,3\n"
    assert landing_keys(app) == []
    assert rows(app, "SELECT id, amount, dt FROM sales.orders ORDER BY id") == [
        (1, 2.5, "2026-01-01"),
        (2, 3.0, "2026-01-01"),
    ]


def test_identical_redelivery_is_idempotent(app: App) -> None:
    deliver(app, "landing/sales/orders/a.csv", b"id\n1\n")
    again = deliver(app, "landing/sales/orders/a.csv", b"id\n1\n")
    other_name = deliver(app, "landing/sales/orders/copy-of-a.csv", b"id\n1\n")
    assert again.kind == "duplicate" and other_name.kind == "duplicate"
    assert rows(app, "SELECT count(*) FROM sales.orders") == [(1,)]
    assert [i.key for i in app.store.list("lake/")] == ["lake/sales/orders/a.csv"]
    assert landing_keys(app) == []


def test_new_content_under_a_known_name_is_kept_beside_it(app: App) -> None:
    deliver(app, "landing/sales/orders/a.csv", b"id\n1\n")
    second = deliver(app, "landing/sales/orders/a.csv", b"id\n2\n")
    assert second.kind == "accepted" and second.target_key.startswith("lake/sales/orders/a-")
    assert app.store.read("lake/sales/orders/a.csv") == b"id\n1\n"
    assert rows(app, "SELECT id FROM sales.orders ORDER BY id") == [(1,), (2,)]


def test_schema_evolution_adds_and_widens(app: App) -> None:
    deliver(app, "landing/s/t/1.csv", b"id,amount\n1,10\n")
    deliver(app, "landing/s/t/2.csv", b"id,amount,note\n2,10.5,hello\n")
    deliver(app, "landing/s/t/3.csv", b"amount;id\n7;3\n")  # other delimiter, other column order
    assert rows(app, "SELECT id, amount, note FROM s.t ORDER BY id") == [
        (1, 10.0, None),
        (2, 10.5, "hello"),
        (3, 7.0, None),
    ]
    table = app.catalog.table("s", "t")
    assert table is not None
    assert [(c.name, c.type) for c in table.columns] == [
        ("id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("note", "VARCHAR"),
    ]


def test_a_file_that_would_turn_a_typed_column_into_text_is_quarantined(app: App) -> None:
    deliver(app, "landing/s/t/1.csv", b"code\n7\n")
    refused = deliver(app, "landing/s/t/2.csv", b"code\nA7\n9\n")
    assert refused.kind == "quarantined" and refused.reason_code == "reject.schema.type_change"
    assert "code from BIGINT to VARCHAR" in refused.reason and "'A7' (row 1)" in refused.reason
    assert rows(app, "SELECT code FROM s.t ORDER BY code") == [(7,)]


def test_under_loose_evolution_conflicting_types_widen_to_text_without_losing_values(app: App) -> None:
    app.settings.ingest.schema_evolution = "loose"
    for key, data in [("landing/s/t/1.csv", b"code\n7\n"), ("landing/s/t/2.csv", b"code\nA7\n")]:
        app.store.write(key, data)
        Pipeline(app.catalog, app.store, router=Router.from_settings(app.settings)).process(key)
    assert rows(app, "SELECT code FROM s.t ORDER BY code") == [("7",), ("A7",)]


@pytest.mark.parametrize(
    ("key", "data", "code"),
    [
        ("landing/s/t/empty.csv", b"", "reject.empty"),
        ("landing/s/t/junk.csv", bytes(range(256)) * 40, "reject.binary"),
        ("landing/loose.csv", b"a\n1\n", "reject.route"),
        ("landing/s/t/dt=1/clash.csv", b"dt,a\n1,2\n", "reject.partition_column_clash"),
    ],
)
def test_bad_input_is_quarantined_unchanged_with_a_reason(app: App, key: str, data: bytes, code: str) -> None:
    outcome = deliver(app, key, data)
    assert outcome.kind == "quarantined" and outcome.reason_code == code
    assert app.store.read(outcome.target_key) == data
    assert outcome.target_key.startswith("quarantine/")
    assert landing_keys(app) == []
    [obj] = app.catalog.objects_in((r.QUARANTINED,))
    assert obj.reason_code == code and obj.reason


class Crash(Exception):
    pass


POINTS = [r.VALIDATED, r.COPIED, r.CATALOGED, "before_remove_source", r.DONE]
REJECT_POINTS = [r.REJECTED, r.QUARANTINE_COPIED, "before_remove_source", r.QUARANTINED]


def _crash_once_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    fired = {"done": False}
    real = faults.checkpoint

    def fake(p: str) -> None:
        if p == point and not fired["done"]:
            fired["done"] = True
            raise Crash(p)
        real(p)

    monkeypatch.setattr(faults, "checkpoint", fake)


@pytest.mark.parametrize("point", POINTS)
def test_resume_after_a_stop_at_every_accept_step(
    app: App, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    _crash_once_at(monkeypatch, point)
    app.store.write("landing/s/t/a.csv", b"id\n1\n2\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process("landing/s/t/a.csv")
    for obj in app.catalog.active_objects():  # what `lakegate up` does at start
        Pipeline(app.catalog, app.store).advance(obj)
    Pipeline(app.catalog, app.store).process("landing/s/t/a.csv")  # and what the reconciler may do
    assert rows(app, "SELECT count(*) FROM s.t") == [(2,)]
    assert [i.key for i in app.store.list("lake/")] == ["lake/s/t/a.csv"]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


@pytest.mark.parametrize("point", REJECT_POINTS)
def test_resume_after_a_stop_at_every_reject_step(
    app: App, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    _crash_once_at(monkeypatch, point)
    app.store.write("landing/s/t/e.csv", b"")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process("landing/s/t/e.csv")
    Pipeline(app.catalog, app.store).process("landing/s/t/e.csv")
    for obj in app.catalog.active_objects():
        Pipeline(app.catalog, app.store).advance(obj)
    assert len(list(app.store.list("quarantine/"))) == 1
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


def replaced_after_validation(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider overwrites a file after lakegate validated it and before it was copied."""
    _crash_once_at(monkeypatch, r.VALIDATED)
    key = "landing/s/t/a.csv"
    app.store.write(key, b"id\n1\n2\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process(key)
    app.store.write(key, b"id\n7\n8\n9\n")
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    for obj in app.catalog.active_objects():
        pipeline.advance(obj)
    assert [o.kind for o in outcomes] == ["vanished"]  # the validated version is gone: not copied
    assert list(app.store.list("lake/")) == []
    pipeline.process(key)  # the reconciler sees the new version: a delivery of its own
    assert [o.kind for o in outcomes] == ["vanished", "accepted"]
    assert rows(app, "SELECT id FROM s.t ORDER BY id") == [(7,), (8,), (9,)]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


def test_a_local_file_overwritten_after_it_was_taken_is_a_second_delivery(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local file is held (renamed out of the way) before it is read: a writer that writes the
    name again afterwards makes a new file there, and both versions are delivered, once each."""
    _crash_once_at(monkeypatch, r.VALIDATED)
    key = "landing/s/t/a.csv"
    app.store.write(key, b"id\n1\n2\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process(key)
    assert landing_keys(app) == []  # held under a hidden name
    app.store.write(key, b"id\n7\n8\n9\n")
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    for obj in app.catalog.active_objects():
        pipeline.advance(obj)
    assert [o.kind for o in outcomes] == ["accepted"]
    assert landing_keys(app) == [key]  # the new version waits its turn
    pipeline.process(key)
    assert [o.kind for o in outcomes] == ["accepted", "accepted"]
    assert rows(app, "SELECT id FROM s.t ORDER BY id") == [(1,), (2,), (7,), (8,), (9,)]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


def test_a_csv_cut_off_mid_write_keeps_its_rows_and_says_its_last_line_has_no_break(app: App) -> None:
    cut_in_a_value = deliver(app, "landing/s/cut/a.csv", b"id,amount\n1,10.5\n2,20.5\n3,3")
    assert cut_in_a_value.kind == "accepted" and cut_in_a_value.rows == 3
    assert any("the last line has no line break" in w for w in cut_in_a_value.warnings)
    cut_in_a_row = deliver(app, "landing/s/cut2/b.csv", b"id,name,amount\n4,x,10.5\n5,y")
    assert cut_in_a_row.rows == 1 and any("left out" in w for w in cut_in_a_row.warnings)
    whole = deliver(app, "landing/s/cut/c.csv", b"id,amount\n6,1.5\n")
    assert whole.warnings == []
