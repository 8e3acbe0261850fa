"""Per-dataset policies: what a new file under a known name does, how far a schema may change,
and the archive that replaced, expired and dropped files go to."""

from __future__ import annotations

from typing import Any

import pytest

from lakegate.app import App
from lakegate.catalog.records import ARCHIVED, ARCHIVING
from lakegate.ingest.archive import Archive
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.routing import Router
from tests.ingest.test_datasets import deliver, pipeline
from tests.ingest.test_pipeline import rows

ORDERS: dict[str, Any] = {
    "name": "orders",
    "key": "landing/{customer}/orders/{name}",
    "database": "{customer}",
    "table": "orders",
}


def kinds(outcomes: list[Outcome]) -> list[tuple[str, str]]:
    return [(o.kind, o.reason_code or o.target_key) for o in outcomes]


def test_identical_content_is_skipped_under_every_policy(app: App) -> None:
    for policy in ("keep_both", "replace", "reject"):
        app.settings.datasets = []
        p, outcomes = pipeline(app, [{**ORDERS, "table": f"t_{policy}", "duplicates": policy}], default=False)
        deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
        deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
        assert [o.kind for o in outcomes] == ["accepted", "duplicate"], policy


def test_keep_both_stores_new_content_under_a_suffixed_name(app: App) -> None:
    p, outcomes = pipeline(app, [ORDERS], default=False)
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n2\n")
    assert outcomes[1].target_key.startswith("lake/acme/orders/a-") and outcomes[1].kind == "accepted"
    assert rows(app, "SELECT id FROM acme.orders ORDER BY id") == [(1,), (2,)]


def test_replace_takes_the_earlier_files_place_and_archives_it(app: App) -> None:
    p, outcomes = pipeline(app, [{**ORDERS, "duplicates": "replace"}], default=False)
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/orders/b.csv", b"id\n5\n")
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n2\n")
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n3\n")
    assert [o.kind for o in outcomes] == ["accepted"] * 4
    assert rows(app, "SELECT id FROM acme.orders ORDER BY id") == [(3,), (5,)]
    archived = app.catalog.archived()
    assert [(a.lake_key, a.state, a.cause) for a in archived] == [
        ("lake/acme/orders/a.csv", ARCHIVED, "replaced"),
        (outcomes[2].target_key, ARCHIVED, "replaced"),
    ]
    for a in archived:
        held = app.store.sha256(a.lake_key) if app.store.stat(a.lake_key) else None
        assert held != a.sha256  # moved out of the lake (the name may hold the newest file)...
        assert app.store.sha256(a.archive_key) == a.sha256  # ...into the archive, unchanged
    assert "replaced by" in archived[0].reason and "landing/acme/orders/a.csv" in archived[0].reason
    assert archived[0].archive_key.startswith("archive/") and archived[0].archive_key.endswith(
        "acme/orders/a.csv"
    )


def test_reject_quarantines_new_content_under_a_known_name(app: App) -> None:
    p, outcomes = pipeline(app, [{**ORDERS, "duplicates": "reject"}], default=False)
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n2\n")
    assert kinds(outcomes)[1] == ("quarantined", "reject.duplicate_name")
    assert "already has a file delivered as 'a.csv'" in outcomes[1].reason
    assert rows(app, "SELECT id FROM acme.orders") == [(1,)]


@pytest.mark.parametrize(
    ("policy", "second", "verdict"),
    [
        ("evolve", b"id,note\n1.5,x\n", "accepted"),
        ("add_only", b"id,note\n1,x\n", "accepted"),
        ("add_only", b"id\n1.5\n", "reject.schema.type_change"),
        ("freeze", b"id\n7\n", "accepted"),
        ("freeze", b"id,note\n1,x\n", "reject.schema.frozen"),
        ("freeze", b"id\nabc\n", "reject.schema.frozen"),
    ],
)
def test_schema_evolution_policies(app: App, policy: str, second: bytes, verdict: str) -> None:
    p, outcomes = pipeline(app, [{**ORDERS, "schema_evolution": policy}], default=False)
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/orders/b.csv", second)
    assert (outcomes[1].reason_code or outcomes[1].kind) == verdict
    table = app.catalog.table("acme", "orders")
    assert table is not None
    if verdict != "accepted":
        assert [c.type for c in table.columns] == ["BIGINT"] and table.schema_version == 1


