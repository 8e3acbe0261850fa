"""Replaying quarantined objects after a fix: back to landing, taken again, never lost or doubled."""

from __future__ import annotations

import gzip

import pytest

from lakegate.app import App
from lakegate.catalog import records as r
from lakegate.catalog.records import Claimant
from lakegate.errors import CatalogError, LakegateError
from lakegate.ingest import pipeline as pipeline_module
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from tests.ingest.test_pipeline import Crash, _crash_once_at, landing_keys, rows

KEY = "landing/acme/sales_20261126.csv"
DATA = gzip.compress(b"id,amount\n1,2.5\n2,3\n")
SALES = {
    "name": "sales",
    "key": "landing/{customer}/sales_{date:%Y%m%d}.csv",
    "database": "{customer}",
    "table": "sales",
    "compressions": ["none"],
}


def quarantined(app: App) -> tuple[Pipeline, list[Outcome], r.ObjectRecord]:
    """A gzip'd file its dataset does not take yet, quarantined; then the dataset is fixed."""
    app.settings.datasets = [SALES]  # type: ignore[list-item]
    app.store.write(KEY, DATA)
    Pipeline(app.catalog, app.store, router=Router.from_settings(app.settings)).process(KEY)
    [obj] = app.catalog.objects_in((r.QUARANTINED,))
    assert obj.reason_code == "reject.format"
    app.settings.datasets = [{**SALES, "compressions": ["none", "gzip"]}]  # type: ignore[list-item]
    outcomes: list[Outcome] = []
    return (
        Pipeline(
            app.catalog, app.store, router=Router.from_settings(app.settings), on_outcome=outcomes.append
        ),
        outcomes,
        obj,
    )


def test_a_replayed_object_is_taken_again_under_the_fixed_rules(app: App) -> None:
    pipeline, outcomes, obj = quarantined(app)
    done = pipeline.advance(app.catalog.begin_replay(obj, pipeline.claimant))
    assert done.state == r.REPLAYED and landing_keys(app) == [KEY]
    assert list(app.store.list("quarantine/")) == []
    pipeline.process(KEY)
    assert [o.kind for o in outcomes] == ["replayed", "accepted"]
    assert rows(app, "SELECT id, amount FROM acme.sales ORDER BY id") == [(1, 2.5), (2, 3.0)]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []
    assert app.catalog.get_object(obj.id).state == r.REPLAYED  # type: ignore[union-attr]


def test_a_crash_in_the_middle_of_a_replay_is_finished_by_whoever_comes_next(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, outcomes, obj = quarantined(app)
    _crash_once_at(monkeypatch, "replay_copied")  # back in landing, quarantine copy not yet deleted
    with pytest.raises(Crash):
        pipeline.advance(app.catalog.begin_replay(obj, pipeline.claimant))
    assert landing_keys(app) == [KEY] and len(list(app.store.list("quarantine/"))) == 1
    with pytest.raises(LakegateError) as young:  # its owner may still be at it: left to it a while
        pipeline.process(KEY)
    assert young.value.code == "ingest.replaying" and young.value.transient
    monkeypatch.setattr(pipeline_module, "REPLAY_GRACE_SECONDS", 0.0)  # then it was cut short
    pipeline.process(KEY)  # `lakegate up` sees the object in landing first
    assert [o.kind for o in outcomes] == ["replayed", "accepted"]
    assert list(app.store.list("quarantine/")) == [] and landing_keys(app) == []
    assert rows(app, "SELECT count(*) FROM acme.sales") == [(2,)]


def test_a_replay_waits_while_another_delivery_holds_the_key(app: App) -> None:
    pipeline, outcomes, obj = quarantined(app)
    app.store.write(KEY, b"id,amount\n7,7\n")  # a new delivery arrived meanwhile
    done = pipeline.advance(app.catalog.begin_replay(obj, pipeline.claimant))
    assert done.state == r.QUARANTINED and "postponed" in done.reason_details["replay"]  # type: ignore[index]
    assert [o.kind for o in outcomes] == ["replay postponed"]
    assert app.store.read(KEY) == b"id,amount\n7,7\n" and len(list(app.store.list("quarantine/"))) == 1
    app.catalog.land(KEY, 14, 0, Claimant("another-node"))  # that delivery is being taken
    with pytest.raises(CatalogError) as err:
        app.catalog.begin_replay(done, pipeline.claimant)
    assert err.value.code == "quarantine.busy"
