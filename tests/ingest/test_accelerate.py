"""Acceleration copies: written after cataloging, verified, read by queries instead of the
delivered file, with the same results; never used when they do not match their file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from lakegate import duck
from lakegate.app import App
from lakegate.catalog import acceleration as a
from lakegate.config import Settings
from lakegate.ingest import accelerate as accelerate_module
from lakegate.ingest.accelerate import Accelerator
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.query.engines.duck_engine import QueryEngine
from tests.ingest.test_pipeline import deliver

QUERIES = [
    "SELECT * FROM shop.orders ORDER BY id",
    "SELECT region, count(*), sum(amount), min(ts), max(note) FROM shop.orders GROUP BY ALL ORDER BY 1",
    "SELECT dt, count(*) FROM shop.orders WHERE amount > 2 GROUP BY dt ORDER BY dt",
    "SELECT * FROM web.clicks ORDER BY n",
]


@pytest.fixture
def lake(app: App) -> Iterator[tuple[App, QueryEngine]]:
    first = b"id,region,amount,ts,note\n1,EU,2.5,2026-11-01 10:00:00,\n2,US,,2026-11-01 11:00:00,gift\n"
    deliver(app, "landing/shop/orders/dt=2026-11-01/a.csv", first)
    second = b"id;region;amount;ts;note;extra\n3;EU;7;2026-11-02 09:30:00;x;1\n4;EU;-1.25;;;\n"
    deliver(app, "landing/shop/orders/dt=2026-11-02/b.csv", second)
    clicks = [
        {"n": i, "page": {"path": f"/{i}", "ms": i * 3}, "tags": ["a", "b"][: i % 3]} for i in range(50)
    ]
    deliver(app, "landing/web/clicks/c.ndjson", "\n".join(json.dumps(c) for c in clicks).encode())
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    yield app, engine
    engine.close()


def _answers(engine: QueryEngine) -> list[object]:
    return [engine.execute(sql).table.to_pylist() for sql in QUERIES]


def _delete_copies(app: App) -> None:
    """Someone cleans the derived area: shop.orders' copies are gone."""
    orders = app.catalog.table("shop", "orders")
    assert orders is not None
    for f in orders.files:
        app.store.delete(f.derived_key or "")


def _accelerator(app: App, settings: Settings | None = None) -> Accelerator:
    return Accelerator(app.catalog, app.store, lambda: settings or app.settings)


def test_copies_are_written_verified_and_read_with_the_same_results(lake: tuple[App, QueryEngine]) -> None:
    app, engine = lake
    before = _answers(engine)
    done = _accelerator(app).run_pending()
    assert sorted(d.outcome for d in done) == ["accelerated"] * 3
    assert a.progress(app.catalog) == {"accelerated": 3, "in_place": 0}
    orders = app.catalog.table("shop", "orders")
    assert orders is not None
    assert all(f.derived_key and f.derived_key.endswith(".parquet") for f in orders.files)
    for f in orders.files:
        assert app.store.read(f.derived_key or "")[:4] == b"PAR1"
    assert _answers(engine) == before
    # queries read the copies: with the delivered files set aside, they answer the same
    originals = {f.key: app.store.read(f.key) for f in orders.files}
    for key in originals:
        app.store.delete(key)
    assert _answers(engine)[:3] == before[:3]
    for key, data in originals.items():
        app.store.write(key, data)
    assert _accelerator(app).run_pending() == []  # nothing left to do


def test_a_table_reading_some_copies_and_some_originals_answers_the_same(
    lake: tuple[App, QueryEngine],
) -> None:
    app, engine = lake
    before = _answers(engine)
    [first] = _accelerator(app).run_pending(limit=1)
    assert first.outcome == "accelerated"
    assert a.progress(app.catalog) == {"accelerated": 1, "in_place": 2}
    assert _answers(engine) == before


def test_a_copy_of_a_file_replaced_meanwhile_is_never_used(lake: tuple[App, QueryEngine]) -> None:
    app, _engine = lake
    accelerator = _accelerator(app)
    [candidate] = accelerator.pending(limit=1)
    stale = replace(candidate, sha256="0" * 64)  # the file changed after it was read
    result = accelerator.convert(stale)
    assert result.outcome == "changed"
    assert a.progress(app.catalog)["accelerated"] == 0
    assert not any(k.key.endswith(".parquet") for k in app.store.list("derived/"))


def test_a_copy_that_fails_verification_is_discarded_and_the_file_stays_in_place(
    lake: tuple[App, QueryEngine],
) -> None:
    app, engine = lake
    before = _answers(engine)
    accelerator = _accelerator(app)
    [candidate] = accelerator.pending(limit=1)
    wrong = replace(candidate, row_count=candidate.row_count + 1)  # the copy will not match it
    result = accelerator.convert(wrong)
    assert result.outcome == "failed" and "does not match" in result.reason
    assert not list(app.store.list("derived/"))
    assert a.progress(app.catalog)["accelerated"] == 0
    assert _answers(engine) == before


