"""Validation rules: each check on its own, severities, and what a delivery sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lakegate.app import App
from lakegate.config import load_settings
from lakegate.crawler.detect import Detected
from lakegate.duck.readers import FilePlan
from lakegate.errors import ConfigError
from lakegate.home import resolve_home
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.ingest.rules import Facts, checks
from lakegate.schema import Column


def facts(key: str = "landing/a/x.csv", size: int = 100, fmt: str = "csv", compression: str = "none",
          columns: tuple[str, ...] = ("Order ID", "amount"), rows: int = 10) -> Facts:  # fmt: skip
    cols = [Column(o.lower().replace(" ", "_"), o, "VARCHAR") for o in columns]
    return Facts(key, size, Detected(fmt, compression), FilePlan(fmt, {}, cols, rows))


@pytest.mark.parametrize(
    ("check", "params", "case", "found"),
    [
        ("size", {"min": 10, "max": 1000}, facts(size=100), None),
        ("size", {"min": 101}, facts(size=100), "the file has 100 bytes, fewer than 101"),
        ("size", {"max": 99}, facts(size=100), "the file has 100 bytes, more than 99"),
        ("rows", {"min": 1}, facts(rows=0), "the file has 0 rows, fewer than 1"),
        ("rows", {"max": 10}, facts(rows=10), None),
        ("extension", {}, facts(key="landing/a/x.csv"), None),
        ("extension", {}, facts(key="landing/a/x.CSV.gz", compression="gzip"), None),
        (
            "extension",
            {},
            facts(key="landing/a/x.json", fmt="parquet"),
            "the content is parquet but the name has .json",
        ),
        (
            "extension",
            {},
            facts(key="landing/a/x.csv", compression="gzip"),
            "gzip-compressed but the name does not end",
        ),
        (
            "extension",
            {},
            facts(key="landing/a/x.csv.gz"),
            "the name ends in .gz but the content is not compressed",
        ),
        ("extension", {}, facts(key="landing/a/README"), "the content is csv but the name has no extension"),
        ("required_columns", {"columns": ["order_id", "Amount"]}, facts(), None),
        (
            "required_columns",
            {"columns": ["order_id", "customer"]},
            facts(),
            "required columns are missing: customer",
        ),
        ("allowed_columns", {"columns": ["order_id", "amount", "note"]}, facts(), None),
        ("allowed_columns", {"columns": ["order_id"]}, facts(), "columns not in the dataset's list: amount"),
    ],
)
def test_each_check(check: str, params: dict[str, Any], case: Facts, found: str | None) -> None:
    finding = checks()[check](params, case)
    if found is None:
        assert finding is None
    else:
        assert finding is not None and found in finding.message


SALES: dict[str, Any] = {
    "name": "sales",
    "key": "landing/{customer}/{name}",
    "database": "{customer}",
    "table": "sales",
    "rules": [
        {"check": "required_columns", "columns": ["id", "amount"]},
        {"check": "rows", "min": 1},
        {"check": "extension", "severity": "warn"},
        {"check": "allowed_columns", "columns": ["id", "amount", "note"], "severity": "warn"},
    ],
}


def test_rules_reject_or_warn_as_declared(app: App) -> None:
    app.settings.datasets = [SALES]  # type: ignore[list-item]
    outcomes: list[Outcome] = []
    pipeline = Pipeline(
        app.catalog, app.store, router=Router.from_settings(app.settings), on_outcome=outcomes.append
    )
    deliveries = {
        "landing/acme/good.csv": b"id,amount\n1,2.5\n",
        "landing/acme/odd.txt.csv": b"id,amount,extra\n1,2.5,x\n",
        "landing/acme/data.json": b"id,amount\n2,3\n",
        "landing/acme/missing.csv": b"id,note\n1,x\n",
        "landing/acme/header-only.csv": b"id,amount\n",
    }
    for key, data in deliveries.items():
        app.store.write(key, data)
        pipeline.process(key)
    by_file = {o.source_key.rsplit("/", 1)[-1]: o for o in outcomes}
    assert by_file["good.csv"].kind == "accepted" and by_file["good.csv"].warnings == []
    assert by_file["odd.txt.csv"].warnings == ["allowed_columns: columns not in the dataset's list: extra"]
    assert by_file["data.json"].kind == "accepted"
    assert by_file["data.json"].warnings == ["extension: the content is csv but the name has .json"]
    missing = by_file["missing.csv"]
    assert (missing.kind, missing.reason_code) == ("quarantined", "reject.rule.required_columns")
    assert missing.reason == "dataset 'sales', rule required_columns: required columns are missing: amount"
    [record] = [o for o in app.catalog.objects_in(("quarantined",)) if o.source_key.endswith("missing.csv")]
    assert record.reason_details is not None and record.reason_details["missing_columns"] == ["amount"]
    assert (
        record.reason_details["other_findings"] == [] if "other_findings" in record.reason_details else True
    )
    assert by_file["header-only.csv"].reason_code == "reject.rule.rows"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"check": "size"}, "the size rule needs min or max"),
        ({"check": "size", "min": -1}, "min and max are whole numbers from 0"),
        ({"check": "rows", "min": 5, "max": 1}, "min 5 is above max 1"),
        ({"check": "required_columns"}, "the required_columns rule needs columns"),
        ({"check": "extension", "min": 1}, "the extension rule does not take min (it takes no parameters)"),
        ({"check": "regex", "column": "a"}, "the regex rule needs pattern"),
        (
            {"check": "regex", "column": "a", "pattern": "(", "min": 1},
            "does not take min (it takes column, pattern)",
        ),
        ({"check": "regex", "column": "a", "pattern": "("}, "is not a regular expression"),
        ({"check": "range", "column": "a", "min": 1, "max": "2026-01-01"}, "both numbers or both dates"),
        ({"check": "range", "column": "a", "min": "yesterday"}, "neither a number nor an ISO date"),
        ({"check": "range", "column": "a", "min": "2026-02-01", "max": "2026-01-01"}, "is after max"),
        ({"check": "types", "types": {"a": "numbr"}}, "types.a: 'numbr' is not a type"),
        ({"check": "encoding", "values": ["latin-9"]}, "unknown encodings ['latin-9']"),
        ({"check": "age", "max_age": "a week"}, "'a week' is not a duration"),
        ({"check": "age", "max_age": "7d", "field": "customer"}, "is not a date field of the key"),
        ({"check": "sorted"}, "`datasets[0].rules[0].check`"),
        ({"check": "size", "max": 5, "severity": "fatal"}, "`datasets[0].rules[0].severity`"),
    ],
)
def test_bad_rules_are_explained(tmp_path: Path, rule: dict[str, Any], message: str) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "lakegate.yaml").write_text(yaml.safe_dump({"datasets": [{**SALES, "rules": [rule]}]}))
    with pytest.raises(ConfigError) as err:
        load_settings(resolve_home(tmp_path))
    assert message in str(err.value)


def judged(
    tmp_path: Path, data: bytes, rules: list[dict[str, Any]], name: str = "x.csv", threads: int = 1
) -> Any:
    """Judge ``data`` with ``rules`` as the pipeline would; the Rejection or the warnings."""
    from lakegate import duck
    from lakegate.crawler.detect import detect
    from lakegate.errors import Rejection
    from lakegate.ingest.judging import judged as judged_file

    path = tmp_path / name
    path.write_bytes(data)
    from lakegate.config import DatasetSettings
    from lakegate.ingest.routing import Dataset

    dataset = Dataset(
        DatasetSettings(name="d", key="landing/{c}/{f}", database="{c}", table="t", rules=rules)
    )
    route = dataset.route(f"landing/acme/{name}")
    assert route is not None
    try:
        with judged_file(
            duck.connect(threads=threads), route, str(path), key=f"landing/acme/{name}",
            size=len(data), detected=detect(data[:65536], data[-16:], len(data)),
        ) as found:  # fmt: skip
            return found.warnings
    except Rejection as exc:
        return exc


ORDERS = (
    b"id,status,amount,email,ordered\n"
    b"1,shipped,10.5,a@x.com,2026-11-01\n"
    b"2,pending,unknown,b@x.com,2026-11-02\n"
    b"3,,7,not-an-email,2026-11-03\n"
    b"3,lost,-2,c@x.com,2025-01-01\n"
)


@pytest.mark.parametrize(
    ("rule", "message", "rows"),
    [
        ({"check": "not_null", "columns": ["status", "id"]}, "status is empty in 1 row (row 3)", [3]),
        ({"check": "unique", "columns": ["id"]},
         "2 rows share a value of id with another row: '3' (rows 3, 4)", [3, 4]),
        ({"check": "allowed_values", "column": "status", "values": ["shipped", "pending"]},
         "status is not one of the allowed values in 1 row: 'lost' (row 4)", [4]),
        ({"check": "regex", "column": "email", "pattern": "[^@]+@[^@]+"},
         "email does not match '[^@]+@[^@]+' in 1 row: 'not-an-email' (row 3)", [3]),
        ({"check": "range", "column": "ordered", "min": "2026-01-01"},
         "ordered is not a date ≥ 2026-01-01 in 1 row: '2025-01-01' (row 4)", [4]),
        ({"check": "types", "types": {"amount": "number", "id": "integer"}},
         "amount is not a number in 1 row: 'unknown' (row 2)", [2]),
        ({"check": "types", "types": {"Amount": "decimal(10,2)"}},
         "amount is not DECIMAL(10,2) in 1 row", [2]),
        ({"check": "not_null", "columns": ["customer"]}, "the file has no column customer", None),
        ({"check": "encoding", "values": ["ascii"]}, None, None),
    ],
)  # fmt: skip
def test_value_checks_name_the_failing_rows(
    tmp_path: Path, rule: dict[str, Any], message: str | None, rows: list[int] | None
) -> None:
    found = judged(tmp_path, ORDERS, [rule])
    if message is None:
        assert found == []
        return
    assert found.code == f"reject.rule.{rule['check']}"
    assert message in str(found)
    assert found.details.get("rows") == rows


def test_range_on_numbers_counts_text_as_out_of_range(tmp_path: Path) -> None:
    found = judged(tmp_path, ORDERS, [{"check": "range", "column": "amount", "min": 0, "max": 100}])
    assert "amount is not a number between 0 and 100 in 2 rows" in str(found)
    assert found.details["rows"] == [2, 4]
    [failure] = found.details["failures"]
    assert sorted(failure["values"]) == ["-2.0", "unknown"] or sorted(failure["values"]) == ["-2", "unknown"]


def test_value_checks_of_one_file_share_one_query_and_all_findings_are_kept(tmp_path: Path) -> None:
    rules = [
        {"check": "not_null", "columns": ["status"]},
        {"check": "unique", "columns": ["id"], "severity": "warn"},
        {"check": "types", "types": {"amount": "number"}},
    ]
    found = judged(tmp_path, ORDERS, rules)
    assert found.code == "reject.rule.not_null"
    assert found.details["other_findings"] == ["types: amount is not a number in 1 row: 'unknown' (row 2)"]


def test_warnings_of_value_checks_are_returned(tmp_path: Path) -> None:
    warnings = judged(
        tmp_path, ORDERS, [{"check": "unique", "columns": ["id", "status"], "severity": "warn"}]
    )
    assert warnings == []
    warnings = judged(tmp_path, ORDERS, [{"check": "unique", "columns": ["id"], "severity": "warn"}])
    assert warnings == ["unique: 2 rows share a value of id with another row: '3' (rows 3, 4)"]


def test_row_numbers_follow_the_file_in_a_large_parallel_read(tmp_path: Path) -> None:
    lines = [b"id,code"] + [
        f"{i},{'bad' if i in (7, 150_001, 299_998) else 'ok'}".encode() for i in range(1, 300_001)
    ]
    found = judged(
        tmp_path, b"\n".join(lines) + b"\n", [{"check": "allowed_values", "column": "code", "values": ["ok"]}]
    )
    assert found.details["rows"] == [7, 150_001, 299_998]


def test_header_encoding_and_json_values(tmp_path: Path) -> None:
    no_header = judged(tmp_path, b"1,2026-01-01,x\n2,2026-01-02,y\n", [{"check": "header"}])
    assert no_header.code == "reject.rule.header" and "col1, col2, col3" in str(no_header)
    bom = judged(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n", [{"check": "encoding", "values": ["utf-8"]}])
    assert bom.code == "reject.rule.encoding" and "byte-order mark" in str(bom)
    assert judged(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n", [{"check": "encoding", "values": ["utf-8-sig"]}]) == []
    accents = judged(tmp_path, "a,b\n1,café\n2,tea\n".encode(), [{"check": "encoding", "values": ["ascii"]}])
    assert "b has text that is not ASCII in 1 row: 'café' (row 1)" in str(accents)
    ndjson = b'{"Order ID": 1, "tags": ["a"]}\n{"Order ID": null, "tags": []}\n'
    found = judged(tmp_path, ndjson, [{"check": "not_null", "columns": ["order_id"]}], name="x.json")
    assert "order_id is empty in 1 row (row 2)" in str(found)


def test_a_check_the_engine_refuses_says_so_and_blames_the_rule_not_the_file(tmp_path: Path) -> None:
    found = judged(tmp_path, ORDERS, [{"check": "regex", "column": "email", "pattern": "(?=a)b"}])
    assert found.code == "reject.rule.regex"
    assert "the check could not run on this file:" in str(found) and "engine_error" in found.details


def test_value_checks_on_parquet_read_the_file_themselves(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "src.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT i AS id, CASE WHEN i = 3 THEN NULL ELSE 'x' END AS tag FROM range(1, 6) t(i)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    found = judged(tmp_path, path.read_bytes(), [{"check": "not_null", "columns": ["tag"]}], name="x.parquet")
    assert "tag is empty in 1 row (row 3)" in str(found)


def test_blank_text_counts_as_empty(tmp_path: Path) -> None:
    found = judged(tmp_path, b'id,name\n1,"   "\n2,b\n', [{"check": "not_null", "columns": ["name"]}])
    assert "name is empty in 1 row (row 1)" in str(found)


def test_the_encoding_rule_can_insist_on_utf8(tmp_path: Path) -> None:
    latin = "name,city\nJosé,Zürich\n".encode("latin-1")
    found = judged(tmp_path, latin, [{"check": "encoding", "values": ["utf-8"]}])
    assert found.code == "reject.rule.encoding" and "the file is latin-1 text" in str(found)
    assert judged(tmp_path, latin, [{"check": "encoding", "values": ["utf-8", "latin-1"]}]) == []
