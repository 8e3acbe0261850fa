"""A flood of small files costs queries a bounded number of reads: the acceleration copies of a
partition's small files are compacted into one, verified file by file, and queries answer the
same whatever files are pruned, replaced or removed since."""

from __future__ import annotations

from pathlib import Path

from lakegate.app import App, open_app
from lakegate.auth.principals import Principals
from lakegate.config import DatasetSettings
from lakegate.ingest.accelerate import Accelerator
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.keys import is_compacted
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Grants
from tests.s3server import SeaweedS3, s3_config

FILES = 40


def flood(app: App, partition: str = "dt=2026-01-01", start: int = 0, router: Router | None = None) -> None:
    pipeline = Pipeline(app.catalog, app.store, router=router)
    for i in range(start, start + FILES):
        key = f"landing/s/events/{partition}/f{i:04d}.csv"
        app.store.write(
            key, f"id,region,v\n{i},{'EU' if i % 2 else 'US'},{i * 10}\n{i + 1000},EU,1\n".encode()
        )
        pipeline.process(key)


def test_small_files_are_read_through_one_compacted_copy(app: App) -> None:
    flood(app)
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        before = engine.execute("SELECT count(*) AS n, sum(v) AS s FROM s.events").table.to_pylist()
        assert len(engine.plan("SELECT * FROM s.events").keys) == FILES
        done = Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
        assert [d.outcome for d in done].count("compacted") == 1
        plan = engine.plan("SELECT * FROM s.events")
        assert len(plan.keys) == 1 and is_compacted(plan.copies[0])
        assert engine.execute("SELECT count(*) AS n, sum(v) AS s FROM s.events").table.to_pylist() == before
        pruned = engine.execute("SELECT sum(v) AS s FROM s.events WHERE id < 5").table.to_pylist()
        assert pruned == [{"s": sum(i * 10 for i in range(5))}]
    finally:
        engine.close()


def test_a_compacted_copy_reads_only_the_files_still_in_the_table(app: App) -> None:
    app.settings.datasets = [
        DatasetSettings(
            name="events",
            key="landing/s/events/{dt}/{f}.csv",
            database="s",
            table="events",
            partition={"dt": "{dt}"},
            duplicates="replace",
        )
    ]
    router = Router.from_settings(app.settings)
    flood(app, router=router)
    Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        outcomes: list[Outcome] = []
        app.store.write("landing/s/events/dt=2026-01-01/f0003.csv", b"id,region,v\n3,EU,7\n")
        Pipeline(app.catalog, app.store, router=router, on_outcome=outcomes.append).process(
            "landing/s/events/dt=2026-01-01/f0003.csv"
        )
        assert [o.kind for o in outcomes] == ["accepted"]
        rows = engine.execute("SELECT v FROM s.events WHERE id = 3 OR id = 1003 ORDER BY v").table.to_pylist()
        assert rows == [{"v": 7}]  # the replaced file's rows in the compacted copy are not read
        assert engine.execute("SELECT count(*) AS n FROM s.events").table.to_pylist() == [
            {"n": 2 * FILES - 1}
        ]
    finally:
        engine.close()


def test_row_filters_hold_over_compacted_copies(app: App) -> None:
    flood(app)
    Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
    people = Principals(app.catalog)
    people.add("ann", role="analyst")
    grants = Grants(app.catalog)
    grants.grant(principal="ann", database="s", row_filter="region = 'EU'", by="test")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        access = grants.access_for(people.require("ann"))
        seen = engine.execute("SELECT DISTINCT region FROM s.events", access=access).table.to_pylist()
        assert seen == [{"region": "EU"}]
    finally:
        engine.close()


def test_many_partitions_of_small_files_are_each_compacted(app: App) -> None:
    for n in range(3):
        flood(app, partition=f"dt=2026-01-0{n + 1}", start=n * FILES)
    done = Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
    assert [d.outcome for d in done].count("compacted") == 3
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        assert engine.execute("SELECT count(*) AS n FROM s.events").table.to_pylist() == [
            {"n": 2 * 3 * FILES}
        ]
        assert len(engine.plan("SELECT * FROM s.events").keys) == 3
        one_day = engine.plan("SELECT * FROM s.events WHERE dt = '2026-01-02'")
        assert len(one_day.keys) == 1 and one_day.files == FILES
    finally:
        engine.close()


def test_small_files_in_an_s3_lake_are_compacted_too(tmp_path: Path, seaweed: SeaweedS3) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "lakegate.yaml").write_text(s3_config(seaweed, seaweed.new_prefix()))
    app = open_app(home, create=True)
    engine = QueryEngine(app.catalog, app.query_store(), app.settings.query)
    try:
        flood(app)
        before = engine.execute("SELECT count(*) AS n, sum(v) AS s FROM s.events").table.to_pylist()
        done = Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
        assert [d.outcome for d in done].count("compacted") == 1, done
        plan = engine.plan("SELECT * FROM s.events")
        assert len(plan.keys) == 1 and is_compacted(plan.copies[0])
        assert engine.execute("SELECT count(*) AS n, sum(v) AS s FROM s.events").table.to_pylist() == before
    finally:
        engine.close()
        app.close()
