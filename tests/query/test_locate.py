"""The console marks an error where the user wrote the thing it names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lakegate.query.locate import locate


def test_a_syntax_error_keeps_its_line_and_column() -> None:
    sql = "SELECT 1\nFORM t"
    assert locate(sql, "syntax error at line 2, column 5: Invalid expression") == {
        "line": 2, "column": 5, "length": 0,
    }  # fmt: skip


def test_an_engine_error_is_placed_at_the_name_it_quotes() -> None:
    sql = "SELECT id,\n       nme\nFROM acme.orders"
    said = 'Binder Error: Referenced column "nme" not found in FROM clause!\nCandidate bindings: "name"'
    assert locate(sql, said) == {"line": 2, "column": 8, "length": 3}
    assert locate("SELECT * FROM acme.nope", "unknown table acme.nope") == {
        "line": 1,
        "column": 15,
        "length": 9,
    }
    assert locate("select 1 form x", 'syntax error: Parser Error: syntax error at or near "x"') == {
        "line": 1, "column": 15, "length": 1,
    }  # fmt: skip


def test_names_are_found_whole_and_nothing_is_invented() -> None:
    assert locate("SELECT idx, id FROM t", 'column "id" is ambiguous') == {
        "line": 1,
        "column": 13,
        "length": 2,
    }
    assert locate("SELECT 1", 'column "zzz" not found') is None
    assert locate("SELECT 1", "line 9, column 1: beyond the statement") is None
    assert locate("SELECT 1", None) is None


_name = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
_filler = st.text(alphabet=" \n,()+*0123456789", max_size=20)


@given(before=st.lists(st.tuples(_filler, _name), max_size=4), name=_name, after=_filler)
def test_the_position_found_points_at_the_first_whole_occurrence(
    before: list[tuple[str, str]], name: str, after: str
) -> None:
    sql = "".join(f + n for f, n in before if n.lower() != name.lower()) + " " + name + " " + after
    place = locate(sql, f'Referenced column "{name}" not found')
    assert place is not None
    lines = sql.split("\n")
    line = lines[place["line"] - 1]
    start = place["column"] - 1
    assert line[start : start + place["length"]].lower() == name.lower()
