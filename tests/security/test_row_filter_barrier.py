"""A row filter is a barrier: a query's expressions never see a value of a row the grant hides,
whatever order the engine evaluates predicates in (SECURITY.md, "Row filters")."""

from __future__ import annotations

import duckdb
import pytest

from lakegate.query.permissions import Access, restrict

TABLE = (
    "SELECT * FROM (VALUES (1, 'EU', 10.5, 'eu note'), (2, 'US', 91357.13, 'US-ONLY')) "
    "v(id, region, amount, note)"
)
NAMES = ["id", "region", "amount", "note"]
EU = Access(dict.fromkeys(NAMES), "region = 'EU'")

# Probes that fail — or answer differently — when they are evaluated on the hidden US row.
PROBES = [
    "CAST(CASE WHEN amount > 50000 THEN 'x' ELSE '1' END AS INTEGER) = 1",
    "CASE WHEN region = 'US' THEN error('the hidden row exists') ELSE true END",
    "regexp_matches('a', CASE WHEN note = 'US-ONLY' THEN '(' ELSE 'a' END)",
    "CAST(note AS INTEGER) IS NULL OR true",
    "1 / (CASE WHEN amount > 90000 THEN 0 ELSE 1 END) IS NOT NULL",
]


def test_the_masked_columns_alone_keep_every_probe_from_a_hidden_row() -> None:
    """As if the optimizer evaluated the probe before the filter: on the masked projection
    without its WHERE, a hidden row offers only NULLs, so no probe can fail on it."""
    view = restrict(TABLE, EU, NAMES)
    unfiltered = view.rsplit(" WHERE ", 1)[0]
    con = duckdb.connect()
    for probe in PROBES:
        seen = con.execute(f"SELECT id, region FROM ({unfiltered}) WHERE {probe}").fetchall()
        assert (2, "US") not in seen, probe


@pytest.mark.parametrize("probe", PROBES)
def test_probes_aimed_at_hidden_rows_answer_as_if_they_did_not_exist(probe: str) -> None:
    con = duckdb.connect()
    granted = con.execute(f"SELECT id FROM ({restrict(TABLE, EU, NAMES)}) WHERE {probe}").fetchall()
    only_eu = con.execute(f"SELECT id FROM ({TABLE}) WHERE region = 'EU'").fetchall()
    assert granted == only_eu or granted == []


def test_without_the_mask_a_reordered_probe_would_fail() -> None:
    """What the mask prevents: the same probe on the raw rows reaches the hidden one."""
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT id FROM ({TABLE}) WHERE {PROBES[1]}").fetchall()


def test_cell_filters_and_row_filters_mask_together() -> None:
    access = Access({"id": None, "region": None, "amount": "region = 'EU' AND amount < 100"}, "region = 'EU'")
    view = restrict(TABLE, access, NAMES)
    rows = duckdb.connect().execute(f"SELECT * FROM ({view}) ORDER BY id").fetchall()
    assert rows == [(1, "EU", 10.5)]
