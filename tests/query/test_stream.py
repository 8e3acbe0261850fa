"""Streamed results: bounded memory, and a reader that stops early stops the query."""

from __future__ import annotations

import time

import pytest

from lakegate.app import App
from lakegate.errors import QueryError
from lakegate.query.engines.duck_engine import QueryEngine


def test_closing_a_stream_early_stops_its_query(app: App) -> None:
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        stream = engine.stream("SELECT range AS n FROM range(10000000000)")
        first = next(iter(stream))
        assert first.num_rows > 0
        stream.close()
        deadline = time.monotonic() + 10
        running = lambda: sum(i.running for i in engine._instances.values())  # noqa: E731
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running() == 0  # the query itself stopped, not only its reader
        # the engine is free for the next query
        assert engine.execute("SELECT 42 AS x").table.to_pylist() == [{"x": 42}]
    finally:
        engine.close()


def test_an_error_while_streaming_reaches_the_reader(app: App) -> None:
    from lakegate.config import QuerySettings

    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        # a workgroup's row cap applies to streams (the server's default does not: rows cost no memory)
        stream = engine.stream(
            "SELECT range AS n FROM range(1000000)", limits=QuerySettings(max_rows=100_000)
        )
        with pytest.raises(QueryError) as err:
            for _batch in stream:
                pass
        assert err.value.code == "query.rows"
    finally:
        engine.close()


def test_a_reader_waiting_for_its_next_batch_wakes_when_the_query_is_cancelled() -> None:
    """A cancel (a grant change, a cancel from another node) closes the stream while its reader
    waits; the engine, stopped, may never send its end: the reader must not wait for ever."""
    import threading

    import pyarrow as pa

    from lakegate.query.engines import Stream

    for started in (True, False):  # waiting for its next batch; waiting for its start
        stream = Stream(["db.t"], 0)
        if started:
            stream._started(pa.schema([("n", pa.int64())]), ["BIGINT"])
        caught: list[BaseException] = []

        def read(stream: Stream = stream, caught: list[BaseException] = caught) -> None:
            try:
                list(stream)
            except QueryError as exc:
                caught.append(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.2)
        stream.close()
        with pytest.raises(QueryError):
            stream._put(None)  # the engine's end, after the cancel: not delivered
        reader.join(timeout=5)
        assert not reader.is_alive(), "the reader still waits"
        assert [e.code for e in caught] == ["query.cancelled"]
