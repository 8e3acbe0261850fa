"""Validation rules: each check on its own, severities, and what a delivery sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lakegate.app import App
from lakegate.config import load_settings
from lakegate.crawler.detect import Detected
from lakegate.crawler.evolve import Column
from lakegate.crawler.infer import FilePlan
from lakegate.errors import ConfigError
from lakegate.home import resolve_home
from lakegate.ingest.pipeline import Outcome, Pipeline
from lakegate.ingest.routing import Router
from lakegate.ingest.rules import Facts, checks


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
        ({"check": "size"}, "the size rule takes min and/or max"),
        ({"check": "rows", "min": 5, "max": 1}, "min 5 is above max 1"),
        ({"check": "required_columns"}, "takes a list of columns"),
        ({"check": "extension", "min": 1}, "the extension rule takes no parameters"),
        ({"check": "unique"}, "`datasets[0].rules[0].check`"),
        ({"check": "size", "max": 5, "severity": "fatal"}, "`datasets[0].rules[0].severity`"),
    ],
)
def test_bad_rules_are_explained(tmp_path: Path, rule: dict[str, Any], message: str) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "lakegate.yaml").write_text(yaml.safe_dump({"datasets": [{**SALES, "rules": [rule]}]}))
    with pytest.raises(ConfigError) as err:
        load_settings(resolve_home(tmp_path))
    assert message in str(err.value)
