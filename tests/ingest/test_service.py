"""The ingest service: settling, startup clean-up and resumption."""

from __future__ import annotations

import time

from lakegate.app import App
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.service import IngestService


def wait_for(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_partial_copies_of_a_killed_run_are_removed_at_start(app: App) -> None:
    stale = app.home.lake / "s" / "t" / ".lakegate-abc123.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a file")
    in_landing = app.home.landing / "s" / "t" / ".lakegate-being-put.tmp"
    in_landing.parent.mkdir(parents=True)
    in_landing.write_bytes(b"a `lakegate put` still writing")
    service = IngestService(app)
    service.start()
    service.stop()
    assert not stale.exists()
    assert in_landing.exists()


def test_a_file_still_being_written_is_not_taken(app: App) -> None:
    app.settings.ingest.settle_seconds = 0.5
    outcomes: list[Outcome] = []
    service = IngestService(app, on_outcome=outcomes.append)
    service.start()
    try:
        path = app.home.landing / "s" / "t" / "slow.csv"
        path.parent.mkdir(parents=True)
        with path.open("wb") as out:
            out.write(b"id\n")
            for i in range(8):  # a slow writer: a row every 0.2 s, longer than one settle period in total
                out.write(b"%d\n" % i)
                out.flush()
                time.sleep(0.2)
        wait_for(lambda: outcomes)
    finally:
        service.stop()
    assert [(o.kind, o.rows) for o in outcomes] == [("accepted", 8)]
