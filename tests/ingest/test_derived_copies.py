"""Files the engine cannot read in place — bzip2, zip, Windows-1252, big-endian UTF-16, gzip'd
Parquet, Excel — are queryable at once through a derived Parquet copy beside the delivered file."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import zipfile
from pathlib import Path

import duckdb
import pytest

from lakegate import duck
from lakegate.app import App
from lakegate.catalog import records as r
from lakegate.ingest.archive import Archive
from tests.ingest.test_pipeline import deliver, rows

CSV = "id,name,amount\n1,café,2.5\n2,Zürich “Süd”,3\n".encode()


def zipped(name: str, data: bytes, *extra: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
        for other, content in extra:
            archive.writestr(other, content)
    return buffer.getvalue()


def parquet_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "p.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT range AS id, {{'k': range}} AS s, [range, 1] AS l FROM range(3)) TO '{path}'"
    )
    return path.read_bytes()


def xlsx_bytes(tmp_path: Path, select: str, sheet: str = "Sheet1", header: bool = True) -> bytes:
    path = tmp_path / f"{sheet}.xlsx"
    conn = duck.connect()
    duck.load_extension(conn, "excel")
    conn.execute(f"COPY ({select}) TO '{path}' (FORMAT xlsx, HEADER {str(header).lower()}, SHEET '{sheet}')")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.csv.bz2", bz2.compress(CSV)),
        ("a.zip", zipped("inner/a.csv", CSV, ("__MACOSX/._a.csv", b"junk"))),
        ("a.csv", CSV.decode().replace("“", '"').replace("”", '"').encode("cp1252") + b"3,\x80uro,1\n"),
        ("a.csv", b"\xfe\xff" + CSV.decode().encode("utf-16-be")),
        ("a.csv", CSV.decode().encode("utf-16-be")),  # no byte-order mark
    ],
    ids=["bzip2", "zip", "cp1252", "utf16be-bom", "utf16be"],
)
def test_unreadable_in_place_is_queryable_through_a_derived_copy(app: App, name: str, data: bytes) -> None:
    outcome = deliver(app, f"landing/shop/orders/{name}", data)
    assert outcome.kind == "accepted", outcome.reason
    assert app.store.read(outcome.target_key) == data  # the delivered file, untouched
    found = rows(app, "SELECT id, name, amount FROM shop.orders ORDER BY id")
    assert found[:2] == [(1, "café", 2.5), (2, found[1][1], 3.0)]
    assert found[1][1] in ("Zürich “Süd”", 'Zürich "Süd"')
    if len(found) == 3:
        assert found[2] == (3, "€uro", 1.0)  # a Windows-1252 character Latin-1 does not have
    copies = [i.key for i in app.store.list("derived/")]
    assert len(copies) == 1 and copies[0].startswith("derived/shop/orders/")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-16-be"])
def test_json_in_other_encodings_is_read_through_a_copy(app: App, encoding: str) -> None:
    data = '{"id": 1, "city": "Zürich"}\n{"id": 2, "city": "Genève"}\n'.encode(encoding)
    outcome = deliver(app, "landing/shop/cities/c.json", data)
    assert outcome.kind == "accepted", outcome.reason
    assert rows(app, "SELECT city FROM shop.cities ORDER BY id") == [("Zürich",), ("Genève",)]


def test_a_partitioned_copy_keeps_its_partition_and_mixes_with_plain_files(app: App) -> None:
    deliver(app, "landing/shop/daily/dt=2026-01-01/a.csv.bz2", bz2.compress(CSV))
    deliver(app, "landing/shop/daily/dt=2026-01-02/b.csv", b"id,name,amount\n3,plain,4\n")
    assert rows(app, "SELECT dt, count(*) FROM shop.daily GROUP BY dt ORDER BY dt") == [
        ("2026-01-01", 2),
        ("2026-01-02", 1),
    ]


def test_compressed_parquet_keeps_its_nested_types(app: App, tmp_path: Path) -> None:
    outcome = deliver(app, "landing/shop/nested/p.parquet.gz", gzip.compress(parquet_bytes(tmp_path)))
    assert outcome.kind == "accepted", outcome.reason
    assert rows(app, "SELECT s.k, l[1] FROM shop.nested ORDER BY id") == [(0, 0), (1, 1), (2, 2)]


def test_excel_sheet_is_typed_by_its_cells(app: App, tmp_path: Path) -> None:
    data = xlsx_bytes(
        tmp_path,
        "SELECT range AS \"Order Id\", 'n' || range AS name, DATE '2026-01-01' + range::INT AS day, "
        "range * 1.5 AS amount FROM range(4)",
        sheet="Orders",
    )
    outcome = deliver(app, "landing/shop/book/orders.xlsx", data)
    assert outcome.kind == "accepted", outcome.reason
    table = app.catalog.table("shop", "book")
    assert table is not None
    assert [(c.name, c.original, c.type) for c in table.columns] == [
        ("order_id", "Order Id", "BIGINT"),
        ("name", "name", "VARCHAR"),
        ("day", "day", "DATE"),
        ("amount", "amount", "DOUBLE"),
    ]
    assert rows(app, "SELECT order_id, day, amount FROM shop.book WHERE order_id = 3") == [
        (3, dt.date(2026, 1, 4), 4.5)
    ]


def test_excel_column_with_text_among_numbers_is_text(app: App, tmp_path: Path) -> None:
    data = xlsx_bytes(tmp_path, "SELECT 1 AS code UNION ALL SELECT 2 UNION ALL SELECT 'n/a'")
    outcome = deliver(app, "landing/shop/codes/c.xlsx", data)
    assert outcome.kind == "accepted", outcome.reason
    assert rows(app, "SELECT code FROM shop.codes ORDER BY code") == [("1",), ("2",), ("n/a",)]


def test_excel_without_a_header_row_gets_generated_names(app: App, tmp_path: Path) -> None:
    data = xlsx_bytes(tmp_path, "SELECT range AS a, range * 2 AS b FROM range(3)", header=False)
    outcome = deliver(app, "landing/shop/plain/p.xlsx", data)
    assert outcome.kind == "accepted", outcome.reason
    table = app.catalog.table("shop", "plain")
    assert table is not None and table.columns[0].type == "BIGINT"
    assert rows(app, "SELECT count(*) FROM shop.plain") == [(3,)]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("two.zip", zipped("a.csv", CSV, ("b.csv", CSV)), "reject.zip_members"),
        ("nested.zip", zipped("a.csv.bz2", bz2.compress(CSV)), "reject.unsupported_compression"),
        ("cut.csv.bz2", bz2.compress(CSV * 2000)[:-40], "reject.corrupt_compression"),
        ("bad.csv", "a\ncafé\n".encode("cp1252") + b"\x80\x81\n", "reject.encoding"),
    ],
)
def test_unreadable_archives_are_quarantined(app: App, name: str, data: bytes, code: str) -> None:
    outcome = deliver(app, f"landing/shop/bad/{name}", data)
    assert outcome.kind == "quarantined" and outcome.reason_code == code, outcome.reason
    assert list(app.store.list("derived/")) == []


def test_the_copy_goes_when_its_file_leaves_the_table(app: App) -> None:
    outcome = deliver(app, "landing/shop/orders/a.csv.bz2", bz2.compress(CSV))
    assert len(list(app.store.list("derived/"))) == 1
    app.catalog.drop_table("shop", "orders", "a test")
    Archive(app.catalog, app.store).settle()
    assert list(app.store.list("derived/")) == []
    assert app.catalog.objects_in((r.DONE,))[0].target_key == outcome.target_key


@pytest.mark.parametrize(
    ("name", "data", "warning"),
    [
        ("a.csv", b'{"id": 1}\n', "the content is json but the name has .csv"),
        ("a.csv.gz", CSV, "the name ends in .gz but the content is not compressed"),
        ("a.parquet", CSV, "the content is csv but the name has .parquet"),
        ("a.zip", zipped("inner.csv", CSV), None),
        ("a.csv.bz2", bz2.compress(CSV), None),
        ("export", CSV, None),  # no extension says nothing
    ],
)
def test_a_name_that_disagrees_with_the_content_is_a_finding(
    app: App, name: str, data: bytes, warning: str | None
) -> None:
    outcome = deliver(app, f"landing/shop/named/{name}", data)
    assert outcome.kind == "accepted", outcome.reason
    said = [w for w in outcome.warnings if "read by its content" in w]
    assert said == ([f"{warning} (read by its content)"] if warning else [])
