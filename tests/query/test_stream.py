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
        while stream._error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stream._error is not None  # the feeding thread ended, with the cancellation
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
