"""Format detection and schema inference on small focused files."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from lakegate import duck
from lakegate.crawler.detect import detect
from lakegate.crawler.infer import infer
from lakegate.crawler.normalize import readable
from lakegate.duck.readers import FilePlan
from lakegate.errors import Rejection


def plan_of(path: Path) -> FilePlan:
    """The plan of a file, read as ingestion reads it (through a readable copy when it needs one)."""
    data = path.read_bytes()
    detected = detect(data[:65536], data[-16:], len(data))
    with readable(str(path), detected) as ready:
        plan = infer(duck.connect(), ready.path, ready.detected, len(data))
        plan.warnings[:0] = ready.notes
        return plan


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_with_quoted_delimiters_and_newlines(tmp_path: Path) -> None:
    plan = plan_of(
        write(
            tmp_path, "a.csv", b'ID,Note text,When\n1,"a, b",2026-01-02\n2,"line\nbreak ""q""",2026-01-03\n'
        )
    )
    assert plan.format == "csv" and plan.rows == 2
    assert [(c.name, c.original, c.type) for c in plan.columns] == [
        ("id", "ID", "BIGINT"),
        ("note_text", "Note text", "VARCHAR"),
        ("when", "When", "DATE"),
    ]
    assert plan.options["delim"] == "," and plan.options["header"] is True


def test_all_text_csv_keeps_its_header(tmp_path: Path) -> None:
    plan = plan_of(write(tmp_path, "names.csv", b"name,city\nalice,paris\nbob,rome\n"))
    assert [c.name for c in plan.columns] == ["name", "city"] and plan.rows == 2


def test_semicolon_and_gzip(tmp_path: Path) -> None:
    semi = plan_of(write(tmp_path, "s.csv", b"a;b\n1;x\n"))
    assert semi.options["delim"] == ";"
    gz = plan_of(write(tmp_path, "g.csv.gz", gzip.compress(b"a,b\n1,x\n2,y\n")))
    assert gz.options["compression"] == "gzip" and gz.rows == 2


def test_type_change_after_the_sniff_sample_is_caught(tmp_path: Path) -> None:
    rows = b"".join(b"%d\n" % i for i in range(30000)) + b"not a number\n"
    plan = plan_of(write(tmp_path, "late.csv", b"n\n" + rows))
    assert plan.columns[0].type == "VARCHAR" and plan.rows == 30001


def test_ndjson_nested_and_iso_timestamps(tmp_path: Path) -> None:
    data = (
        b'{"id":1,"s":{"x":1,"tags":["a"]},"at":"2026-01-02T03:04:05","z":"2026-01-02T03:04:05Z","n":null}\n'
        b'{"id":2,"s":{"x":2,"tags":[]},"at":"2026-01-03T03:04:05","z":"2026-01-02T03:04:05+02:00","n":null}\n'
    )
    plan = plan_of(write(tmp_path, "e.json", data))
    types = {c.name: c.type for c in plan.columns}
    assert types == {
        "id": "BIGINT",
        "s": 'STRUCT("x" BIGINT, "tags" VARCHAR[])',
        "at": "TIMESTAMP",
        "z": "TIMESTAMP WITH TIME ZONE",
        "n": "NULL",
    }
    assert plan.options["format"] == "newline_delimited" and plan.rows == 2


def test_json_array(tmp_path: Path) -> None:
    plan = plan_of(write(tmp_path, "a.json", b'[{"a": 1}, {"a": 2, "b": "x"}]'))
    assert plan.options["format"] == "array" and plan.rows == 2
    assert [c.name for c in plan.columns] == ["a", "b"]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    duckdb.connect().execute(f"COPY (SELECT range AS \"Id\", 'x' AS v FROM range(5)) TO '{path}'")
    plan = plan_of(path)
    assert plan.format == "parquet" and plan.rows == 5
    assert [(c.name, c.original) for c in plan.columns] == [("id", "Id"), ("v", "v")]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.csv", b"", "reject.empty"),
        ("blank.csv", b"  \n\n", "reject.empty"),
        ("junk.csv", bytes(range(256)) * 20, "reject.binary"),
        ("zeros.csv", b"\x00\x01" * 100, "reject.binary"),  # zero bytes, but not UTF-16 text
        ("cp1252.csv", "name,price\ncafé,5 €\n".encode("cp1252") + b"\x81\n", "reject.encoding"),
        ("cut.parquet", b"PAR1" + b"\x00" * 100, "reject.truncated_parquet"),
        ("x.csv.bz2", b"BZh91AY&SY" + b"\x00" * 50, "reject.corrupt_compression"),
        ("x.csv.xz", b"\xfd7zXZ\x00" + b"\x00" * 50, "reject.unsupported_compression"),
        ("scalars.json", b"[1, 2, 3]", "reject.json_not_records"),
    ],
)
def test_bad_files_are_rejected_with_a_specific_reason(
    tmp_path: Path, name: str, data: bytes, code: str
) -> None:
    with pytest.raises(Rejection) as err:
        plan_of(write(tmp_path, name, data))
    assert err.value.code == code
    assert err.value.message


