"""A query is charged for the partitions it can read, never fewer than DuckDB reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.errors import QueryError
from lakegate.query.engine import QueryEngine
from lakegate.query.pruning import partition_tests, reads
from tests.ingest.test_pipeline import deliver

KEYS = {("s", "t"): ["region", "dt"], ("s", "u"): ["dt"]}
REGIONS = ["APAC", "EU", "US"]
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]
ALL = [{"region": r, "dt": d} for r in REGIONS for d in DAYS]


def kept(sql: str, table: tuple[str, str] = ("s", "t")) -> list[tuple[str, str]]:
    tests = partition_tests(sql, KEYS).get(table)
    return [(p["region"], p["dt"]) for p in ALL if reads(tests, p)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("region = 'EU'", [("EU", d) for d in DAYS]),
        ("'EU' = region AND dt >= '2026-01-02'", [("EU", "2026-01-02"), ("EU", "2026-01-03")]),
        ("region IN ('EU', 'US') AND dt BETWEEN '2026-01-01' AND '2026-01-01'",
         [("EU", "2026-01-01"), ("US", "2026-01-01")]),
        ("(region <> 'EU') AND (dt < '2026-01-02' AND amount > 3)",
         [("APAC", "2026-01-01"), ("US", "2026-01-01")]),
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
    assert kept("SELECT * FROM s.u WHERE dt = '2026-01-01'") == [(p["region"], p["dt"]) for p in ALL]
    assert partition_tests("SELECT (", KEYS) == {}  # not parsed: everything


@pytest.fixture(scope="module")
def lake(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[App, QueryEngine, dict[tuple[str, str], int]]]:
    from lakegate.app import open_app

    app = open_app(tmp_path_factory.mktemp("pruning") / "home", create=True)
    sizes = {}
    for p in ALL:
        rows = range(3 + len(p["region"]))  # each file its own content: no duplicates
        body = "id,amount,day,area\n" + "".join(f"{i},{i * 1.5},{p['dt']},{p['region']}\n" for i in rows)
        deliver(app, f"landing/s/t/region={p['region']}/dt={p['dt']}/a.csv", body.encode())
        sizes[(p["region"], p["dt"])] = len(body)
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    yield app, engine, sizes
    engine.close()
    app.close()


_value = st.sampled_from([*REGIONS, *DAYS, "EU ", "", "2026-01-02x", "Z"])
_condition = st.one_of(
    st.tuples(
        st.sampled_from(["region", "dt"]), st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), _value
    ).map(lambda c: f"{c[0]} {c[1]} '{c[2]}'"),
    st.tuples(st.sampled_from(["region", "dt"]), st.lists(_value, min_size=1, max_size=3)).map(
        lambda c: f"{c[0]} IN ({', '.join(repr(v) for v in c[1])})"
    ),
    st.tuples(st.sampled_from(["region", "dt"]), _value, _value).map(
        lambda c: f"{c[0]} BETWEEN '{c[1]}' AND '{c[2]}'"
    ),
    st.sampled_from(["amount > 2", "region = 'EU' OR dt = '2026-01-01'", "id = 1"]),
)


@settings(max_examples=60, deadline=None)
@given(conditions=st.lists(_condition, min_size=1, max_size=3))
def test_the_estimate_never_misses_a_partition_duckdb_reads(
    lake: tuple[App, QueryEngine, dict[tuple[str, str], int]], conditions: list[str]
) -> None:
    _app, engine, sizes = lake
    sql = f"SELECT DISTINCT region, dt FROM s.t WHERE {' AND '.join(conditions)}"
    result = engine.execute(sql)
    returned = {(r["region"], r["dt"]) for r in result.table.to_pylist()}
    tests = partition_tests(sql, {("s", "t"): ["region", "dt"]}).get(("s", "t"))
    charged = {(p["region"], p["dt"]) for p in ALL if reads(tests, p)}
    assert returned <= charged, sql
    assert result.bytes_estimated == sum(sizes[k] for k in charged), (sql, charged)
    assert result.bytes_scanned <= result.bytes_estimated


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
    from lakegate.query import engine as engine_module

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
