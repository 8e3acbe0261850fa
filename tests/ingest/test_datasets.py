"""Datasets route keys by their templates: first match wins, formats are enforced, and a key no
dataset takes is explained."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakegate.app import App
from lakegate.config import Settings, example_config, load_settings
from lakegate.errors import ConfigError
from lakegate.home import resolve_home
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from tests.ingest.test_pipeline import rows

SALES = {
    "name": "sales",
    "key": "landing/{customer}/sales_{date:%Y%m%d}.csv",
    "database": "{customer}",
    "table": "sales",
    "partition": {"dt": "{date:%Y-%m-%d}"},
    "formats": ["csv"],
    "compressions": ["none"],
}
EVENTS = {
    "name": "events",
    "key": "landing/{customer}/events/{day:%Y-%m-%d}/*.ndjson.gz",
    "database": "{customer}",
    "table": "events",
    "partition": {"day": "{day:%Y-%m-%d}"},
    "formats": ["json"],
    "compressions": ["gzip"],
}


def pipeline(app: App, datasets: list[dict[str, Any]], default: bool) -> tuple[Pipeline, list[Outcome]]:
    app.settings.datasets = datasets  # type: ignore[assignment]  # validated on assignment
    app.settings.ingest.default_route = default
    outcomes: list[Outcome] = []
    return Pipeline(
        app.catalog, app.store, router=Router.from_settings(app.settings), on_outcome=outcomes.append
    ), outcomes


def deliver(app: App, p: Pipeline, key: str, data: bytes) -> None:
    app.store.write(key, data)
    p.process(key)


def test_three_customers_two_datasets(app: App) -> None:
    p, outcomes = pipeline(app, [SALES, EVENTS], default=False)
    for customer, n in (("acme", 1), ("globex", 2), ("Initech Ltd", 3)):
        deliver(app, p, f"landing/{customer}/sales_2026112{n}.csv", b"id,amount\n%d,%d.5\n" % (n, n))
        events = gzip.compress(b'{"id": %d, "kind": "click"}\n{"id": %d, "kind": "view"}\n' % (n, n))
        deliver(app, p, f"landing/{customer}/events/2026-11-2{n}/part-0.ndjson.gz", events)
    deliver(app, p, "landing/acme/sales_20261128.csv", gzip.compress(b"id,amount\n9,9\n"))  # not plain CSV
    deliver(app, p, "landing/acme/events/2026-11-28/part-1.ndjson.gz", b'{"id": 1}\n')  # not gzip
    deliver(app, p, "landing/acme/sales_2026-11-29.csv", b"id\n1\n")  # the date in another shape
    deliver(app, p, "landing/acme/sales_20261341.csv", b"id\n1\n")  # not a date

    accepted = sorted((o.table, o.partition) for o in outcomes if o.kind == "accepted")
    assert accepted == [
        ("acme.events", "day=2026-11-21"),
        ("acme.sales", "dt=2026-11-21"),
        ("globex.events", "day=2026-11-22"),
        ("globex.sales", "dt=2026-11-22"),
        ("initech_ltd.events", "day=2026-11-23"),
        ("initech_ltd.sales", "dt=2026-11-23"),
    ]
    rejected = {
        o.source_key.rsplit("/", 1)[-1]: (o.reason_code, o.reason)
        for o in outcomes
        if o.kind == "quarantined"
    }
    assert rejected["sales_20261128.csv"] == (
        "reject.format",
        "dataset 'sales' accepts the compressions none; this file is gzip",
    )
    assert rejected["part-1.ndjson.gz"] == (
        "reject.format",
        "dataset 'events' accepts the compressions gzip; this file is none",
    )
    for name in ("sales_2026-11-29.csv", "sales_20261341.csv"):
        assert rejected[name] == ("reject.route", "no dataset matches this key")
    assert rows(app, "SELECT id, amount, dt FROM globex.sales") == [(2, 2.5, "2026-11-22")]
    assert rows(app, "SELECT count(*), min(day) FROM initech_ltd.events") == [(2, "2026-11-23")]
    assert [i.key for i in app.store.list("lake/acme/")] == [
        "lake/acme/events/day=2026-11-21/part-0.ndjson.gz",
        "lake/acme/sales/dt=2026-11-21/sales_20261121.csv",
    ]


def test_the_first_matching_dataset_wins_and_the_default_route_catches_the_rest(app: App) -> None:
    everything = {"name": "all", "key": "landing/{db}/{file_name}", "database": "{db}", "table": "inbox"}
    p, outcomes = pipeline(app, [SALES, everything], default=True)
    deliver(app, p, "landing/acme/sales_20261126.csv", b"id\n1\n")
    deliver(app, p, "landing/acme/other.csv", b"id\n2\n")
    deliver(app, p, "landing/shop/orders/dt=1/x.csv", b"id\n3\n")  # no dataset: the folder rule
    assert [(o.kind, o.table) for o in outcomes] == [
        ("accepted", "acme.sales"),
        ("accepted", "acme.inbox"),
        ("accepted", "shop.orders"),
    ]


def test_a_key_no_dataset_takes_names_the_datasets_tried(app: App) -> None:
    p, _ = pipeline(app, [SALES, EVENTS], default=False)
    deliver(app, p, "landing/acme/notes.txt", b"hello\n")
    [obj] = app.catalog.objects_in(("quarantined",))
    assert obj.reason_code == "reject.route"
    assert obj.reason_details == {"datasets_tried": ["sales", "events"], "hint": obj.reason_details["hint"]}
    assert "datasets tried: sales, events" in obj.reason_details["hint"]


def test_the_commented_example_dataset_is_valid() -> None:
    text = example_config().split("# principals:")[0]  # the datasets' example, not the principals'
    twice = [line[4:] for line in text.splitlines() if line.startswith("# #   ")]
    example = yaml.safe_load("\n".join(line[2:] for line in twice[1:]))
    [sales] = Settings.model_validate({"datasets": example}).datasets
    assert sales.name == "sales" and len(sales.rules) == 5 and sales.schema_evolution == "evolve"


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({**SALES, "key": "landing/{customer/sales.csv"}, "`datasets[0].key`: template"),
        ({**SALES, "table": "{region}"}, "table: '{region}' uses {region}"),
        ({**SALES, "partition": {"Day": "{customer}"}}, "'Day' is not a name"),
        ({**SALES, "formats": ["xls"]}, "`datasets[0].formats[0]`"),
        ({**SALES, "tabel": "x"}, "unknown setting `datasets[0].tabel`"),
    ],
)
def test_bad_datasets_are_explained_with_their_place(
    tmp_path: Path, dataset: dict[str, Any], message: str
) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "lakegate.yaml").write_text(yaml.safe_dump({"datasets": [dataset]}))
    with pytest.raises(ConfigError) as err:
        load_settings(resolve_home(tmp_path))
    assert message in str(err.value)


def test_dataset_names_are_unique(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "lakegate.yaml").write_text(yaml.safe_dump({"datasets": [SALES, SALES]}))
    with pytest.raises(ConfigError, match="`datasets`: dataset names must be unique: sales"):
        load_settings(resolve_home(tmp_path))


def test_arrival_partitions_use_the_dataset_time_zone(app: App) -> None:
    import datetime as dt

    from lakegate.config import DatasetSettings
    from lakegate.ingest.routing import Dataset

    late_evening_utc = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    base = {"name": "d", "key": "landing/{c}/{f}", "database": "{c}", "table": "t",
            "partition": {"day": "{arrival}", "hour": "{arrival:%H}"}}  # fmt: skip
    utc = Dataset(DatasetSettings(**base)).route("landing/acme/x.csv", late_evening_utc)
    tokyo = Dataset(DatasetSettings(**base, timezone="Asia/Tokyo")).route(
        "landing/acme/x.csv", late_evening_utc
    )
    assert utc is not None and tokyo is not None
    assert utc.partition == {"day": "2026-11-26", "hour": "23"}
    assert tokyo.partition == {"day": "2026-11-27", "hour": "08"}
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        DatasetSettings(**base, timezone="Mars/Olympus")


def test_arrival_partition_of_a_delivered_file_is_its_landing_time(app: App) -> None:
    import os

    dataset = {"name": "d", "key": "landing/{c}/{f}", "database": "{c}", "table": "t",
               "partition": {"day": "{arrival}"}}  # fmt: skip
    p, outcomes = pipeline(app, [dataset], default=False)
    app.store.write("landing/acme/a.csv", b"id\n1\n")
    path = app.store.url("landing/acme/a.csv").removeprefix("file://")
    os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14 22:13 UTC
    p.process("landing/acme/a.csv")
    assert outcomes[0].partition == "day=2023-11-14"


@pytest.mark.parametrize(
    ("rule", "key", "arrival", "found"),
    [
        ({"max_age": "7d", "field": "date"}, "landing/acme/sales_20261118.csv", "2026-11-24T12:00", None),
        ({"max_age": "7d", "field": "date"}, "landing/acme/sales_20261118.csv", "2026-11-27T09:00",
         "the file arrived 9.4 days after its date 2026-11-18, more than 7d"),
        ({"max_age": "36h"}, "landing/acme/sales_20261118.csv", "2026-11-25T09:00",
         "the file is 2 days old, more than 36h"),
    ],
)  # fmt: skip
def test_age_rule(rule: dict[str, Any], key: str, arrival: str, found: str | None) -> None:
    import datetime as dt

    from lakegate.config import DatasetSettings
    from lakegate.crawler.detect import Detected
    from lakegate.duck.readers import FilePlan
    from lakegate.ingest.routing import Dataset
    from lakegate.ingest.rules import Facts, evaluate

    dataset = Dataset(DatasetSettings(**SALES, rules=[{"check": "age", **rule}], timezone="Europe/Paris"))
    route = dataset.route(key, dt.datetime.fromisoformat(arrival).replace(tzinfo=dt.UTC))
    assert route is not None and route.arrival is not None
    facts = Facts(key, 1, Detected("csv", "none"), FilePlan("csv", {}, [], 1), route.arrival, route.fields,
                  now=dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))  # fmt: skip
    [(_rule, finding)] = evaluate(dataset.rules, facts)
    assert (finding.message if finding else None) == found


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_folder_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=12
)


@given(
    _folder_text.filter(lambda v: v.strip() == v), st.dates(min_value=__import__("datetime").date(1900, 1, 1))
)
def test_dataset_partition_values_survive_their_folder_names(region: str, day: object) -> None:
    """Key made from values → routed → partition folder → read back: the same values."""
    import datetime as dt

    from lakegate.config import DatasetSettings
    from lakegate.ingest.routing import Dataset, unescape_value

    dataset = Dataset(DatasetSettings(
        name="d", key="landing/acme/{region}/{day:%Y%m%d}.csv", database="acme", table="t",
        partition={"region": "{region}", "day": "{day:%Y-%m-%d}"},
    ))  # fmt: skip
    assert isinstance(day, dt.date)
    key = dataset.key.render({"region": region, "day": dt.datetime(day.year, day.month, day.day)})
    route = dataset.route(key)
    assert route is not None
    assert route.partition == {"region": region, "day": day.isoformat()}
    folders = dict(part.split("=", 1) for part in route.partition_path.split("/"))
    assert {k: unescape_value(v) for k, v in folders.items()} == route.partition
    assert route.target_key.count("/") == 5  # no value made a folder of its own
