"""One behaviour suite for both ways of giving workgroup turns: ``Admission`` (one process) and
``SharedAdmission`` (every node on one catalog, on SQLite and PostgreSQL). Two "nodes" are two
admissions on one catalog; the in-process one is shared by both, as its threads would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lakegate.auth.slots import SharedAdmission
from lakegate.auth.workgroups import Admission, Workgroup
from lakegate.catalog import Catalog
from lakegate.errors import QueryError

Pair = tuple[Any, Any]


@pytest.fixture(params=["in-process", "shared-sqlite", "shared-postgresql"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    if request.param == "in-process":
        one = Admission()
        yield one, one
        return
    if request.param == "shared-sqlite":
        catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    else:
        catalog = Catalog(request.getfixturevalue("pg_url"))
    yield SharedAdmission(catalog, "n1", 30.0), SharedAdmission(catalog, "n2", 30.0)
    catalog.close()


def _hold(admission: Any, group: Workgroup, release: threading.Event, log: list[str], name: str) -> None:
    try:
        with admission.turn(group):
            log.append(f"{name} runs")
            release.wait(20)
    except QueryError as exc:
        log.append(f"{name} {exc.code}")


def _start(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    ends = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.02)


def test_max_concurrent_holds_across_nodes_and_the_queue_is_bounded(nodes: Pair) -> None:
    one, two = nodes
    group = Workgroup("w", timeout_seconds=20, max_concurrent=2, max_queued=1)
    release, log = threading.Event(), []
    runners = [_start(lambda a=a, n=n: _hold(a, group, release, log, n)) for a, n in ((one, "a"), (two, "b"))]
    _until(lambda: len(log) == 2)
    waiter = _start(lambda: _hold(two, group, release, log, "c"))  # a third waits for a turn
    time.sleep(0.5)
    assert "c runs" not in log
    with pytest.raises(QueryError) as err, one.turn(group):
        pass  # a fourth finds the queue full
    assert err.value.code == "query.too_many" and "waiting" in err.value.message
    release.set()
    for t in [*runners, waiter]:
        t.join(20)
    assert sorted(log) == ["a runs", "b runs", "c runs"]


def test_waiting_queries_get_their_turns_in_the_order_they_came(nodes: Pair) -> None:
    one, two = nodes
    group = Workgroup("w", timeout_seconds=20, max_concurrent=1, max_queued=5)
    release, log = threading.Event(), []
    first = _start(lambda: _hold(one, group, release, log, "first"))
    _until(lambda: log == ["first runs"])
    waiters = []
    for i, admission in enumerate((two, one, two)):
        waiters.append(_start(lambda a=admission, i=i: _hold(a, group, release, log, f"w{i}")))
        time.sleep(0.3)  # they come in this order
    release.set()
    for t in [first, *waiters]:
        t.join(20)
    assert log == ["first runs", "w0 runs", "w1 runs", "w2 runs"]


def test_a_query_waiting_past_its_timeout_gives_up_and_leaves_the_queue(nodes: Pair) -> None:
    one, two = nodes
    group = Workgroup("w", timeout_seconds=0.6, max_concurrent=1, max_queued=1)
    release, log = threading.Event(), []
    holder = _start(lambda: _hold(one, group, release, log, "a"))
    _until(lambda: log == ["a runs"])
    began = time.monotonic()
    with pytest.raises(QueryError) as err, two.turn(group):
        pass
    assert err.value.code == "query.timeout" and 0.5 < time.monotonic() - began < 5
    release.set()
    holder.join(20)
    with two.turn(group) as waited:  # nothing left behind holds a turn or a place in the queue
        assert waited < 1


def test_the_turns_of_a_node_that_stopped_renewing_lapse(catalog: Catalog) -> None:
    dead, live = SharedAdmission(catalog, "dead", 1.5), SharedAdmission(catalog, "live", 30.0)
    group = Workgroup("w", timeout_seconds=0.3, max_concurrent=1, max_queued=1)
    held = dead.turn(group)
    held.__enter__()  # the dead node never gives it back
    for _ in range(5):  # while it renews, its turn holds (longer than its lease in all)
        time.sleep(0.1)
        dead.renew()
        with pytest.raises(QueryError) as err, live.turn(group):
            pass
        assert err.value.code == "query.timeout"
    patient = Workgroup("w", timeout_seconds=20, max_concurrent=1, max_queued=1)
    with live.turn(patient) as waited:  # it stopped renewing: its lease ran out, the turn is free
        assert 0.5 < waited < 3
    del held
