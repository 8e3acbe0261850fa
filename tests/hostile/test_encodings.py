"""A UTF-8 file with some lines in another encoding loses no row and garbles no character: each
line is read by its own evidence, and the lines read as Windows-1252 are named."""

from __future__ import annotations

import pytest

from lakegate.app import App
from tests.ingest.test_pipeline import deliver, rows


@pytest.mark.parametrize("good_rows", [20, 20_000], ids=["within-the-sniffed-head", "past-the-head"])
def test_lines_in_another_encoding_are_read_not_dropped(app: App, good_rows: int) -> None:
    text = "id,name\n" + "".join(f"{i},name é {i}\n" for i in range(good_rows))
    data = text.encode("utf-8") + "90001,café latin\n".encode("latin-1") + "90002,“quoted”\n".encode("cp1252")
    outcome = deliver(app, "landing/s/enc/a.csv", data + b"90003,last\n")
    assert outcome.kind == "accepted" and outcome.rows == good_rows + 3
    lines = f"{good_rows + 2}, {good_rows + 3}"
    assert any(f"lines {lines} are not UTF-8, read as Windows-1252" in w for w in outcome.warnings)
    assert rows(app, "SELECT name FROM s.enc WHERE id = 5") == [("name é 5",)]
    assert rows(app, "SELECT name FROM s.enc WHERE id > 90000 ORDER BY id") == [
        ("café latin",),
        ("“quoted”",),
        ("last",),
    ]
