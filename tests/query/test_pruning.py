"""A query reads only the files that may hold its rows — judged from partition values and
column statistics before DuckDB opens a file — and is charged for those, never fewer than it needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.catalog.records import FileRecord, TableInfo
from lakegate.errors import QueryError
from lakegate.query import pruning
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Access
from lakegate.query.pruning import FileIndex, references
from lakegate.schema import Column
from tests.ingest.test_pipeline import deliver

REGIONS = ["APAC", "EU", "US"]
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]
ALL = [{"region": r, "dt": d} for r in REGIONS for d in DAYS]


def _file(key: str, partition: dict[str, str], columns: dict[str, str], **stats: Any) -> FileRecord:
    return FileRecord(
        key=key, size=100, sha256=key, row_count=10, format="csv", options={},
        columns=[Column(n, n, t, 1) for n, t in columns.items()], partition=partition, stats=stats,
    )  # fmt: skip


def _table(name: str, keys: list[str], files: list[FileRecord], columns: dict[str, str]) -> TableInfo:
    cols = [Column(n, n, t, 1) for n, t in columns.items()]
    return TableInfo(1, "s", name, f"lake/s/{name}", 1, cols, keys, files)


T = _table("t", ["region", "dt"], [_file(f"{p['region']}/{p['dt']}", p, {"amount": "DOUBLE"}) for p in ALL],
           {"amount": "DOUBLE"})  # fmt: skip
U = _table("u", ["dt"], [_file("u", {"dt": "2026-01-01"}, {"id": "BIGINT"})], {"id": "BIGINT"})


def _kept(sql: str, table: TableInfo) -> list[str]:
    tables = {(t.database, t.name): {c.name for c in t.columns} | set(t.partition_keys) for t in (T, U)}
    refs = references(sqlglot.parse_one(sql, read="duckdb"), tables)
    return [f.key for f in FileIndex(table).select(refs.get((table.database, table.name)))]


def kept(sql: str, table: TableInfo = T) -> list[tuple[str, str]]:
    return [(k.split("/")[0], k.split("/")[1]) for k in _kept(sql, table)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("region = 'EU'", [("EU", d) for d in DAYS]),
        ("'EU' = region AND dt >= '2026-01-02'", [("EU", "2026-01-02"), ("EU", "2026-01-03")]),
        ("region IN ('EU', 'US') AND dt BETWEEN '2026-01-01' AND '2026-01-01'",
         [("EU", "2026-01-01"), ("US", "2026-01-01")]),
        ("(region <> 'EU') AND (dt < '2026-01-02' AND amount > 3)",
         [("APAC", "2026-01-01"), ("US", "2026-01-01")]),
        ("dt > '2026-01-02' AND dt <= '2026-01-03' AND region < 'EU'", [("APAC", "2026-01-03")]),
        ("region = 'EU' OR dt = '2026-01-01'", "all"),  # OR: not judged
        ("lower(region) = 'eu'", "all"),  # a function: not judged
        ("region = 1", "all"),  # a number against VARCHAR: not judged
        ("region NOT IN ('EU')", "all"),
        ("region IN (SELECT 'EU')", "all"),
        ("region = 'nowhere'", []),
    ],
)  # fmt: skip
def test_conditions_on_partition_columns_narrow_the_files(where: str, expected: object) -> None:
    found = kept(f"SELECT * FROM s.t WHERE {where}")
    assert found == ([(p["region"], p["dt"]) for p in ALL] if expected == "all" else expected)


def test_every_reference_counts_and_only_its_own_conditions() -> None:
    eu = [("EU", d) for d in DAYS]
    assert kept("SELECT * FROM s.t AS a JOIN s.u AS b ON a.id = b.id WHERE a.region = 'EU'") == eu
    # unqualified in a join: whose column it is would need the schemas, so not judged
    assert len(kept("SELECT * FROM s.t AS a JOIN s.u AS b ON a.id = b.id WHERE region = 'EU'")) == 9
    # two references: what either reads
    both = "SELECT * FROM s.t WHERE region = 'EU' UNION ALL SELECT * FROM s.t WHERE region = 'US'"
    assert kept(both) == eu + [("US", d) for d in DAYS]
    assert len(kept("SELECT * FROM s.t WHERE region = 'EU' UNION ALL SELECT * FROM s.t")) == 9
    # inside a CTE and a subquery
    assert kept("WITH x AS (SELECT * FROM s.t WHERE region = 'EU') SELECT * FROM x") == eu
    assert kept("SELECT * FROM (SELECT * FROM s.t WHERE region = 'EU') AS x WHERE x.dt = 'no'") == eu
    # an outer query's condition on a subquery's column is not the table's
    assert len(kept("SELECT * FROM (SELECT * FROM s.t) AS x WHERE x.region = 'EU'")) == 9
    # a condition in a join's ON clause is not judged (an outer join keeps the other side's rows)
    assert len(kept("SELECT * FROM s.u LEFT JOIN s.t ON t.region = 'EU'")) == 9
    assert _kept("SELECT * FROM s.u WHERE dt = '2026-01-02'", U) == []


STATS = _table(
    "m",
    [],
    [
        _file("jan", {}, {"d": "DATE", "n": "BIGINT", "x": "DOUBLE", "s": "VARCHAR", "p": "DECIMAL(9,2)"},
              d={"min": "2026-01-01", "max": "2026-01-31", "nulls": 0}, n={"min": 1, "max": 100, "nulls": 0},
              x={"min": -1.5, "max": 0.1}, s={"min": "apple", "max": "melon"},
              p={"min": "0.05", "max": "9.99"}),
        _file("feb", {}, {"d": "DATE", "n": "BIGINT", "x": "DOUBLE", "s": "VARCHAR", "p": "DECIMAL(9,2)"},
              d={"min": "2026-02-01", "max": "2026-02-28"}, n={"min": 101, "max": 200},
              x={"min": 2.0, "max": "inf"}, s={"min": "nut"}, p={"min": "10.00", "max": "20.00"}),
        _file("nulls", {}, {"d": "DATE", "n": "BIGINT", "x": "DOUBLE", "s": "VARCHAR", "p": "DECIMAL(9,2)"},
              d={"nulls": 10}, n={"nulls": 10}, x={"nulls": 10}, s={"nulls": 10}, p={"nulls": 10}),
        _file("old", {}, {"d": "DATE"}, d={"min": "2025-12-01", "max": "2025-12-31"}),  # before n, x, s, p
        _file("text", {}, {"d": "VARCHAR", "n": "VARCHAR"}, d={"min": "2026-01-15", "max": "2026-03-01"},
              n={"min": "1", "max": "9"}),  # typed otherwise in this file: never judged by its text
    ],
    {"d": "DATE", "n": "BIGINT", "x": "DOUBLE", "s": "VARCHAR", "p": "DECIMAL(9,2)"},
)  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("d >= DATE '2026-02-01'", ["feb", "text"]),
        ("d < '2026-01-01'", ["old", "text"]),
        ("d >= DATE '2026-01-01' AND d < DATE '2026-01-01' + INTERVAL 1 MONTH", ["jan", "text"]),
        ("d <= DATE '2026-03-31' - INTERVAL '1' MONTH", ["jan", "feb", "old", "text"]),
        ("d > DATE '2026-03-31' - INTERVAL '1' MONTH", ["text"]),  # 28 Feb: DuckDB's month arithmetic
        ("d = CAST('2026-02-14' AS DATE)", ["feb", "text"]),
        ("d BETWEEN '2026-01-31' AND '2026-02-01'", ["jan", "feb", "text"]),
        ("d = TIMESTAMP '2026-01-31 12:00'", ["text"]),  # a date is midnight: not 31 Jan at noon
        ("n = 150", ["feb", "text"]),
        ("n IN (5, 250)", ["jan", "text"]),
        ("n > 100.5", ["feb", "text"]),
        ("n <> 100", ["jan", "feb", "text"]),
        ("-n < 0", "all"),  # an expression of the column: not judged
        ("n = '150'", "all"),  # text against a number: DuckDB's cast, not judged
        ("x = 0.1", ["jan"]),  # compared as DOUBLE: 0.1 is the file's maximum exactly
        ("x > 1", ["feb"]),  # "inf" is no number lakegate trusts: no maximum, still kept
        ("x < -2", []),
        ("s >= 'n'", ["feb"]),  # a long maximum is not kept: no upper bound
        ("s < 'b'", ["jan"]),
        ("p > 9.99", ["feb"]),
        ("p = 0.05", ["jan"]),
        ("d IS NULL", "all"),
        ("d = DATE '2026-01-05' AND n = 150", ["text"]),
    ],
)  # fmt: skip
def test_column_statistics_narrow_the_files(where: str, expected: object) -> None:
    every = [f.key for f in STATS.files]
    sql = f"SELECT * FROM s.m WHERE {where}"
    refs = references(sqlglot.parse_one(sql, read="duckdb"), {("s", "m"): {c.name for c in STATS.columns}})
    found = [f.key for f in FileIndex(STATS).select(refs.get(("s", "m")))]
    assert found == (every if expected == "all" else expected), sql


def test_literals_are_read_as_duckdb_reads_them() -> None:
    def value(sql: str) -> object:
        found = pruning.literal(sqlglot.parse_one(f"SELECT {sql}", read="duckdb").expressions[0])
        return None if found is None else found[1]

    assert value("DATE '2024-01-31' + INTERVAL 1 MONTH") == dt.datetime(2024, 2, 29)
    assert value("DATE '2024-03-31' - INTERVAL '1' MONTH") == dt.datetime(2024, 2, 29)
    assert value("DATE '2024-02-29' + INTERVAL 1 YEAR") == dt.datetime(2025, 2, 28)
    assert value("DATE '1998-12-01' - INTERVAL '90' DAY") == dt.datetime(1998, 9, 2)
    assert value("TIMESTAMP '2024-01-01 10:30'") == dt.datetime(2024, 1, 1, 10, 30)
    assert value("-(5)") is not None and value("-'a'") is None
    assert value("DATE 'soon'") is None and value("DATE '2024-01-01' + INTERVAL 1 HOUR") is None


@pytest.fixture(scope="module")
def lake(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[App, QueryEngine, dict[tuple[str, str], int]]]:
    from lakegate.app import open_app

    app = open_app(tmp_path_factory.mktemp("pruning") / "home", create=True)
    sizes = {}
    for n, p in enumerate(ALL):
        rows = range(3 + len(p["region"]))  # each file its own content and ranges
        lines = []
        for i in rows:
            code = "" if p["region"] == "APAC" and p["dt"] == DAYS[1] else f"{chr(97 + n)}{i}"  # NULLs only
            day = f"2025-12-{1 + (n * 3 + i) % 28:02d}"
            lines.append(f"{n * 10 + i},{n * 10 + i * 1.5},{day},{code}\n")
        body = "id,amount,day,code\n" + "".join(lines)
        if p == ALL[-1]:  # the newest file has no code column
            body = "id,amount,day\n" + "".join(line.rsplit(",", 1)[0] + "\n" for line in lines)
        deliver(app, f"landing/s/t/region={p['region']}/dt={p['dt']}/a.csv", body.encode())
        sizes[(p["region"], p["dt"])] = len(body)
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    yield app, engine, sizes
    engine.close()
    app.close()


_value = st.sampled_from([*REGIONS, *DAYS, "EU ", "", "2026-01-02x", "Z"])
_number = st.sampled_from(["0", "5", "10.5", "24", "-1", "47", "80", "1e2"])
_day = st.sampled_from(["DATE '2025-12-05'", "'2025-12-14'", "DATE '2025-11-30' + INTERVAL 1 MONTH",
                        "DATE '2026-01-10' - INTERVAL '20' DAY"])  # fmt: skip
_code = st.sampled_from(["'a'", "'c1'", "'e'", "'h9'", "'zz'"])
_op = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
_condition = st.one_of(
    st.tuples(st.sampled_from(["region", "dt"]), _op, _value).map(lambda c: f"{c[0]} {c[1]} '{c[2]}'"),
    st.tuples(st.sampled_from(["region", "dt"]), st.lists(_value, min_size=1, max_size=3)).map(
        lambda c: f"{c[0]} IN ({', '.join(repr(v) for v in c[1])})"
    ),
    st.tuples(st.sampled_from(["region", "dt"]), _value, _value).map(
        lambda c: f"{c[0]} BETWEEN '{c[1]}' AND '{c[2]}'"
    ),
    st.tuples(st.sampled_from(["id", "amount"]), _op, _number).map(lambda c: f"{c[0]} {c[1]} {c[2]}"),
    st.tuples(_op, _day).map(lambda c: f"day {c[0]} {c[1]}"),
    st.tuples(_op, _code).map(lambda c: f"code {c[0]} {c[1]}"),
    st.tuples(_number, _number).map(lambda c: f"amount BETWEEN {c[0]} AND {c[1]}"),
    st.sampled_from(["region = 'EU' OR dt = '2026-01-01'", "id IN (1, 31, 62)", "code IS NULL"]),
)


@settings(max_examples=80, deadline=None)
@given(conditions=st.lists(_condition, min_size=1, max_size=3))
def test_pruned_answers_equal_unpruned_ones_and_are_charged_for_what_was_kept(
    lake: tuple[App, QueryEngine, dict[tuple[str, str], int]], conditions: list[str]
) -> None:
    app, engine, sizes = lake
    sql = f"SELECT region, dt, id, amount, day, code FROM s.t WHERE {' AND '.join(conditions)} ORDER BY id"
    result = engine.execute(sql)
    unpruned = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        unpruned.planner._index = _Everything  # type: ignore[method-assign]
        expected = unpruned.execute(sql)
    finally:
        unpruned.close()
    assert result.table.to_pylist() == expected.table.to_pylist(), sql
    plan = engine.plan(sql)
    read = {tuple(p.split("/")[-3:-1]) for p in plan.keys}
    charged = {k for k in sizes if (f"region={k[0]}", f"dt={k[1]}") in read}
    assert {(r["region"], r["dt"]) for r in result.table.to_pylist()} <= charged, sql
    assert result.bytes_estimated == sum(sizes[k] for k in charged) == plan.bytes_estimated, sql
    assert result.bytes_scanned <= result.bytes_estimated


class _Everything(FileIndex):
    def select(self, refs: object) -> list[FileRecord]:
        return self.files


def test_a_query_reads_only_the_files_it_needs(
    lake: tuple[App, QueryEngine, dict[tuple[str, str], int]],
) -> None:
    _app, engine, _sizes = lake
    everything = engine.plan("SELECT * FROM s.t")
    assert everything.files == everything.files_total == 9
    one = engine.plan("SELECT * FROM s.t WHERE dt = '2026-01-02' AND region = 'EU'")
    assert one.files == 1 and one.keys[0].endswith("region=EU/dt=2026-01-02/a.csv")
    by_stats = engine.plan("SELECT * FROM s.t WHERE id >= 80")  # only the last file's ids reach 80
    assert by_stats.files == 1 and "region=US/dt=2026-01-03" in by_stats.keys[0]
    none = engine.plan("SELECT count(*) FROM s.t WHERE id > 1000")
    assert none.files == 0 and none.bytes_estimated == 0
    assert engine.execute("SELECT count(*) AS n FROM s.t WHERE id > 1000").table.to_pylist() == [{"n": 0}]


def test_columns_the_caller_may_not_see_never_shape_its_plan(
    lake: tuple[App, QueryEngine, dict[tuple[str, str], int]],
) -> None:
    _app, engine, _sizes = lake
    names = ["id", "amount", "day", "code", "region", "dt"]

    def without_id(_database: str, _table: str, _names: list[str]) -> Access:
        return Access({n: None for n in names if n != "id"}, None)

    with pytest.raises(QueryError):  # id is unknown to this caller …
        engine.execute("SELECT count(*) FROM s.t WHERE id > 1000", access=without_id)
    # … and its statistics did not judge the files: the plan is the table's whole
    assert engine.plan("SELECT count(*) FROM s.t WHERE id > 1000", access=without_id).files == 9
    assert engine.plan("SELECT count(*) FROM s.t WHERE amount > 1000", access=without_id).files == 0


def test_the_byte_limit_counts_only_the_partitions_named(
    lake: tuple[App, QueryEngine, dict[tuple[str, str], int]],
) -> None:
    _app, engine, sizes = lake
    one_day = sum(v for (r, d), v in sizes.items() if d == "2026-01-01")
    sql = "SELECT count(*) AS n FROM s.t WHERE dt = '2026-01-01'"
    assert engine.execute(sql, max_bytes=one_day).table.to_pylist() == [{"n": 7 + 5 + 5}]
    with pytest.raises(QueryError) as refused:
        engine.execute("SELECT count(*) FROM s.t", max_bytes=one_day)
    assert refused.value.code == "query.bytes_limit"


def test_bytes_read_are_measured_after_the_query(app: App) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 200_000
    data = pa.table({"i": pa.array(range(n)), "s": pa.array([f"{'x' * 40}{k}" for k in range(n)])})
    sink = io.BytesIO()
    pq.write_table(data, sink, row_group_size=50_000, compression="none")
    deliver(app, "landing/w/wide/a.parquet", sink.getvalue())
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        narrow = engine.execute("SELECT sum(i) AS n FROM w.wide")
        wide = engine.execute("SELECT max(s) AS s FROM w.wide")
        few = engine.execute("SELECT i FROM w.wide WHERE i < 10")  # one row group of four
        stream = engine.stream("SELECT s FROM w.wide")
        streamed = sum(b.num_rows for b in stream)
    finally:
        engine.close()
    size = len(sink.getvalue())
    assert narrow.bytes_estimated == wide.bytes_estimated == size
    assert 0 < narrow.bytes_scanned < size / 4 < wide.bytes_scanned <= size
    assert few.bytes_scanned < narrow.bytes_scanned
    assert streamed == n and narrow.bytes_scanned < stream.bytes_scanned <= size


def test_bytes_stay_exact_when_a_busy_instance_is_retired(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from lakegate.query.engines import instances as engine_module

    monkeypatch.setattr(engine_module, "_RETIRE_AFTER", 2)
    body = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(2000))
    deliver(app, "landing/r/t/a.csv", body)
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        held = engine.stream("SELECT * FROM r.t")  # keeps its instance busy throughout
        next(iter(held))
        [first] = engine._instances.values()
        answers = [engine.execute("SELECT sum(v) AS s FROM r.t") for _ in range(5)]
        held.close()
        now = list(engine._instances.values())
    finally:
        engine.close()
    assert {a.bytes_scanned for a in answers} == {len(body)}
    assert first.retiring and first not in now  # a fresh instance took over; the old one's log went with it


_partition = st.fixed_dictionaries(
    {"dt": st.sampled_from(DAYS), "region": st.sampled_from(REGIONS)},
    optional={"hr": st.sampled_from(["00", "12", "23"])},  # a key older files lack
)


@settings(max_examples=60, deadline=None)
@given(
    partitions=st.lists(_partition, min_size=1, max_size=30),
    grown=st.integers(0, 30),
    conditions=st.lists(_condition.filter(lambda c: c.startswith(("dt", "region", "id"))), max_size=3),
)
def test_an_index_built_on_an_earlier_one_selects_as_a_fresh_one(
    partitions: list[dict[str, str]], grown: int, conditions: list[str]
) -> None:
    columns = {"id": "BIGINT"}
    files = [
        _file(f"f{i}", p, columns, id={"min": i * 10, "max": i * 10 + 9, "nulls": 0})
        for i, p in enumerate(partitions)
    ]
    cut = min(grown, len(files))
    earlier_table = _table("g", ["dt", "region", "hr"], files[:cut], columns)
    table = _table("g", ["dt", "region", "hr"], files, columns)
    sql = f"SELECT * FROM s.g {'WHERE ' + ' AND '.join(conditions) if conditions else ''}"
    refs = references(sqlglot.parse_one(sql, read="duckdb"), {("s", "g"): {"id", "dt", "region", "hr"}})
    earlier = FileIndex(earlier_table)
    earlier.select(refs.get(("s", "g")))  # builds the parts the conditions need
    built_on = FileIndex(table, earlier=earlier)
    expected = (
        [f.key for f in files if all(_holds(c, f) for c in (refs.get(("s", "g")) or [[]])[0])]
        if refs.get(("s", "g"))
        else [f.key for f in files]
    )
    assert [f.key for f in built_on.select(refs.get(("s", "g")))] == expected
    assert [f.key for f in FileIndex(table).select(refs.get(("s", "g")))] == expected


def _holds(c: pruning.Condition, f: FileRecord) -> bool:
    """Whether file ``f`` may hold ``c``, judged file by file without any index."""
    if c.column == "id":
        values = [pruning._as(v, "BIGINT") for v in c.values]
        stats = f.stats["id"]
        return None in values or pruning._may_hold(c.op, values, stats["min"], stats["max"])
    value = f.partition.get(c.column)
    if value is None or any(kind != "text" for kind, _v in c.values):
        return True
    return pruning._may_hold(c.op, [v for _k, v in c.values], value, value)


def test_an_index_is_not_built_on_one_of_other_files_under_the_same_names() -> None:
    columns = {"id": "BIGINT"}
    old = _table("g", [], [_file("f", {}, columns, id={"min": 0, "max": 9})], columns)
    new_file = replace(_file("f", {}, columns, id={"min": 100, "max": 109}), sha256="other content")
    new = _table("g", [], [new_file], columns)  # dropped, delivered again under the same key
    sql = "SELECT * FROM s.g WHERE id > 50"
    refs = references(sqlglot.parse_one(sql, read="duckdb"), {("s", "g"): {"id"}}).get(("s", "g"))
    earlier = FileIndex(old)
    assert earlier.select(refs) == []
    assert [f.key for f in FileIndex(new, earlier=earlier).select(refs)] == ["f"]
