"""CSV that real people produce: rows that do not fit, preambles, stacked headers, other
delimiters, files without a header — decided by evidence, reported, never shifted."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakegate import duck
from lakegate.app import App
from lakegate.crawler.dialect import guess
from lakegate.duck.readers import plan_select
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from tests.crawler.test_detect_infer import plan_of, write
from tests.ingest.test_pipeline import rows

ORDERS = "".join(f"{i},item {i},{i * 1.5}\n" for i in range(1, 21))


def read_back(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    plan = plan_of(path)
    return [c.original for c in plan.columns], duck.connect().execute(plan_select(str(path), plan)).fetchall()


def test_a_row_with_a_missing_or_extra_separator_is_skipped_and_reported_never_shifted(
    tmp_path: Path,
) -> None:
    lines = ["id,name,amount", *ORDERS.splitlines()]
    lines[5] = "5,item 5"  # a separator short
    lines[9] = "9,item, 9,13.5"  # one too many
    path = write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode())
    plan = plan_of(path)
    assert [c.type for c in plan.columns] == ["BIGINT", "VARCHAR", "DOUBLE"]
    assert plan.rows == 18 and plan.skipped_lines == [6, 10]
    assert plan.warnings == ["2 rows skipped for not having the table's 3 fields (lines 6, 10)"]
    _names, values = read_back(path)
    assert [r[0] for r in values] == [i for i in range(1, 21) if i not in (5, 9)]
    assert all(r[1] == f"item {r[0]}" for r in values)  # nothing moved into the wrong column


def test_too_many_rows_that_do_not_fit_is_not_a_dialect(tmp_path: Path) -> None:
    text = "a,b,c\n" + "".join("1,2,3\n" if i % 2 else "1,2\n" for i in range(20))
    plan = plan_of(write(tmp_path, "a.csv", text.encode()))
    assert plan.skipped_lines == [] or len(plan.skipped_lines) <= 2


def test_preamble_lines_before_the_table(tmp_path: Path) -> None:
    text = "Sales report,,\nexported 2026-11-27,,\n,,\nid,name,amount\n" + ORDERS
    names, values = read_back(write(tmp_path, "a.csv", text.encode()))
    assert names == ["id", "name", "amount"] and len(values) == 20 and values[0] == (1, "item 1", 1.5)


def test_a_header_of_several_rows_is_joined(tmp_path: Path) -> None:
    text = "order,order,order\nid,name,amount\n" + ORDERS
    names, values = read_back(write(tmp_path, "a.csv", text.encode()))
    assert names == ["order id", "order name", "order amount"] and len(values) == 20


def test_all_text_without_a_header_is_recognised_by_evidence(tmp_path: Path) -> None:
    body = "".join(f"name {i},city {i % 3},note {i}\n" for i in range(30))
    names, values = read_back(write(tmp_path, "a.csv", body.encode()))
    assert names == ["col1", "col2", "col3"] and len(values) == 30
    headed = "name,city,note\n" + body
    names, values = read_back(write(tmp_path, "b.csv", headed.encode()))
    assert names == ["name", "city", "note"] and len(values) == 30


def test_text_in_a_number_column_widens_it_instead_of_losing_the_row(tmp_path: Path) -> None:
    lines = ["id,name,amount", *ORDERS.splitlines()]
    lines[1] = "1,item 1,twelve"
    lines[7] = "7,item 7"  # and a ragged row, so the evidence-based reader is the one used
    plan = plan_of(write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode()))
    assert [c.type for c in plan.columns] == ["BIGINT", "VARCHAR", "VARCHAR"] and plan.rows == 19


def test_semicolons_tabs_and_pipes(tmp_path: Path) -> None:
    for delimiter in (";", "\t", "|"):
        text = f"id{delimiter}name{delimiter}amount\n" + ORDERS.replace(",", delimiter)
        names, values = read_back(write(tmp_path, "a.csv", text.encode()))
        assert names == ["id", "name", "amount"] and values[1] == (2, "item 2", 3.0), delimiter


def test_skipped_rows_reach_the_outcome_and_queries_leave_them_out(app: object) -> None:
    from lakegate.app import App

    assert isinstance(app, App)
    outcomes: list[Outcome] = []
    text = "id,name\n1,a\n2,b,extra\n3,c\n4,d\n5,e\n"
    app.store.write("landing/s/t/a.csv", text.encode())
    Pipeline(app.catalog, app.store, on_outcome=outcomes.append).process("landing/s/t/a.csv")
    [outcome] = outcomes
    assert outcome.kind == "accepted" and outcome.rows == 4
    assert outcome.warnings == ["1 row skipped for not having the table's 2 fields (line 3)"]
    assert rows(app, "SELECT id FROM s.t ORDER BY id") == [(1,), (3,), (4,), (5,)]


def _tables(delimiter: str) -> st.SearchStrategy[list[list[str]]]:
    """Tables whose text holds their own delimiter and quotes (so the writer quotes), but not the
    other candidates: with those in every row, a file is ambiguous to any reader."""
    field = st.one_of(
        st.integers(-(10**6), 10**6).map(str),
        st.text(st.sampled_from(f"ab1 \"'{delimiter}"), min_size=1, max_size=6),
    )
    width = st.integers(2, 6)
    return width.flatmap(lambda n: st.lists(st.lists(field, min_size=n, max_size=n), min_size=3, max_size=12))


@given(st.sampled_from([",", ";", "\t", "|"]).flatmap(lambda d: st.tuples(st.just(d), _tables(d))))
def test_the_guess_finds_the_dialect_a_csv_writer_used(case: tuple[str, list[list[str]]]) -> None:
    delimiter, table = case
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows(table)
    dialect = guess(out.getvalue(), complete=True)
    assert dialect is not None
    assert (dialect.delimiter, dialect.columns, dialect.consistency) == (delimiter, len(table[0]), 1.0)


def test_a_quote_that_never_closes_is_refused_with_its_line_not_read_as_one_column(tmp_path: Path) -> None:
    import pytest

    from lakegate.errors import Rejection

    lines = ["id,name,amount", *(f'{i},"item {i}",{i}.5' for i in range(1, 41))]
    lines[12] = '12,"item, 12,12.5'  # the quote opens and never closes
    with pytest.raises(Rejection) as err:
        plan_of(write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode()))
    assert err.value.code == "reject.unparseable"
    assert "a quote opens on line 13 and never closes" in str(err.value)


def test_a_stray_quote_inside_a_field_is_read_leniently_and_said(tmp_path: Path) -> None:
    lines = ["id,name,amount", *(f'{i},"item {i}",{i}.5' for i in range(1, 41))]
    lines[12] = '12,item "12" big,12.5'  # quotes inside a field that is not quoted
    path = write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode())
    plan = plan_of(path)
    assert plan.rows == 40, plan.warnings
    assert any("quote" in w for w in plan.warnings) or plan.options.get("strict_mode", True)
    _names, values = read_back(path)
    assert [r[0] for r in values] == list(range(1, 41)) and values[11][2] == 12.5


def test_null_tokens_give_a_column_its_type_unless_a_text_column_uses_them(tmp_path: Path) -> None:
    def row(i: int) -> str:
        amount = "NA" if i == 3 else "-" if i == 5 else str(i * 1.5)
        when = "N/A" if i == 4 else f"2026-11-{i:02d}"
        return f"{i},{amount},{when},n{i}\n"

    text = "id,amount,when,name\n" + "".join(row(i) for i in range(1, 21))
    path = write(tmp_path, "a.csv", text.encode())
    plan = plan_of(path)
    assert [c.type for c in plan.columns] == ["BIGINT", "DOUBLE", "DATE", "VARCHAR"]
    assert plan.warnings == ["NA, N/A, - read as empty values (in amount, when)"]
    _names, values = read_back(path)
    assert values[2][1] is None and values[4][1] is None and values[3][2] is None and values[0][1] == 1.5
    # A country code NA is a value: that column keeps its tokens, the others still get their types.
    coded = text.replace(",n1\n", ",NA\n")
    path = write(tmp_path, "b.csv", coded.encode())
    plan = plan_of(path)
    assert [c.type for c in plan.columns] == ["BIGINT", "DOUBLE", "DATE", "VARCHAR"]
    assert "nullstr" not in plan.options and sorted(plan.options["column_nulls"]) == ["amount", "when"]
    _names, values = read_back(path)
    assert values[0][3] == "NA" and values[2][1] is None and values[3][2] is None and values[1][1] == 3.0
    assert plan.stats["amount"]["nulls"] == 2 and plan.stats["name"]["nulls"] == 0


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('a,b\n1,"x\n2,y\n3,z\n', 2),
        ('a,b\n1,"multi\nline"\n2,"also ""quoted"""\n3,"open\n', 5),
        ('a,b\n1,"closed"\n', None),
    ],
)
def test_the_line_of_a_quote_that_never_closes(tmp_path: Path, text: str, line: int | None) -> None:
    from lakegate.crawler.csv_files import unclosed_quote_line

    path = tmp_path / "q.csv"
    path.write_text(text)
    assert unclosed_quote_line(str(path), {"quote": '"', "escape": '"'}) == line


