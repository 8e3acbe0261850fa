from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakegate.errors import Rejection
from lakegate.ingest.routing import default_route, with_suffix


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
    assert list(route.partition.values()) == [v for _, v in parts]
    assert route.target_key.endswith("/" + name)
    assert route.target_key.startswith(f"lake/{route.database}/{route.table}/")
