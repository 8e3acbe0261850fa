"""DuckDB's strftime formats as Spark datetime patterns: every directive with an equal maps,
letters are quoted, anything else leaves the file to its Parquet copy (property tests)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from lakegate.query.engines.spark_views import _DIRECTIVES, spark_pattern

SEPARATORS = st.sampled_from(["-", "/", ":", " ", ".", "T", "at", ","])
DIRECTIVES = st.sampled_from(sorted(k for k in _DIRECTIVES if k != "%%"))


def _unquoted(pattern: str) -> str:
    return re.sub(r"'[^']*'", "", pattern)


@given(st.lists(st.tuples(DIRECTIVES, SEPARATORS), min_size=1, max_size=6))
def test_formats_of_known_directives_map_and_quote_their_letters(parts: list[tuple[str, str]]) -> None:
    fmt = "".join(d + s for d, s in parts)
    pattern = spark_pattern(fmt)
    assert pattern is not None
    letters = set(_unquoted(pattern)) & set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert letters <= set("yMdHhmsSaEDX")  # only pattern letters are left unquoted
    for literal in (s for _, s in parts if s.isalpha()):
        assert f"'{literal}'" in pattern


@given(st.text(max_size=30))
def test_any_format_maps_or_is_refused_without_failing(fmt: str) -> None:
    pattern = spark_pattern(fmt)
    unknown = [d for d in re.findall(r"%-?.", fmt, flags=re.DOTALL) if d not in _DIRECTIVES]
    dangling = re.sub(r"%-?.", "", fmt, flags=re.DOTALL).count("%") > 0
    assert (pattern is None) == bool(unknown or dangling)


def test_common_formats() -> None:
    assert spark_pattern("%Y-%m-%d") == "yyyy-MM-dd"
    assert spark_pattern("%d/%m/%Y %H:%M:%S") == "dd/MM/yyyy HH:mm:ss"
    assert spark_pattern("%Y-%m-%dT%H:%M:%S.%f") == "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"
    assert spark_pattern("%e.%m.%Y") is None  # %e (day, space-padded) has no equal
    assert spark_pattern("%Y%") is None