@pytest.mark.parametrize(
    ("tail", "left_out"),
    [
        ("\nSource: ACME Corp.\nTotal,,9.5\n", 2),  # after a blank line, even a row-shaped total
        ("Generated by the export tool\n", 1),  # a line without the table's fields
        ("\n\n", 0),  # blank lines at the end are nothing
        ("4,d,5\n", 0),  # a last row is a row
    ],
)
def test_footnotes_are_left_out_and_quoted(tmp_path: Path, tail: str, left_out: int) -> None:
    from tests.crawler.test_detect_infer import plan_of

    path = tmp_path / "f.csv"
    path.write_text("id,name,amount\n1,a,2.5\n2,b,3\n3,c,4\n" + tail)
    plan = plan_of(path)
    assert [c.type for c in plan.columns] == ["BIGINT", "VARCHAR", "DOUBLE"]  # no total spoils a type
    assert plan.rows == 3 + (tail == "4,d,5\n")
    said = [w for w in plan.warnings if "footnotes" in w]
    assert len(said) == (1 if left_out else 0)
    if left_out:
        assert f"the last {left_out} lines" in said[0] or (left_out == 1 and "the last line" in said[0])


def test_a_delivery_with_footnotes_is_queried_without_them(app: App) -> None:
    from tests.ingest.test_pipeline import deliver, rows

    outcome = deliver(app, "landing/s/t/f.csv", b"id,amount\n1,2.5\n2,3\n\nTotal,5.5\n")
    assert outcome.kind == "accepted" and any("footnotes" in w for w in outcome.warnings)
    assert rows(app, "SELECT id, amount FROM s.t ORDER BY id") == [(1, 2.5), (2, 3.0)]
    assert app.store.read(outcome.target_key).endswith(b"Total,5.5\n")  # the delivered file, untouched