def test_copies_are_checked_against_the_hash_taken_when_the_file_was_cataloged(
    lake: tuple[App, QueryEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read of a delivered file: its row hash is taken when it is cataloged, and the copy
    is verified against it, without reading the file again."""
    app, engine = lake
    before = _answers(engine)
    accelerator = _accelerator(app)
    pending = accelerator.pending()
    assert len(pending) == 3 and all(c.row_hash for c in pending)
    read: list[str] = []
    original = accelerate_module._fingerprint
    monkeypatch.setattr(
        accelerate_module,
        "_fingerprint",
        lambda conn, select, names: read.append(select) or original(conn, select, names),
    )
    assert sorted(d.outcome for d in accelerator.run_pending()) == ["accelerated"] * 3
    assert len(read) == 3 and all("read_parquet" in s for s in read)  # the copies only
    assert _answers(engine) == before


@pytest.mark.parametrize("known", ["12345", None])
def test_a_copy_is_verified_by_reading_the_file_when_its_catalog_hash_is_wrong_or_unknown(
    lake: tuple[App, QueryEngine], known: str | None
) -> None:
    """A hash from before an upgrade (none), or one the catalog's plan no longer matches: the
    file is read again, and a copy that matches it is used."""
    app, engine = lake
    before = _answers(engine)
    accelerator = _accelerator(app)
    [candidate] = accelerator.pending(limit=1)
    result = accelerator.convert(replace(candidate, row_hash=known))
    assert result.outcome == "accelerated"
    assert _answers(engine) == before


def test_accelerate_off_leaves_files_in_place(lake: tuple[App, QueryEngine]) -> None:
    app, _engine = lake
    settings = app.settings.model_copy(
        update={"ingest": app.settings.ingest.model_copy(update={"accelerate": "off"})}
    )
    assert _accelerator(app, settings).run_pending() == []
    assert a.progress(app.catalog) == {"accelerated": 0, "in_place": 3}


def test_copies_deleted_by_hand_are_rebuilt(lake: tuple[App, QueryEngine]) -> None:
    app, engine = lake
    before = _answers(engine)
    accelerator = _accelerator(app)
    accelerator.run_pending()
    _delete_copies(app)
    rebuilt = accelerator.rebuild("shop", "orders")
    assert [d.outcome for d in rebuilt] == ["accelerated", "accelerated"]
    assert _answers(engine) == before
    assert a.progress(app.catalog) == {"accelerated": 3, "in_place": 0}


def test_queries_fall_back_to_the_files_when_copies_were_deleted_by_hand(
    lake: tuple[App, QueryEngine],
) -> None:
    app, engine = lake
    before = _answers(engine)
    accelerator = _accelerator(app)
    accelerator.run_pending()
    assert _answers(engine) == before  # the copies are in use: their instances are kept
    _delete_copies(app)
    assert _answers(engine) == before  # the same answers, read from the files themselves
    assert a.progress(app.catalog) == {"accelerated": 1, "in_place": 2}  # web.clicks' copy is there
    accelerator.run_pending()  # and the accelerator copies them again
    assert a.progress(app.catalog) == {"accelerated": 3, "in_place": 0}
    assert _answers(engine) == before
    _delete_copies(app)
    stream = engine.stream(QUERIES[0])  # streamed: falls back before its first row
    assert [r for b in stream for r in b.to_pylist()] == before[0]
    accelerator.run_pending()
    _delete_copies(app)
    fresh = QueryEngine(app.catalog, app.store, app.settings.query)  # no instance kept: opening one fails
    try:
        assert fresh.execute(QUERIES[0]).table.to_pylist() == before[0]
        accelerator.run_pending()
        _delete_copies(app)
        assert [r for b in fresh.stream(QUERIES[1]) for r in b.to_pylist()] == before[1]
    finally:
        fresh.close()


def test_copies_no_file_points_to_are_swept_once_old(lake: tuple[App, QueryEngine]) -> None:
    app, engine = lake
    accelerator = _accelerator(app)
    accelerator.run_pending()
    used = a.in_use(app.catalog)
    app.store.write("derived/shop/orders/gone.csv.0123456789ab.parquet", b"PAR1 left by a crash")
    assert accelerator.sweep(min_age=3600) == 0  # young: could be a copy on its way to the catalog
    assert accelerator.sweep(min_age=0) == 1
    assert {i.key for i in app.store.list("derived/")} == used  # the copies in use stay
    assert _answers(engine)


def test_two_accelerators_copying_the_same_file_leave_one_copy_in_use(lake: tuple[App, QueryEngine]) -> None:
    app, engine = lake
    before = _answers(engine)
    one, other = _accelerator(app), _accelerator(app)
    [candidate] = one.pending(limit=1)
    assert one.convert(candidate).outcome == "accelerated"
    assert other.convert(candidate).outcome == "changed"  # it lost the race: its copy is deleted
    used = a.in_use(app.catalog)
    assert len(used) == 1 and {i.key for i in app.store.list("derived/")} == used
    assert _answers(engine) == before


def test_a_file_that_no_longer_reads_as_cataloged_stays_in_place_and_the_rest_goes_on(
    lake: tuple[App, QueryEngine],
) -> None:
    app, _engine = lake
    orders = app.catalog.table("shop", "orders")
    assert orders is not None
    broken = orders.files[0].key
    app.store.write(
        broken, b"id,region,amount,ts,note\nnot a number,EU,x,never,\n"
    )  # changed behind lakegate
    done = {d.key: d for d in _accelerator(app).run_pending()}
    assert done[broken].outcome == "failed" and done[broken].reason
    assert sorted(d.outcome for d in done.values()) == ["accelerated", "accelerated", "failed"]


def _deliver(app: App, key: str, data: bytes, router: Router) -> None:
    outcomes: list[Outcome] = []
    app.store.write(key, data)
    Pipeline(app.catalog, app.store, router=router, on_outcome=outcomes.append).process(key)
    assert [o.kind for o in outcomes] == ["accepted"]


@pytest.mark.parametrize("when", ["judged", "background"])
def test_a_copy_keeps_the_files_row_order_so_its_clustering_skips_row_groups(app: App, when: str) -> None:
    """Rows delivered in time order (as most feeds are) stay in that order in the copy, whether
    it is written in the read that judges a large file or later by the accelerator: a filter on
    the time reads a few row groups; rows come back in the delivered order, as in place."""
    import itertools
    import random

    import pyarrow.parquet as pq

    from lakegate.ingest.accelerate import ROW_GROUP

    rng = random.Random(7)
    days = sorted(f"2026-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}" for _ in range(300_000))
    rows = [(rng.randrange(10**6), d, round(rng.random(), 6)) for d in days]
    body = ("id,day,v\n" + "".join(f"{i},{d},{v:.6f}\n" for i, d, v in rows)).encode()
    assert len(body) > duck.LARGE_FILE  # large: copied as it is judged, if asked
    if when == "judged":
        _deliver(app, "landing/big/events/a.csv", body, Router([], copy_while_judging=True))
        assert a.progress(app.catalog) == {"accelerated": 1, "in_place": 0}  # at once
        assert _accelerator(app).run_pending() == []
    else:
        deliver(app, "landing/big/events/a.csv", body)  # copied by the accelerator
        assert a.progress(app.catalog) == {"accelerated": 0, "in_place": 1}
        [done] = _accelerator(app).run_pending()
        assert done.outcome == "accelerated"
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        sql = (
            "SELECT count(*) AS n, sum(v) AS s FROM big.events "
            "WHERE day BETWEEN '2026-03-01' AND '2026-03-09'"
        )
        wanted = [v for _i, d, v in rows if "2026-03-01" <= d <= "2026-03-09"]
        table = app.catalog.table("big", "events")
        assert table is not None and table.files[0].derived_key and table.files[0].accelerated
        meta = pq.ParquetFile(app.store.url(table.files[0].derived_key)).metadata
        assert meta.num_row_groups == -(-len(rows) // ROW_GROUP)
        bounds = [(g.column(1).statistics.min, g.column(1).statistics.max) for g in
                  (meta.row_group(i) for i in range(meta.num_row_groups))]  # fmt: skip
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(bounds))  # as delivered: ascending
        accelerated = engine.execute(sql)
        assert accelerated.table.to_pylist()[0]["n"] == len(wanted)
        assert abs(accelerated.table.to_pylist()[0]["s"] - sum(wanted)) < 1e-6
        whole = engine.execute("SELECT sum(v) AS s FROM big.events")
        assert accelerated.bytes_scanned < whole.bytes_scanned / 2  # the other row groups skipped
        first = engine.execute("SELECT * FROM big.events LIMIT 1000").table.to_pylist()
        assert first == [{"id": i, "day": dt.date.fromisoformat(d), "v": v} for i, d, v in rows[:1000]]
    finally:
        engine.close()


def test_copies_wait_for_deliveries_once_per_round_not_once_per_file(
    lake: tuple[App, QueryEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While deliveries are taken, copies wait for them (files become queryable first); a
    stream that outlasts one wait does not make every copy wait again."""
    import time

    app, _engine = lake
    monkeypatch.setattr(accelerate_module, "YIELD_SECONDS", 0.5)
    accelerator = Accelerator(app.catalog, app.store, lambda: app.settings, busy=lambda: True)
    started = time.monotonic()
    done = accelerator.run_pending()
    assert sorted(d.outcome for d in done) == ["accelerated"] * 3
    assert 0.5 <= time.monotonic() - started < 1.4  # one wait, not three
