from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lakegate.duck.sql import sql_literal
from lakegate.errors import Rejection
from lakegate.ingest.routing import default_route, escape_value, lake_file_name, unescape_value, with_suffix


def test_hive_layout() -> None:
    route = default_route("landing/Sales Data/Orders/dt=2026-11-26/region=eu/part 1.csv")
    assert (route.database, route.table) == ("sales_data", "orders")
    assert route.partition == {"dt": "2026-11-26", "region": "eu"}
    assert route.target_key == "lake/sales_data/orders/dt=2026-11-26/region=eu/part 1.csv"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("landing/file.csv", "directly under landing/"),
        ("landing/sales/file.csv", "directly under landing/sales/"),
        ("landing/sales/orders/plain/file.csv", "not a key=value partition"),
        ("landing/sales/orders/dt=1/dt=2/file.csv", "appears twice"),
        ("landing/%%%/orders/file.csv", "no usable database name"),
    ],
)
def test_keys_that_do_not_fit_are_rejected(key: str, message: str) -> None:
    with pytest.raises(Rejection) as err:
        default_route(key)
    assert err.value.code == "reject.route" and message in err.value.message


def test_suffix_keeps_extensions() -> None:
    assert with_suffix("lake/a/b/orders.csv.gz", "0123456789abcdef") == "lake/a/b/orders-0123456789ab.csv.gz"


folder = st.text(
    alphabet=st.characters(blacklist_characters="/=\\\x00", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=10,
)
value = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=["Cs"]), max_size=10
)


@given(
    folder, folder, st.lists(st.tuples(folder, value), max_size=3, unique_by=lambda kv: kv[0].lower()), folder
)
def test_routes_are_legal_and_keep_values(
    db: str, table: str, parts: list[tuple[str, str]], name: str
) -> None:
    key = "/".join(["landing", db, table, *(f"{k}={v}" for k, v in parts), name])
    try:
        route = default_route(key)
    except Rejection as err:
        assert err.code == "reject.route"
        return
    ident = re.compile(r"[a-z_][a-z0-9_]*")
    assert ident.fullmatch(route.database) and ident.fullmatch(route.table)
    assert all(ident.fullmatch(k) for k in route.partition)
    assert list(route.partition.values()) == [unescape_value(v) for _, v in parts]
    assert route.target_key.endswith("/" + lake_file_name(name))
    assert route.target_key.startswith(f"lake/{route.database}/{route.table}/")


any_value = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12)


@given(any_value)
def test_partition_values_round_trip_through_their_folder_name(v: str) -> None:
    folder = escape_value(v)
    assert unescape_value(folder) == v
    assert not set(folder) & set('/=*?[]{}"\\') and all(ord(c) >= 0x20 and c != "\x7f" for c in folder)


@settings(max_examples=40, deadline=None)
@given(any_value)
@example("a=b/c")
@example("50% off")
@example(" ")
@example("NULL")
@example("null")
@example("__HIVE_DEFAULT_PARTITION__")
@example("é+ü")
def test_the_engine_reads_back_exactly_the_value_a_folder_was_written_with(tmp_path_factory, v: str) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    root = tmp_path_factory.mktemp("hive")
    route = default_route(f"landing/d/t/k={escape_value(v)}/f.csv")
    assert route.partition == {"k": v}
    path = root / route.target_key
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x\n1\n")
    reader = f"read_csv([{sql_literal(str(path))}], hive_partitioning=true, hive_types_autocast=false)"
    found = duckdb.sql(f"SELECT k FROM {reader}").fetchall()
    assert found == [(v,)]


def test_glob_characters_in_file_names_cannot_make_a_table_read_other_files() -> None:
    assert default_route("landing/d/t/report*.csv").target_key == "lake/d/t/report_.csv"
    assert default_route("landing/d/t/a[1]{x}?.csv").target_key == "lake/d/t/a_1__x__.csv"


def test_a_bad_escape_in_a_partition_folder_is_explained() -> None:
    with pytest.raises(Rejection, match="not UTF-8"):
        default_route("landing/d/t/k=%FF/f.csv")
    assert default_route("landing/d/t/k=50%/f.csv").partition == {"k": "50%"}  # not an escape: kept