def test_a_policy_is_enforced_at_registration_too(app: App) -> None:
    """Two files validated against the same schema: the second to register no longer fits."""
    p, outcomes = pipeline(app, [{**ORDERS, "schema_evolution": "freeze"}], default=False)
    deliver(app, p, "landing/acme/orders/a.csv", b"id\n1\n")
    app.store.write("landing/acme/orders/b.csv", b"id,note\n1,x\n")
    app.store.write("landing/acme/orders/c.csv", b"id,extra\n1,y\n")
    app.catalog.drop_table("acme", "orders", "test")  # both now validate against no table...
    Archive(app.catalog, app.store).settle()
    b = app.catalog.land("landing/acme/orders/b.csv", *_stat(app, "landing/acme/orders/b.csv"), p.claimant)
    c = app.catalog.land("landing/acme/orders/c.csv", *_stat(app, "landing/acme/orders/c.csv"), p.claimant)
    assert b is not None and c is not None
    b = p._validate(b)
    c = p._validate(c)
    p.advance(b)  # ...the first makes the table
    p.advance(c)  # and the second, validated before it, must fit it at registration
    assert kinds(outcomes)[-1] == ("quarantined", "reject.schema.frozen")
    assert app.store.stat(c.target_key or "") is None  # its unregistered lake copy is gone
    assert rows(app, "SELECT * FROM acme.orders") == [(1, "x")]


def _stat(app: App, key: str) -> tuple[int, int]:
    info = app.store.stat(key)
    assert info is not None
    return info.size, info.mtime_ns


def test_drop_and_retention_archive_then_purge_deletes(app: App) -> None:
    dataset = {**ORDERS, "key": "landing/{customer}/orders/{day}/{name}", "partition": {"day": "{day}"},
               "retention_days": 30}  # fmt: skip
    p, _outcomes = pipeline(app, [dataset], default=False)
    deliver(app, p, "landing/acme/orders/d1/a.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/orders/d2/a.csv", b"id\n2\n")
    archive = Archive(app.catalog, app.store)
    router = Router.from_settings(app.settings)
    assert archive.expire(router) == {}
    import time

    assert archive.expire(router, now=time.time() + 31 * 86400) == {"acme.orders": 2}
    assert rows(app, "SELECT count(*) FROM acme.orders") == [(0,)]
    assert {a.partition_path for a in app.catalog.archived()} == {"day=d1", "day=d2"}
    deliver(app, p, "landing/acme/orders/d3/a.csv", b"id\n3\n")
    assert app.catalog.drop_table("acme", "orders", "test") == 1
    assert app.catalog.table("acme", "orders") is None
    assert [a.state for a in app.catalog.archived()] == [ARCHIVED, ARCHIVED, ARCHIVING]
    archive.settle()
    row = app.catalog.archived()[-1]
    assert row.cause == "dropped" and app.store.sha256(row.archive_key) == row.sha256
    archive.purge(row)
    assert app.store.stat(row.archive_key) is None
    assert [a.state for a in app.catalog.archived(("purged",))] == ["purged"]


def test_the_same_name_archived_twice_in_a_day_keeps_both_copies(app: App) -> None:
    p, outcomes = pipeline(
        app, [{**ORDERS, "duplicates": "replace", "partition": {"v": "{name}"}}], default=False
    )
    for data in (b"id\n1\n", b"id\n2\n", b"id\n1\n", b"id\n2\n"):
        deliver(app, p, "landing/acme/orders/a.csv", data)
    assert [o.kind for o in outcomes] == ["accepted"] * 4
    archived = app.catalog.archived()
    assert len(archived) == 3 and len({a.archive_key for a in archived}) == 3
    for a in archived:
        assert a.state == ARCHIVED and app.store.sha256(a.archive_key) == a.sha256
    assert rows(app, "SELECT id FROM acme.orders") == [(2,)]
    assert [part.path for part in app.catalog.partitions("acme", "orders")] == ["v=a.csv"]


def test_a_replaced_file_has_one_line_of_lineage_its_newest_delivery(app: App) -> None:
    from lakegate.catalog.acceleration import candidates
    from lakegate.catalog.lineage import table_files

    p, outcomes = pipeline(app, [{**ORDERS, "duplicates": "replace"}], default=False)
    for content in (b"id\n1\n", b"id\n2\n", b"id\n3\n"):
        deliver(app, p, "landing/acme/orders/a.csv", content)
    files = table_files(app.catalog, "acme", "orders")
    assert len(files) == 1 and files[0]["key"] == outcomes[-1].target_key
    assert files[0]["dataset"] == "orders" and files[0]["rows"] == 1
    assert [c.key for c in candidates(app.catalog)] == [
        files[0]["key"]
    ]  # one copy to make, not one per delivery
