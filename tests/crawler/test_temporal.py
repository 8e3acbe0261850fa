"""Dates, timestamps and decimal commas are typed only when the sample's evidence is unambiguous."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.duck.readers import plan_select
from tests.crawler.test_detect_infer import plan_of, write


def values(path: Path, column: str) -> list[object]:
    plan = plan_of(path)
    return [
        r[0]
        for r in duckdb.connect().execute(f"SELECT {column} FROM ({plan_select(str(path), plan)})").fetchall()
    ]


def types(path: Path) -> dict[str, str]:
    return {c.name: c.type for c in plan_of(path).columns}


def test_day_first_dates_are_read_as_days(tmp_path: Path) -> None:
    path = write(tmp_path, "eu.csv", b"id;day\n1;13/02/2026\n2;01/03/2026\n")
    assert types(path)["day"] == "DATE"
    assert values(path, "day") == [dt.date(2026, 2, 13), dt.date(2026, 3, 1)]


def test_month_first_dates_are_read_as_months(tmp_path: Path) -> None:
    path = write(tmp_path, "us.csv", b"id,day\n1,02/13/2026\n2,03/01/2026\n")
    assert values(path, "day") == [dt.date(2026, 2, 13), dt.date(2026, 3, 1)]


def test_ambiguous_dates_stay_text_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "amb.csv", b"id,day\n1,02/03/2026\n2,04/05/2026\n")
    plan = plan_of(path)
    assert types(path)["day"] == "VARCHAR"
    assert any("day-first or month-first" in w for w in plan.warnings)
    assert values(path, "day") == ["02/03/2026", "04/05/2026"]


def test_zoned_iso_timestamps_keep_their_time_and_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "iso.csv", b"id,at\n1,2026-01-02T10:11:12Z\n2,2026-01-03 10:11:12+02:00\n")
    assert types(path)["at"] == "TIMESTAMP WITH TIME ZONE"
    found = values(path, 'CAST("at" AS VARCHAR)')
    assert found == ["2026-01-02 10:11:12+00", "2026-01-03 08:11:12+00"]


def test_european_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b"id,at\n1,13/02/2026 10:11\n2,01/03/2026 23:59\n")
    assert values(path, '"at"') == [dt.datetime(2026, 2, 13, 10, 11), dt.datetime(2026, 3, 1, 23, 59)]


def test_two_date_formats_in_one_file_keep_the_second_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "two.csv", b"a,b\n2026-01-02,13/02/2026\n2026-01-03,14/02/2026\n")
    plan = plan_of(path)
    assert types(path) == {"a": "DATE", "b": "VARCHAR"}
    assert any("differs from another column" in w for w in plan.warnings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"id;amount\n1;1,5\n2;-2,25\n3;4\n", [1.5, -2.25, 4.0]),  # decimal commas
        (b"id;amount;rate\n1;1,5;0.5\n", ["1,5"]),  # a decimal point elsewhere: commas stay text
        (b'id,amount\n1,"1,5"\n', ["1,5"]),  # the delimiter is a comma: no decimal commas
    ],
)
def test_decimal_commas_when_the_file_allows_them(
    tmp_path: Path, data: bytes, expected: list[object]
) -> None:
    assert values(write(tmp_path, "d.csv", data), "amount") == expected


@pytest.mark.parametrize(("true", "false"), [("true", "false"), ("TRUE", "FALSE"), ("True", "false")])
def test_booleans(tmp_path: Path, true: str, false: str) -> None:
    path = write(tmp_path, "b.csv", f"id,ok\n1,{true}\n2,{false}\n3,{true}\n".encode())
    assert values(path, "ok") == [True, False, True]


@pytest.mark.parametrize(("true", "false"), [("yes", "no"), ("t", "f"), ("Y", "N"), ("T", "F")])
def test_letters_and_words_other_than_true_and_false_stay_text(tmp_path: Path, true: str, false: str) -> None:
    path = write(tmp_path, "b.csv", f"id,ok\n1,{true}\n2,{false}\n3,{true}\n".encode())
    assert values(path, "ok") == [true, false, true]


def test_zeros_and_ones_are_numbers(tmp_path: Path) -> None:
    assert values(write(tmp_path, "b.csv", b"id,ok\n1,1\n2,0\n"), "ok") == [1, 0]


@settings(max_examples=25)
@given(st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=20), st.booleans())
def test_numeric_dates_are_typed_only_when_the_day_is_certain(days: list[dt.date], day_first: bool) -> None:
    import tempfile

    fmt = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    body = "".join(f"{i},{d.strftime(fmt)}\n" for i, d in enumerate(days))
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "d.csv", f"id,day\n{body}".encode())
        found = values(path, "day")
    certain = any(d.day > 12 for d in days if d.day != d.month)
    if certain:
        assert found == days  # never a day read as a month
    else:
        assert found == [d.strftime(fmt) for d in days]