@pytest.mark.parametrize("name", ["a.csv", "a.json", "a.parquet"])
def test_key_value_folders_never_become_columns(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "dt=2026-01-01"
    folder.mkdir()
    path = folder / name
    if name.endswith(".parquet"):
        duckdb.connect().execute(f"COPY (SELECT 1 AS id) TO '{path}'")
    else:
        path.write_bytes(b'{"id": 1}\n' if name.endswith(".json") else b"id\n1\n")
    assert [c.name for c in plan_of(path).columns] == ["id"]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-16-le"])
def test_latin1_and_utf16_csv_are_read_in_place(tmp_path: Path, encoding: str) -> None:
    text = "name,city,amount\n" + "".join(f"José {i},Zürich,{i}.5\n" for i in range(30))
    path = write(tmp_path, "a.csv", text.encode(encoding))
    plan = plan_of(path)
    assert plan.options["encoding"] in ("latin-1", "utf-16") and plan.rows == 30
    assert [c.type for c in plan.columns] == ["VARCHAR", "VARCHAR", "DOUBLE"]
    from lakegate.duck.readers import plan_select

    first = duck.connect().execute(plan_select(str(path), plan)).fetchone()
    assert first == ("José 0", "Zürich", 0.5)


def test_one_pretty_printed_object_is_a_one_row_table(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", b'{\n  "id": 1,\n  "tags": ["a", "b"],\n  "geo": {"lat": 1.5}\n}\n')
    plan = plan_of(path)
    assert plan.rows == 1
    assert [(c.name, c.type) for c in plan.columns] == [
        ("id", "BIGINT"),
        ("tags", "VARCHAR[]"),
        ("geo", 'STRUCT("lat" DOUBLE)'),
    ]


def test_arrays_of_records_become_lists_of_structs(tmp_path: Path) -> None:
    data = b'[{"id": 1, "items": [{"sku": "x", "q": 2}]}, {"id": 2, "items": []}]'
    plan = plan_of(write(tmp_path, "a.json", data))
    assert {c.name: c.type for c in plan.columns}["items"] == 'STRUCT("sku" VARCHAR, "q" BIGINT)[]'


def test_an_empty_json_array_is_empty(tmp_path: Path) -> None:
    with pytest.raises(Rejection) as err:
        plan_of(write(tmp_path, "e.json", b"[]"))
    assert err.value.code == "reject.empty"


def test_parquet_files_of_one_schema_share_a_description_and_others_get_their_own(tmp_path: Path) -> None:
    conn = duckdb.connect()
    for name, select in (
        ("a", "SELECT 1::BIGINT AS v, 'x' AS w"),
        ("b", "SELECT 2::BIGINT AS v, 'y' AS w"),
        ("c", "SELECT 'text' AS v, 'z' AS w"),
        ("d", "SELECT 1.5::DECIMAL(9,2) AS v, 'z' AS w"),
    ):
        conn.execute(f"COPY ({select}) TO '{tmp_path / name}.parquet'")
    types = [[c.type for c in plan_of(tmp_path / f"{n}.parquet").columns] for n in "abcd"]
    assert types == [
        ["BIGINT", "VARCHAR"],
        ["BIGINT", "VARCHAR"],
        ["VARCHAR", "VARCHAR"],
        ["DECIMAL(9,2)", "VARCHAR"],
    ]
