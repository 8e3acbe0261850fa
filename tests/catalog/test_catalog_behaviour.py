"""One behaviour suite for the catalog on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lakegate.catalog import Catalog, ObjectRecord
from lakegate.catalog import records as r
from lakegate.catalog.model import metadata
from lakegate.catalog.records import Claimant
from lakegate.errors import CatalogError

BY = Claimant("node-a")


def land(catalog: Catalog, key: str, size: int = 10, mtime_ns: int = 1) -> ObjectRecord:
    obj = catalog.land(key, size, mtime_ns, BY)
    assert obj is not None
    return obj


def _plan(
    columns: list[tuple[str, str]], rows: int = 2, partition: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "format": "csv",
        "options": {"delim": ",", "quote": '"', "escape": '"', "header": True},
        "columns": [{"name": n, "original": n.upper(), "type": t, "added_in": 1} for n, t in columns],
        "rows": rows,
        "size": 10,
        "partition": partition or {},
        "location": "lake/sales/orders",
    }


def _through_copy(catalog: Catalog, key: str, sha: str, plan: dict[str, Any], target: str) -> ObjectRecord:
    obj = land(catalog, key)
    part = "/".join(f"{k}={v}" for k, v in plan["partition"].items())
    obj = catalog.transition(
        obj, r.VALIDATED, sha256=sha, database="sales", table="orders", partition_path=part,
        target_key=target, plan=plan,
    )  # fmt: skip
    return catalog.transition(obj, r.COPIED)


def test_land_is_idempotent_per_active_object(catalog: Catalog) -> None:
    first = land(catalog, "landing/sales/orders/a.csv", 10, 1)
    again = land(catalog, "landing/sales/orders/a.csv", 10, 1)
    assert first.id == again.id and again.state == r.LANDED
    assert [o.id for o in catalog.active_objects()] == [first.id]


def test_transition_refuses_a_stale_state(catalog: Catalog) -> None:
    obj = land(catalog, "landing/x/y/z.csv", 1, 1)
    catalog.transition(obj, r.REJECTED, reason_code="reject.empty", reason="empty")
    with pytest.raises(CatalogError) as err:
        catalog.transition(obj, r.VALIDATED)
    assert err.value.code == "catalog.state_conflict"


def test_register_creates_table_partition_file_and_version(catalog: Catalog) -> None:
    obj = _through_copy(
        catalog,
        "landing/sales/orders/dt=1/a.csv",
        "a" * 64,
        _plan([("id", "BIGINT")], partition={"dt": "1"}),
        "lake/sales/orders/dt=1/a.csv",
    )
    done, reg = catalog.register(obj)
    assert done.state == r.CATALOGED
    assert reg.schema_version == 1 and reg.rows == 2
    table = catalog.table("sales", "orders")
    assert table is not None
    assert [(c.name, c.original, c.type) for c in table.columns] == [("id", "ID", "BIGINT")]
    assert table.partition_keys == ["dt"]
    assert [f.key for f in table.files] == ["lake/sales/orders/dt=1/a.csv"]
    assert table.files[0].options["delim"] == ","
    assert table.files[0].partition == {"dt": "1"}
    assert catalog.databases() == ["sales"]
    assert [p.path for p in catalog.partitions("sales", "orders")] == ["dt=1"]


def test_schema_evolution_is_versioned_with_a_diff(catalog: Catalog) -> None:
    one = _through_copy(catalog, "landing/sales/orders/a.csv", "a" * 64, _plan([("id", "BIGINT")]), "lake/a")
    catalog.register(one)
    two = _through_copy(
        catalog,
        "landing/sales/orders/b.csv",
        "b" * 64,
        _plan([("id", "DOUBLE"), ("note", "VARCHAR")]),
        "lake/b",
    )
    _, reg = catalog.register(two)
    assert reg.schema_version == 2
    table = catalog.table("sales", "orders")
    assert table is not None
    assert [(c.name, c.type, c.added_in) for c in table.columns] == [
        ("id", "DOUBLE", 1),
        ("note", "VARCHAR", 2),
    ]
    versions = catalog.versions("sales", "orders")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].diff["added"] == ["note"]
    assert versions[1].diff["widened"] == [{"column": "id", "from": "BIGINT", "to": "DOUBLE"}]
    assert [c.type for c in versions[0].columns] == ["BIGINT"]  # the old definition is archived


def test_same_schema_does_not_bump_the_version(catalog: Catalog) -> None:
    for i, sha in enumerate(["a", "b"]):
        obj = _through_copy(
            catalog, f"landing/sales/orders/{i}.csv", sha * 64, _plan([("id", "BIGINT")]), f"lake/{i}"
        )
        catalog.register(obj)
    table = catalog.table("sales", "orders")
    assert table is not None and table.schema_version == 1 and table.row_count == 4 and table.file_count == 2


def test_identical_content_is_a_duplicate(catalog: Catalog) -> None:
    one = _through_copy(catalog, "landing/sales/orders/a.csv", "c" * 64, _plan([("id", "BIGINT")]), "lake/a")
    catalog.register(one)
    two = _through_copy(
        catalog, "landing/sales/orders/again.csv", "c" * 64, _plan([("id", "BIGINT")]), "lake/b"
    )
    done, reg = catalog.register(two)
    assert done.state == r.DUPLICATE and reg.duplicate_of == "lake/a"
    table = catalog.table("sales", "orders")
    assert table is not None and table.file_count == 1
    assert catalog.duplicate_in_table("sales", "orders", "c" * 64) == "lake/a"


def test_concurrent_registrations_into_one_new_table(catalog: Catalog) -> None:
    objs = [
        _through_copy(
            catalog, f"landing/sales/orders/{i}.csv", f"{i:064d}", _plan([("id", "BIGINT")]), f"lake/{i}"
        )
        for i in range(8)
    ]
    errors: list[Exception] = []

    def register(obj: ObjectRecord) -> None:
        for _ in range(5):
            try:
                catalog.register(obj)
                return
            except CatalogError as exc:
                if not exc.transient:
                    errors.append(exc)
                    return
        errors.append(RuntimeError("no progress"))

    threads = [threading.Thread(target=register, args=(o,)) for o in objs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    table = catalog.table("sales", "orders")
    assert table is not None and table.file_count == 8 and table.schema_version == 1


def test_terminal_states_end_the_active_row(catalog: Catalog) -> None:
    obj = land(catalog, "landing/a/b/c.csv", 1, 1)
    obj = catalog.transition(
        obj, r.REJECTED, reason_code="reject.empty", reason="empty", target_key="q/c.csv"
    )
    obj = catalog.transition(obj, r.QUARANTINE_COPIED)
    catalog.transition(obj, r.QUARANTINED)
    assert catalog.active_objects() == []
    assert catalog.active_for("landing/a/b/c.csv") is None
    new = land(catalog, "landing/a/b/c.csv", 2, 2)  # a new delivery under the same name
    assert new.id != obj.id and new.state == r.LANDED
    assert [o.reason_code for o in catalog.objects_in((r.QUARANTINED,))] == ["reject.empty"]


def test_migrations_build_exactly_the_model(catalog: Catalog) -> None:
    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0013"


def test_reopening_an_existing_catalog_keeps_its_data(catalog: Catalog) -> None:
    land(catalog, "landing/a/b/c.csv", 1, 1)
    again = Catalog(catalog.url)
    assert len(again.active_objects()) == 1
    again.close()


def test_unreachable_catalog_is_a_clear_transient_error() -> None:
    with pytest.raises(CatalogError) as err:
        Catalog("postgresql://postgres@127.0.0.1:1/nothing")
    assert err.value.code == "catalog.unavailable" and err.value.transient


def test_an_existing_catalog_is_upgraded_keeping_its_files(tmp_path: Any) -> None:
    from alembic import command
    from alembic.config import Config

    from lakegate.catalog.database import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        for statement in (
            "INSERT INTO databases (id, name, created_at) VALUES (1, 'd', 0)",
            "INSERT INTO tables (id, database_id, name, location, schema_version, partition_keys, "
            "created_at, updated_at) VALUES (1, 1, 't', 'lake/d/t', 1, '[]', 0, 0)",
            "INSERT INTO partitions (id, table_id, path, \"values\", created_at) VALUES (1, 1, '', '{}', 0)",
            "INSERT INTO files (table_id, partition_id, key, size, sha256, row_count, schema_fingerprint, "
            "format, options, columns, created_at) "
            "VALUES (1, 1, 'lake/d/t/a.csv', 1, 'ab', 1, 'f', 'csv', '{}', '[]', 0)",
        ):
            conn.execute(sa.text(statement))
    engine.dispose()
    catalog = Catalog(url)
    try:
        assert catalog.delivered_as("d", "t", "lake/d/t/a.csv") == ["lake/d/t/a.csv"]
        assert catalog.archived() == []
    finally:
        catalog.close()


def test_descriptions_outlive_schema_changes_and_go_with_their_table(catalog: Catalog) -> None:
    one = _through_copy(catalog, "landing/sales/orders/a.csv", "a" * 64, _plan([("id", "BIGINT")]), "lake/a")
    catalog.register(one)
    catalog.describe_table("sales", "orders", "Orders from the shop", by="ann")
    catalog.describe_table("sales", "orders", "The order's number", column="id", by="ann")
    two = _plan([("id", "DOUBLE"), ("note", "VARCHAR")])
    catalog.register(_through_copy(catalog, "landing/sales/orders/b.csv", "b" * 64, two, "lake/b"))
    assert catalog.descriptions("sales", "orders") == {"": "Orders from the shop", "id": "The order's number"}
    catalog.describe_table("sales", "orders", "", column="id", by="ann")  # empty: removed
    assert catalog.descriptions("sales", "orders") == {"": "Orders from the shop"}
    for target, column, code in (
        ("nope", "", "catalog.unknown_table"),
        ("orders", "nope", "catalog.unknown_column"),
    ):
        with pytest.raises(CatalogError) as err:
            catalog.describe_table("sales", target, "x", column=column, by="ann")
        assert err.value.code == code
    catalog.drop_table("sales", "orders", "test")
    assert catalog.descriptions("sales", "orders") == {}


def test_a_table_is_read_again_exactly_when_it_changed(catalog: Catalog) -> None:
    from lakegate.catalog import acceleration

    def deliver(through: Catalog, name: str, sha: str, dt: str) -> None:
        plan = _plan([("id", "BIGINT")], partition={"dt": dt})
        through.register(_through_copy(through, f"landing/sales/orders/{name}", sha, plan, f"lake/{name}"))

    def keys() -> list[tuple[str, str | None]]:
        table = catalog.table("sales", "orders")
        return [] if table is None else [(f.key, f.derived_key) for f in table.files]

    deliver(catalog, "a.csv", "a" * 64, "1")
    first = catalog.table("sales", "orders")
    assert catalog.table("sales", "orders") is first  # unchanged: not read again
    other = Catalog(catalog.url)  # another process registers a file
    try:
        deliver(other, "b.csv", "b" * 64, "2")
    finally:
        other.close()
    assert keys() == [("lake/a.csv", None), ("lake/b.csv", None)]
    candidate = acceleration.candidates(catalog)[0]
    assert acceleration.record(catalog, candidate, "lake/_derived/a.parquet", "c" * 64)
    assert keys() == [("lake/a.csv", "lake/_derived/a.parquet"), ("lake/b.csv", None)]
    assert acceleration.forget(catalog, "sales") == ["lake/_derived/a.parquet"]
    assert keys() == [("lake/a.csv", None), ("lake/b.csv", None)]
    catalog.archive_partitions("sales", "orders", ["dt=1"], "retention")
    assert keys() == [("lake/b.csv", None)]
    catalog.drop_table("sales", "orders", "dropped")
    assert catalog.table("sales", "orders") is None
    deliver(catalog, "c.csv", "d" * 64, "3")  # a new table of the same name starts again at 0
    assert keys() == [("lake/c.csv", None)]


# -- claims: several nodes sharing one ledger ---------------------------------------------------

OTHER = Claimant("node-b")


def test_a_held_object_is_refused_to_another_node(catalog: Catalog) -> None:
    mine = land(catalog, "landing/a/b/c.csv")
    assert (mine.claimed_by, mine.claim_epoch) == ("node-a", 1)
    assert catalog.land("landing/a/b/c.csv", 10, 1, OTHER) is None
    assert catalog.claim(mine, OTHER) is None
    again = land(catalog, "landing/a/b/c.csv")  # its own node takes it again (a restart)
    assert again.id == mine.id and again.claim_epoch == 2


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced(catalog: Catalog) -> None:
    brief = Claimant("node-a", lease_seconds=0.0)
    first = catalog.land("landing/a/b/c.csv", 10, 1, brief)
    assert first is not None
    assert [o.id for o in catalog.claimable(OTHER)] == [first.id]
    taken = catalog.claim(first, OTHER)
    assert taken is not None and taken.claimed_by == "node-b"
    with pytest.raises(CatalogError) as err:
        catalog.transition(first, r.VALIDATED)  # node-a wakes up and goes on: it can change nothing
    assert err.value.code == "catalog.claim_lost" and "node-b" in err.value.message
    assert catalog.transition(taken, r.REJECTED, reason_code="reject.empty").state == r.REJECTED
    assert catalog.claimable(OTHER) == [catalog.get_object(first.id)]  # its own, still unfinished


def test_renewing_keeps_a_claim_and_releasing_hands_it_over(catalog: Catalog) -> None:
    short = Claimant("node-a", lease_seconds=0.0)
    obj = catalog.land("landing/a/b/c.csv", 10, 1, short)
    assert obj is not None
    assert catalog.renew_claims(BY) == 1  # renewed with a real lease: node-b may not take it
    assert catalog.claimable(OTHER) == [] and catalog.claim(obj, OTHER) is None
    assert catalog.release_claims("node-a") == 1  # node-a stops
    assert catalog.claim(obj, OTHER) is not None


def test_nodes_landing_one_key_at_once_record_it_once(catalog: Catalog) -> None:
    key = "landing/a/b/race.csv"
    got: list[ObjectRecord | None] = []
    errors: list[Exception] = []

    def node(i: int) -> None:
        try:
            got.append(catalog.land(key, 10, 1, Claimant(f"node-{i}")))
        except Exception as exc:  # a conflict would be retried by the service: record it
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in got if o is not None]
    assert errors == [] and len(winners) == 1
    assert [o.id for o in catalog.active_objects()] == [winners[0].id]
