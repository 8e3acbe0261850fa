"""Names a delivery may carry that lakegate cannot keep (not UTF-8, too long) get a verdict, never
an endless retry; names are printed on one line, their control characters escaped."""

from __future__ import annotations

import os
from pathlib import Path

from lakegate.app import App
from lakegate.cli.common import status_line as _status_line
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.quarantine import Quarantine
from tests.hostile.test_links import take_all
from tests.ingest.test_pipeline import landing_keys


def test_a_name_that_is_not_utf8_is_quarantined_once(app: App) -> None:
    folder = app.home.landing / "s" / "t"
    folder.mkdir(parents=True)
    (Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.csv"))).write_bytes(b"id\n1\n")
    [outcome] = take_all(app)
    assert outcome.kind == "quarantined" and outcome.reason_code == "reject.name"
    assert "not UTF-8" in outcome.reason
    assert landing_keys(app) == []
    [obj] = Quarantine(app.catalog, app.store).list()
    assert obj.source_key == "landing/s/t/caf%E9.csv"
    assert app.store.read(obj.target_key) == b"id\n1\n"  # kept whole, under a name that can be stored
    assert take_all(app) == []
    assert app.catalog.table("s", "t") is None


def test_names_too_long_to_store_are_quarantined(app: App) -> None:
    name = "x" * 244 + ".csv.bz2"
    app.store.write(f"landing/s/t/{name}", b"BZh9")  # any content: the name decides
    [outcome] = take_all(app)
    assert outcome.reason_code == "reject.name"
    assert "252 bytes" in outcome.reason
    assert landing_keys(app) == []


def test_status_lines_escape_what_a_name_could_do_to_a_terminal() -> None:
    forged = Outcome("accepted", "landing/s/t/new\nline\x1b[2J.csv", table="s.t", rows=1)
    line = _status_line(forged)
    assert "\n" not in line and "\x1b" not in line
    assert "new\\x0aline\\x1b[2J.csv" in line
