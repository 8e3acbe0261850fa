"""Which table and partition a file of an existing store belongs to, from its folders alone."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from lakegate.ingest.crawl_layout import discover, place


def test_tables_end_at_the_first_partition_like_folder() -> None:
    assert place("sales/orders/dt=2026-01-01/a.csv", None, "root").table == "sales_orders"
    assert place("sales/orders/2026/11/a.csv", None, "root").partition == (
        ("partition_0", "2026"),
        ("partition_1", "11"),
    )
    hive = place("web/Year=2026/Region=EU/a.json", None, "root")
    assert (hive.table, hive.partition) == ("web", (("year", "2026"), ("region", "EU")))
    assert place("a.csv", None, "My Data").table == "my_data"  # files at the top: the prefix's name


def test_a_repeated_partition_key_gets_a_name_of_its_own() -> None:
    assert place("t/x=1/x=2/a.csv", None, "root").partition == (("x", "1"), ("x_1", "2"))


def test_level_names_the_table_folders() -> None:
    placed = place("acme/orders/eu/a.csv", 1, "root")
    assert (placed.table, placed.partition) == ("acme", (("partition_0", "orders"), ("partition_1", "eu")))
    assert place("acme/a.csv", 3, "root").table == "acme"  # shallower than the level


def test_what_is_not_data_is_left_out_with_a_reason() -> None:
    layout = discover(
        [
            ("t/_SUCCESS", 0),
            ("t/.part.crc", 10),
            ("t/_temporary/0/x.csv", 10),
            ("t/empty.csv", 0),
            ("t/a.csv", 10),
        ]
    )
    assert [f.key for f in layout.tables["t"]] == ["t/a.csv"]
    assert {k for k, _ in layout.skipped} == {
        "t/_SUCCESS",
        "t/.part.crc",
        "t/_temporary/0/x.csv",
        "t/empty.csv",
    }


def test_files_off_the_table_layout_are_left_out_not_misread() -> None:
    layout = discover([("t/dt=1/a.csv", 5), ("t/dt=2/b.csv", 5), ("t/dt=3/eu/c.csv", 5)])
    assert [f.key for f in layout.tables["t"]] == ["t/dt=1/a.csv", "t/dt=2/b.csv"]
    [(key, why)] = layout.skipped
    assert key == "t/dt=3/eu/c.csv" and "partition folders differ" in why


_SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=8)


@given(
    st.lists(st.lists(_SEGMENT, min_size=1, max_size=5), min_size=1, max_size=20),
    st.none() | st.integers(0, 4),
)
def test_every_data_file_is_placed_once_with_legal_names(paths: list[list[str]], level: int | None) -> None:
    keys = sorted({"/".join(p) for p in paths})
    layout = discover([(k, 1) for k in keys], level=level)
    placed = [f.key for files in layout.tables.values() for f in files]
    skipped = [k for k, _ in layout.skipped]
    assert sorted(placed + skipped) == keys  # nothing lost, nothing twice
    for table, files in layout.tables.items():
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", table), table
        shapes = {tuple(k for k, _ in f.partition) for f in files}
        assert len(shapes) <= 1  # one partition layout per table
        for f in files:
            assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", k) for k, _ in f.partition)
            assert len(dict(f.partition)) == len(f.partition)  # unique keys
            # the partition values, in order, are the folders below the table's
            folders = f.key.split("/")[:-1]
            below = folders[len(f.table_path.split("/")) if f.table_path else 0 :]
            assert [v for _, v in f.partition] == [b.partition("=")[2] if "=" in b else b for b in below]


@given(st.lists(st.lists(_SEGMENT, min_size=2, max_size=5), min_size=1, max_size=20))
def test_merging_siblings_keeps_every_file_once_with_unique_partition_keys(paths: list[list[str]]) -> None:
    from lakegate.ingest.crawl_layout import merge, siblings

    keys = sorted({"/".join(p) for p in paths})
    layout = discover([(k, 1) for k in keys])
    before = sorted(f.key for files in layout.tables.values() for f in files)
    for parent, tables in siblings(layout).items():
        if all(t in layout.tables for t in tables):
            merge(layout, tables, parent)
    after = sorted(f.key for files in layout.tables.values() for f in files)
    assert after == before
    for files in layout.tables.values():
        for f in files:
            assert len(dict(f.partition)) == len(f.partition)
