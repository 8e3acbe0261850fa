"""A value reads as it was delivered when its table's column is wider than its file's type: a
column widened to text reads each file's own text (``F``, ``1.50``, ``03/04/2026``), never the
text of a cast of the file's narrower type (``false``, ``1.5``, ``2026-04-03``) — in place, with
a copy made for speed, and on Spark's views alike. And single letters are not booleans."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from tests.ingest.test_pipeline import deliver, rows

_counter = itertools.count()


def test_tpch_linestatus_years_keep_their_letters_when_another_year_widens_the_column(app: App) -> None:
    first = deliver(app, "landing/tpch/lineitem/y=1992/a.csv", b"l_orderkey,l_linestatus\n1,F\n2,F\n")
    assert first.kind == "accepted"
    deliver(app, "landing/tpch/lineitem/y=1998/b.csv", b"l_orderkey,l_linestatus\n3,O\n4,F\n")
    got = rows(app, "SELECT l_linestatus, count(*) FROM tpch.lineitem GROUP BY 1 ORDER BY 1")
    assert got == [("F", 3), ("O", 1)]
    # pruning by the files' statistics must not judge the text by the file's own type
    assert rows(app, "SELECT count(*) FROM tpch.lineitem WHERE l_linestatus = 'F'") == [(3,)]
    assert rows(app, "SELECT count(*) FROM tpch.lineitem WHERE l_linestatus >= 'A'") == [(4,)]
    [column] = [c for c in app.catalog.table("tpch", "lineitem").columns if c.name == "l_linestatus"]
    assert column.type == "VARCHAR"


def test_only_true_and_false_are_booleans(app: App) -> None:
    deliver(app, "landing/s/t/a.csv", b"yes_no,zero_one,words,letters\nY,0,true,T\nN,1,FALSE,F\n")
    types = {c.name: c.type for c in app.catalog.table("s", "t").columns}
    assert types == {"yes_no": "VARCHAR", "zero_one": "BIGINT", "words": "BOOLEAN", "letters": "VARCHAR"}
    assert rows(app, "SELECT yes_no, zero_one, words, letters FROM s.t ORDER BY zero_one") == [
        ("Y", 0, True, "T"), ("N", 1, False, "F"),
    ]  # fmt: skip


def test_numbers_and_dates_read_as_delivered_once_their_column_is_text(app: App) -> None:
    deliver(app, "landing/s/m/b.csv", b"k,price,day\n3,n/a yet,soon\n")  # the table's columns: text
    deliver(app, "landing/s/m/a.csv", b"k,price,day\n1,1.50,03/04/2026\n2,2.00,13/04/2026\n")
    assert rows(app, "SELECT count(*) FROM s.m WHERE price = '1.50' OR day = '13/04/2026'") == [(2,)]
    assert rows(app, "SELECT k, price, day FROM s.m ORDER BY k") == [
        (1, "1.50", "03/04/2026"), (2, "2.00", "13/04/2026"), (3, "n/a yet", "soon"),
    ]  # fmt: skip


def test_a_file_with_a_copy_for_speed_still_reads_its_own_text(app: App) -> None:
    from lakegate.ingest.accelerate import Accelerator

    deliver(app, "landing/s/c/b.csv", b"k,flag,n\n3,maybe,soon\n")
    deliver(app, "landing/s/c/a.csv", b"k,flag,n\n1,true,1.50\n2,false,2.00\n")
    Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
    copied = [f for f in app.catalog.table("s", "c").files if f.key.endswith("a.csv")]
    assert copied[0].derived_key and copied[0].accelerated
    assert rows(app, "SELECT k, flag, n FROM s.c ORDER BY k") == [
        (1, "true", "1.50"), (2, "false", "2.00"), (3, "maybe", "soon"),
    ]  # fmt: skip
    # the files' statistics are of their own types: pruning must not judge text by them
    assert rows(app, "SELECT k FROM s.c WHERE flag = 'true' AND n = '1.50'") == [(1,)]
    assert rows(app, "SELECT count(*) FROM s.c WHERE n >= '1.9'") == [(2,)]  # '2.00' and 'soon'
    assert rows(app, "SELECT count(*) FROM s.c WHERE n < '10'") == [(1,)]  # as text only '1.50' sorts below


# Each delivered cell is text; a file's column takes the narrowest type all its cells read as.
_VALUES = {
    "integer": st.integers(-(10**6), 10**6).map(str),
    "decimal": st.decimals(-1000, 1000, places=2, allow_nan=False).map(lambda d: f"{d:.2f}"),
    "date": st.dates().map(lambda d: d.strftime("%Y-%m-%d")),
    "boolean": st.sampled_from(["true", "false"]),
    "letter": st.sampled_from(["F", "O", "T", "Y", "N"]),
    "text": st.text("abcxyz ", min_size=1, max_size=8).map(str.strip).filter(bool).map(lambda t: t + "!"),
}


def _deliver_loose(app: App, key: str, data: bytes) -> str:
    """Delivered under the ``loose`` schema policy (typed columns may widen to text)."""
    outcomes: list[Any] = []
    app.store.write(key, data)
    router = Router([], schema_evolution="loose")
    Pipeline(app.catalog, app.store, router=router, on_outcome=outcomes.append).process(key)
    return str(outcomes[0].kind)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.sampled_from(sorted(_VALUES)), min_size=2, max_size=4), data=st.data())
def test_every_lattice_path_to_text_reads_each_value_as_delivered(
    app: App, files: list[str], data: st.DataObject
) -> None:
    """Whatever the files' own types and their order, once one file holds text every value reads
    as delivered (the table widening to text before or after the narrower files came)."""
    table = f"t{next(_counter)}"
    kinds = list(files)
    kinds.insert(data.draw(st.integers(0, len(kinds))), "text")  # this file makes the column text
    delivered = []
    for i, kind in enumerate(kinds):
        values = data.draw(st.lists(_VALUES[kind], min_size=1, max_size=4))
        body = "k,v\n" + "".join(f"{i * 10 + j},{v}\n" for j, v in enumerate(values))
        assert _deliver_loose(app, f"landing/p/{table}/f{i}.csv", body.encode()) == "accepted"
        delivered += [(i * 10 + j, v) for j, v in enumerate(values)]
    assert rows(app, f"SELECT k, v FROM p.{table} ORDER BY k") == sorted(delivered)


def test_lakegate_migrate_rejudges_booleans_of_files_taken_before_the_rule(app: App) -> None:
    import subprocess
    import sys

    import sqlalchemy as sa

    from lakegate.catalog.model import columns, files
    from lakegate.ingest.accelerate import Accelerator

    deliver(app, "landing/s/old/a.csv", b"k,flag,ok\n1,F,true\n2,T,false\n")
    with app.catalog.writing("as lakegate cataloged it before: F and T as booleans") as conn:
        [(listed,)] = conn.execute(sa.select(files.c.columns)).all()
        old = [{**c, "type": "BOOLEAN"} if c["name"] == "flag" else c for c in listed]
        conn.execute(files.update().values(columns=old))
        conn.execute(columns.update().where(columns.c.name == "flag").values(type="BOOLEAN"))
    Accelerator(app.catalog, app.store, lambda: app.settings).run_pending()
    table = app.catalog.table("s", "old")
    assert {c.name: c.type for c in table.columns}["flag"] == "BOOLEAN" and table.files[0].accelerated
    assert rows(app, "SELECT flag FROM s.old ORDER BY k") == [(False,), (True,)]

    def migrate(*flags: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lakegate", "migrate", "--home", str(app.home.root), *flags],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    assert "would change 1 file" in migrate("--dry-run") and table.schema_version == 1
    said = migrate()
    assert "s.old: lake/s/old/a.csv: flag: BOOLEAN -> VARCHAR" in said and "changed 1 file" in said
    after = app.catalog.table("s", "old")
    assert {c.name: c.type for c in after.columns} == {"k": "BIGINT", "flag": "VARCHAR", "ok": "BOOLEAN"}
    assert after.schema_version == 2 and not after.files[0].derived_key  # its copy is made again
    assert rows(app, "SELECT flag, ok FROM s.old ORDER BY k") == [("F", True), ("T", False)]
    assert "changed 0 files" in migrate()  # once is enough


def test_lakegate_migrate_writes_again_the_copies_files_need(app: App) -> None:
    """A zipped CSV is read through a copy lakegate needs: migrating re-reads the delivered file."""
    import subprocess
    import sys
    from dataclasses import replace

    from lakegate.catalog.model import columns
    from lakegate.ingest.retext import Retexter

    assert deliver(app, "landing/s/z/a.csv.zip", _zipped("a.csv", b"k,flag\n1,F\n2,T\n")).kind == "accepted"
    [f] = app.catalog.table("s", "z").files
    # as lakegate cataloged it before: F and T as booleans, in the copy too
    old = [replace(c, type="BOOLEAN") if c.name == "flag" else c for c in f.columns]
    assert Retexter(app.catalog, app.store).rewrite("s", "z", f, old, cause="as before") == ""
    with app.catalog.writing("the table's column as before") as conn:
        conn.execute(columns.update().where(columns.c.name == "flag").values(type="BOOLEAN"))
    assert rows(app, "SELECT flag FROM s.z ORDER BY k") == [(False,), (True,)]
    done = subprocess.run(
        [sys.executable, "-m", "lakegate", "migrate", "--home", str(app.home.root)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "flag: BOOLEAN -> VARCHAR" in done.stdout and "not migrated" not in done.stderr, done
    [after] = app.catalog.table("s", "z").files
    assert after.derived_key and after.derived_key != f.derived_key and not after.accelerated
    assert rows(app, "SELECT flag FROM s.z ORDER BY k") == [("F",), ("T",)]


def test_json_strings_read_as_delivered_once_their_column_is_text(app: App) -> None:
    deliver(app, "landing/s/j/a.json", b'{"k": 1, "seen": "soon"}\n')
    deliver(
        app,
        "landing/s/j/b.json",
        b'{"k": 2, "seen": "2026-04-03T10:00:00"}\n{"k": 3, "seen": "2026-04-04T11:30:00"}\n',
    )
    assert rows(app, "SELECT k, seen FROM s.j ORDER BY k") == [
        (1, "soon"), (2, "2026-04-03T10:00:00"), (3, "2026-04-04T11:30:00"),  # not 2026-04-03 10:00:00
    ]  # fmt: skip


def test_what_reading_a_file_decided_is_listed_per_file(app: App) -> None:
    import subprocess
    import sys

    from lakegate.catalog.lineage import table_files
    from lakegate.ingest.activity import arrivals

    body = b"Sales report for December 2026\nprinted 2026-12-05\n\nk,flag\n1,T\n2,F\n3,T\n"
    assert deliver(app, "landing/s/d/a.csv", body).kind == "accepted"
    [listed] = table_files(app.catalog, "s", "d")
    assert any("preamble" in d for d in listed["decisions"]), listed
    assert "flag: read as VARCHAR, not booleans (only true and false are booleans)" in listed["decisions"]
    [arrived] = [a for a in arrivals(app.catalog) if a["key"] == "landing/s/d/a.csv"]
    assert arrived["decisions"] == listed["decisions"]
    shown = subprocess.run(
        [sys.executable, "-m", "lakegate", "describe", "s.d", "--files", "--home", str(app.home.root)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "lake/s/d/a.csv" in shown and "preamble" in shown and "not booleans" in shown


def test_repeated_header_names_get_2_and_3_and_keep_the_names_as_written(app: App) -> None:
    deliver(app, "landing/s/r/a.csv", b"x,x,x, Total \n1,2,3,4\n")
    columns = app.catalog.table("s", "r").columns
    assert [(c.name, c.original) for c in columns] == [
        ("x", "x"),
        ("x_2", "x"),
        ("x_3", "x"),
        ("total", "Total"),
    ]
    assert rows(app, "SELECT x, x_2, x_3, total FROM s.r") == [(1, 2, 3, 4)]


def test_lakegate_migrate_reads_files_crawled_in_place_too(app: App, tmp_path: Path) -> None:
    import sqlalchemy as sa

    from lakegate.app import open_source
    from lakegate.catalog.model import columns, files
    from lakegate.ingest.crawl import Crawl
    from lakegate.ingest.migrate import migrate_booleans

    (tmp_path / "legacy" / "t").mkdir(parents=True)
    (tmp_path / "legacy" / "t" / "a.csv").write_bytes(b"k,flag\n1,T\n2,F\n")
    source = open_source(str(tmp_path / "legacy"), app.settings.storage)
    Crawl(app.catalog, source, app.store, database="legacy").run()
    with app.catalog.writing("as lakegate cataloged it before: F and T as booleans") as conn:
        [(fid, listed)] = conn.execute(sa.select(files.c.id, files.c.columns)).all()
        old = [{**c, "type": "BOOLEAN"} if c["name"] == "flag" else c for c in listed]
        conn.execute(files.update().where(files.c.id == fid).values(columns=old))
        conn.execute(columns.update().where(columns.c.name == "flag").values(type="BOOLEAN"))
    [done] = migrate_booleans(app.catalog, app.store)
    assert done.changes == ["flag: BOOLEAN -> VARCHAR"] and not done.skipped
    assert rows(app, "SELECT flag FROM legacy.t ORDER BY k") == [("T",), ("F",)]


def test_a_dataset_may_read_yes_and_no_as_booleans(app: App) -> None:
    from lakegate.config import DatasetSettings
    from lakegate.ingest.routing import Dataset

    survey = DatasetSettings(
        name="survey", key="landing/survey/{f}", database="survey", table="answers", yes_no_booleans=True
    )
    router = Router([Dataset(survey)])
    for key, body in (("landing/survey/a.csv", b"id,agrees,grade\n1,Yes,Y\n2,no,N\n"),
                      ("landing/other/t/a.csv", b"id,agrees\n1,yes\n2,no\n")):  # fmt: skip
        app.store.write(key, body)
        Pipeline(app.catalog, app.store, router=router).process(key)
    answers = {c.name: c.type for c in app.catalog.table("survey", "answers").columns}
    assert answers == {"id": "BIGINT", "agrees": "BOOLEAN", "grade": "VARCHAR"}  # Y/N never
    assert rows(app, "SELECT agrees FROM survey.answers ORDER BY id") == [(True,), (False,)]
    assert {c.name: c.type for c in app.catalog.table("other", "t").columns}["agrees"] == "VARCHAR"


def _zipped(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


def test_copies_a_file_needs_are_written_again_with_its_text_when_the_column_widens(app: App) -> None:
    """Windows-1252 and zipped CSV are read through copies lakegate needs; once another file
    widens their typed columns to text, the copies are written again from the delivered files."""
    from lakegate.ingest.accelerate import Accelerator

    latin = "k,price,day,who\n1,1.50,03/04/2026,café\n2,2.00,13/04/2026,5 €\n".encode("cp1252")
    assert _deliver_loose(app, "landing/s/n/a.csv", latin) == "accepted"
    zipped = _zipped("b.csv", b"k,price,day,who\n3,0.10,21/12/2026,z\n")
    assert _deliver_loose(app, "landing/s/n/b.csv.zip", zipped) == "accepted"
    before = {f.key: f for f in app.catalog.table("s", "n").files}
    assert all(f.derived_key and not f.accelerated for f in before.values()), before
    # a file widens both to text
    assert _deliver_loose(app, "landing/s/n/c.csv", b"k,price,day,who\n4,unknown,later,x\n") == "accepted"
    accelerator = Accelerator(app.catalog, app.store, lambda: app.settings)
    accelerator.run_pending()
    assert rows(app, "SELECT k, price, day, who FROM s.n ORDER BY k") == [
        (1, "1.50", "03/04/2026", "café"), (2, "2.00", "13/04/2026", "5 €"),
        (3, "0.10", "21/12/2026", "z"), (4, "unknown", "later", "x"),
    ]  # fmt: skip
    after = {f.key: f for f in app.catalog.table("s", "n").files}
    for key in ("landing/s/n/a.csv", "landing/s/n/b.csv.zip"):
        [old] = [f for k, f in before.items() if k.endswith(key.rsplit("/", 1)[1])]
        [new] = [f for k, f in after.items() if k.endswith(key.rsplit("/", 1)[1])]
        assert new.derived_key != old.derived_key and not new.accelerated
        assert {c.name: c.type for c in new.columns}["price"] == "VARCHAR"
    assert accelerator.run_pending() == []  # nothing more to do: the schema did not change again
    assert rows(app, "SELECT count(*) FROM s.n WHERE price = '1.50'") == [(1,)]