def test_per_column_null_tokens_reach_queries(app: App) -> None:
    from tests.ingest.test_pipeline import deliver, rows

    text = "country,amount\nNA,1.5\nFR,-\nDE,2\n"
    outcome = deliver(app, "landing/s/c/a.csv", text.encode())
    assert outcome.kind == "accepted"
    assert rows(app, "SELECT country, amount FROM s.c ORDER BY country") == [
        ("DE", 2.0),
        ("FR", None),
        ("NA", 1.5),
    ]


@given(
    st.sampled_from(['"', "'"]),
    st.lists(
        st.lists(st.text(st.sampled_from("ab1 ,.-"), min_size=1, max_size=6), min_size=3, max_size=3),
        min_size=2, max_size=10,
    ),
)  # fmt: skip
def test_the_guess_finds_single_quotes_that_wrap_every_value(quote: str, table: list[list[str]]) -> None:
    """``1,'di4-iN.wav','di'``: the values are quoted with single quotes, not text with quotes."""
    out = io.StringIO()
    csv.writer(out, quotechar=quote, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(table)
    dialect = guess(out.getvalue(), complete=True)
    assert dialect is not None and dialect.quote == quote
    assert not any(quote in field for row in dialect.rows for field in row)  # no quote left in a value


def test_single_quoted_values_are_read_without_their_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", b"id,n,file,label\n1,1,'di4-iN.wav','di'\n2,3,'x, y.wav','it'\n")
    assert read_back(path)[1] == [(1, 1, "di4-iN.wav", "di"), (2, 3, "x, y.wav", "it")]


def test_apostrophes_in_double_quoted_values_stay(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", b'id,text\n1,"Men\'s boots, red"\n2,"it\'s, fine"\n')
    assert read_back(path)[1] == [(1, "Men's boots, red"), (2, "it's, fine")]


# -- quotes a strict reader cannot split: the forgiving parser and the repaired copy ------------


@given(
    st.sampled_from([",", ";", "\t", "|"]).flatmap(lambda d: st.tuples(st.just(d), _tables(d))),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_the_forgiving_parser_reads_well_formed_csv_as_a_strict_one(
    case: tuple[str, list[list[str]]], quoting: int
) -> None:
    from lakegate.crawler import forgiving

    delimiter, table = case
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n").writerows(table)
    lines = io.StringIO(out.getvalue(), newline="")
    assert list(forgiving.records(lines, delimiter, '"', '"')) == table


def _delivered(app: App, key: str, text: str) -> Outcome:
    outcomes: list[Outcome] = []
    app.store.write(key, text.encode())
    Pipeline(app.catalog, app.store, on_outcome=outcomes.append).process(key)
    return outcomes[0]


def test_single_quoted_values_with_apostrophes_inside_read_as_a_person_reads_them(app: App) -> None:
    """Survey dumps quote with apostrophes and leave the apostrophes of the text unescaped."""
    lines = ["id,product,'description',price"]
    lines += [f"{i},Men's boots {i},'Keeps feet dry, warm. Won't let you down.',{i}.5" for i in range(1, 30)]
    outcome = _delivered(app, "landing/s/survey/a.csv", "\n".join(lines) + "\n")
    assert outcome.kind == "accepted" and outcome.rows == 29, outcome
    got = rows(app, "SELECT id, product, description, price FROM s.survey WHERE id = 2")
    assert got == [(2, "Men's boots 2", "Keeps feet dry, warm. Won't let you down.", 2.5)]
    [f] = app.catalog.table("s", "survey").files
    assert f.derived_key  # queries read the repaired records
    assert any("forgiving" in d for d in (outcome.warnings or [])), outcome.warnings


def test_a_stray_quote_before_a_quoted_value_costs_nothing_but_that_quote(app: App) -> None:
    """A product export where one URL got a second opening quote (the strict read refuses it)."""
    lines = ["id,name,url,note"]
    lines += [f'{i},"item {i}","https://example.com/{i}.html",' for i in range(1, 40)]
    lines[12] = '12,"item 12",""https://example.com/12.html",'
    outcome = _delivered(app, "landing/s/links/a.csv", "\n".join(lines) + "\n")
    assert outcome.kind == "accepted" and outcome.rows == 39, outcome
    assert rows(app, "SELECT url FROM s.links WHERE id IN (11, 12) ORDER BY id") == [
        ("https://example.com/11.html",), ('"https://example.com/12.html',),
    ]  # fmt: skip


def test_a_quote_that_never_closes_costs_its_row_reported_by_line_not_the_rows_after_it(app: App) -> None:
    lines = ["id,name,amount", *(f'{i},"item {i}",{i}.5' for i in range(1, 41))]
    lines[12] = '12,"item, 12,12.5'  # the quote opens and never closes
    outcome = _delivered(app, "landing/s/broken/a.csv", "\n".join(lines) + "\n")
    assert outcome.kind == "accepted" and outcome.rows == 39, outcome
    assert any("line 13" in w and "skipped" in w for w in outcome.warnings or []), outcome.warnings
    assert rows(app, "SELECT count(*), min(id), max(id) FROM s.broken WHERE id <> 12") == [(39, 1, 40)]


# -- several tables in one file: refused with its blocks, never read as one -------------------


def _export(columns: list[str], rows: int, start: int = 1) -> list[str]:
    out = [",".join(columns)]
    for i in range(start, start + rows):
        out.append(",".join([f"2026-01-{i % 28 + 1:02d}", str(i), *(f"v{i}_{c}" for c in columns[2:])]))
    return out


@pytest.mark.parametrize("second", [["day", "n", "x"], ["day", "n", "x", "y", "z"], ["day", "n", "x", "y"]])
def test_a_file_of_tables_one_after_another_is_refused_with_each_block(app: App, second: list[str]) -> None:
    """Lab exports append one table after another (here 4 columns, then fewer, more, or the same
    header again): reading them as one table would drop or garble rows, so the file is refused
    and the reason lists every block — the user splits it and delivers each."""
    lines = _export(["day", "n", "x", "y"], 20) + _export(second, 15)
    outcome = _delivered(app, "landing/s/lab/a.csv", "\n".join(lines) + "\n")
    assert outcome.kind == "quarantined" and outcome.reason_code == "reject.multiple_tables", outcome
    assert "from line 1: 4 columns (day, n, x, y); from line 22: " in outcome.reason, outcome.reason
    assert f"{len(second)} columns" in outcome.reason
    assert app.catalog.table("s", "lab") is None


def test_a_header_that_comes_again_past_the_sample_is_another_table(tmp_path: Path) -> None:
    from lakegate.crawler.csv_files import SAMPLE_BYTES
    from lakegate.errors import Rejection

    rows = SAMPLE_BYTES // 10  # past the sample the guess reads
    lines = _export(["day", "n", "x"], rows) + _export(["day", "n", "x"], 5)
    path = write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode())
    with pytest.raises(Rejection) as err:
        plan_of(path)
    assert err.value.code == "reject.multiple_tables"
    assert err.value.details["blocks"][1]["line"] == rows + 2


def test_a_header_word_in_the_data_is_no_second_table(tmp_path: Path) -> None:
    lines = ["name,kind,n", *(f"item {i},kind {i % 3},{i}" for i in range(30))]
    lines[10] = "name,kind,7"  # a value that is also a header name: data all the same
    names, values = read_back(write(tmp_path, "a.csv", ("\n".join(lines) + "\n").encode()))
    assert names == ["name", "kind", "n"] and len(values) == 30


def test_each_blocks_first_line_counts_the_title_and_blank_lines_before_it(tmp_path: Path) -> None:
    from lakegate.errors import Rejection

    text = "Lab export\n\n" + "\n".join(
        [*_export(["day", "n", "x", "y"], 20), "", *_export(["day", "n", "x"], 15)]
    )
    with pytest.raises(Rejection) as err:
        plan_of(write(tmp_path, "a.csv", (text + "\n").encode()))
    assert [b["line"] for b in err.value.details["blocks"]] == [3, 25]
