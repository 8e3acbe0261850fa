"""A file built to crash or exhaust a reader costs one judge process, never the daemon: it is
quarantined with a reason, and the next file is taken as usual."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import cast

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakegate.app import App
from lakegate.errors import Rejection
from lakegate.ingest.bounds import Limits, _Nesting
from lakegate.ingest.judge_worker import Judges
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.quarantine import Quarantine


@pytest.fixture
def judges() -> Iterator[Judges]:
    made = Judges(memory_mb=2048, timeout_seconds=60)
    yield made
    made.close()


def take(app: App, judges: Judges, key: str, data: bytes) -> Outcome:
    app.store.write(key, data)
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append, judges=judges)
    for _ in range(5):  # transient failures are retried, as the service does
        try:
            pipeline.process(key)
            break
        except Exception as exc:
            if not getattr(exc, "transient", False):
                raise
    [outcome] = outcomes
    return outcome


@pytest.mark.parametrize(
    "name, data",
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        ("deep.ndjson", b'{"a":1}\n' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n"),
    ],
)
def test_a_file_that_crashes_the_reader_is_quarantined_and_the_next_is_taken(
    app: App, name: str, data: bytes
) -> None:
    judges = Judges(limits=Limits(max_nesting=1_000_000))  # past the bound: the reader itself crashes
    crashed = take(app, judges, f"landing/s/bad/{name}", data)
    assert crashed.kind == "quarantined" and crashed.reason_code == "reject.crashed_worker"
    assert "SIGSEGV" in crashed.reason
    [obj] = Quarantine(app.catalog, app.store).list()
    assert obj.attempts == 1  # it crashed a fresh process a second time before the verdict
    assert take(app, judges, "landing/s/good/b.csv", b"id\n1\n").kind == "accepted"
    judges.close()
    assert os.getpid() > 0  # this process (standing in for the daemon) is alive to assert it
    good = take(app, judges, "landing/s/good/a.csv", b"id\n1\n2\n")
    assert good.kind == "accepted" and good.rows == 2


def test_a_file_that_takes_too_long_is_stopped_and_quarantined(app: App, judges: Judges) -> None:
    slow = Judges(memory_mb=2048, timeout_seconds=0.05)
    try:
        rows = b"".join(b"%d,%d,text %d\n" % (i, i * 7, i) for i in range(1_500_000))
        started = time.monotonic()
        outcome = take(app, slow, "landing/s/slow/a.csv", b"a,b,c\n" + rows)
        assert outcome.reason_code == "reject.too_slow"
        assert "0.05 s" in outcome.reason
        assert time.monotonic() - started < 30
    finally:
        slow.close()
    assert take(app, judges, "landing/s/good/a.csv", b"id\n1\n").kind == "accepted"


def test_the_judge_process_is_restarted_after_it_dies(app: App, judges: Judges) -> None:
    take(app, judges, "landing/s/a/x.csv", b"id\n1\n")
    [first] = judges.processes()
    first.process.kill()
    first.process.wait()
    assert take(app, judges, "landing/s/a/y.csv", b"id\n2\n").kind == "accepted"
    assert [p is first for p in judges.processes()] == [False]


ZEROS = (b"0" * 1023 + b"\n") * (80 * 1024)  # 80 MB: past the 64 MB from which the ratio counts


@pytest.mark.parametrize(
    "name, pack",
    [
        ("bomb.csv.gz", lambda data: gzip.compress(data, compresslevel=9)),
        ("bomb.csv.bz2", lambda data: bz2.compress(data, compresslevel=1)),
        ("bomb.csv.zst", lambda data: pa.compress(data, codec="zstd", asbytes=True)),
    ],
)
def test_a_decompression_bomb_is_quarantined_without_being_unpacked(
    app: App, judges: Judges, name: str, pack: Callable[[bytes], bytes]
) -> None:
    outcome = take(app, judges, f"landing/s/bomb/{name}", pack(b"a,b\n" + b"1,2\n" * 100_000 + ZEROS))
    assert outcome.reason_code == "reject.decompression_limit", outcome.reason
    assert "unpacks to more than" in outcome.reason
    assert take(app, judges, "landing/s/good/a.csv.gz", gzip.compress(b"id\n1\n")).kind == "accepted"


def test_a_line_longer_than_the_limit_is_quarantined(app: App) -> None:
    judges = Judges(limits=Limits(max_line_bytes=4 * 1024**2))
    try:
        outcome = take(app, judges, "landing/s/long/a.csv", b"a,b," + b"x" * (5 * 1024**2))
        assert outcome.reason_code == "reject.line_too_long"
        assert "4 MB" in outcome.reason
        ok = take(app, judges, "landing/s/long/b.csv", b"a,b\n" + b"1,2\n" * 1_000_000)
        assert ok.kind == "accepted" and ok.rows == 1_000_000
    finally:
        judges.close()


def test_a_header_with_too_many_columns_is_quarantined_before_it_is_read(app: App, judges: Judges) -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    outcome = take(app, judges, "landing/s/wide/a.csv", f"{header}\n{','.join('1' * 100_000)}\n".encode())
    assert outcome.reason_code == "reject.too_many_columns"
    assert "100,000 columns" in outcome.reason


def test_json_nested_deeper_than_the_limit_is_refused_before_any_parser(app: App, judges: Judges) -> None:
    def doc(depth: int) -> bytes:
        return (
            b'{"s": "[[[[ {{ not nesting \\" ]]", "v": '
            + b"[" * (depth - 1)
            + b"1"
            + b"]" * (depth - 1)
            + b"}\n"
        )

    deep = take(app, judges, "landing/s/nest/a.ndjson", doc(10) + doc(257))
    assert deep.reason_code == "reject.too_deep" and "256 levels" in deep.reason
    fine = take(app, judges, "landing/s/nest/b.ndjson", doc(10) + doc(200))
    assert fine.kind == "accepted" and fine.rows == 2


@given(
    st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_the_nesting_measure_agrees_with_a_parser(document: object) -> None:
    text = json.dumps(document).encode()

    def depth(value: object) -> int:
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        return 0

    for most in (depth(document), depth(document) - 1):
        measure = _Nesting(most, 1 << 20)
        try:
            for start in range(0, len(text), 5):
                measure.feed(text[start : start + 5])
            refused = False
        except Rejection:
            refused = True
        assert refused == (depth(document) > most)


def test_the_engine_running_out_of_memory_is_never_a_verdict_on_the_file(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of memory in the judge process is retried in a fresh one; only a file that runs out
    every time is quarantined, and then as reject.memory_limit, not as unparseable."""
    from lakegate.ingest import judge_worker

    def exhausted(job: judge_worker.Job, conn: object) -> judge_worker.Verdict:
        raise Rejection("the file cannot be parsed as CSV: Out of Memory Error: failed to allocate", code="x")

    monkeypatch.setattr(judge_worker, "run", exhausted)
    failure = judge_worker._judge(cast(judge_worker.Job, SimpleNamespace(size=0, setup=())))
    assert isinstance(failure, judge_worker._Failure)
    assert (failure.code, failure.transient) == ("ingest.judge_memory", True)
