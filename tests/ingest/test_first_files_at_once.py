"""Workers (and nodes) registering the first files of a new database and table at the same
moment all find the one database, table and partition row: none of them hits a conflict."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from lakegate.catalog import Catalog
from lakegate.ingest.pipeline import Pipeline
from lakegate.storage import LocalStore

WORKERS = 8


def test_first_files_of_a_new_table_at_once_make_one_table_without_conflicts(
    catalog: Catalog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    keys = [f"landing/fresh/t/dt=2026-01-01/f{i}.csv" for i in range(WORKERS)]
    for i, key in enumerate(keys):
        store.write(key, f"id,v\n{i},{i * 10}\n".encode())
    start = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def work(key: str) -> None:
        pipeline = Pipeline(catalog, store, on_outcome=lambda o: outcomes.append(o.kind))
        start.wait()
        pipeline.process(key)

    with caplog.at_level(logging.WARNING):
        threads = [threading.Thread(target=work, args=(k,)) for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert outcomes == ["accepted"] * WORKERS
    assert [r.getMessage() for r in caplog.records if "conflict" in r.getMessage()] == []
    assert catalog.databases() == ["fresh"] and [t.name for t in catalog.tables("fresh")] == ["t"]
    assert len(catalog.partitions("fresh", "t")) == 1
