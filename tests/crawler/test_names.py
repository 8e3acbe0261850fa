from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from lakegate.names import column_names, identifier


def test_documented_examples() -> None:
    assert identifier("Sales Data") == "sales_data"
    assert identifier("Région-2") == "region_2"
    assert identifier("2024") == "_2024"
    assert column_names(["Amount", "amount", "", "AMOUNT"]) == ["amount", "amount_2", "col3", "amount_3"]


@given(st.lists(st.text(max_size=12), max_size=12))
def test_names_are_legal_unique_identifiers(originals: list[str]) -> None:
    names = column_names(originals)
    assert len(names) == len(originals)
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
