"""The reconciler lists landing/ in passes; a pass that breaks off resumes where it stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakegate.errors import StorageError
from lakegate.events.reconciler import Reconciler
from lakegate.storage import MemoryStore, ObjectInfo


class FlakyListing(MemoryStore):
    """A store whose listings break off after ``budget`` objects, like a store going away mid-page."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget
        self.starts: list[str] = []

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        self.starts.append(start_after)
        for n, info in enumerate(super().list(prefix, start_after)):
            if n == self.budget:
                raise StorageError(
                    "connection reset while listing", code="storage.unavailable", transient=True
                )
            yield info


def test_a_broken_listing_resumes_after_the_last_key_and_covers_everything() -> None:
    store = FlakyListing(budget=4)
    keys = [f"landing/d/t/{n:02}.csv" for n in range(10)]
    for key in keys:
        store.write(key, b"x")
    seen: list[str] = []
    reconciler = Reconciler(store, "landing/", 60, lambda info: seen.append(info.key))
    for _ in range(2):
        with pytest.raises(StorageError):
            reconciler.run_once()
    assert reconciler.run_once() == 2
    assert seen == keys  # each object once, in order: nothing listed twice, nothing skipped
    assert store.starts == ["", keys[3], keys[7]]
    assert reconciler.passes == 1 and reconciler.resume_after == ""
    store.budget = 100
    assert reconciler.run_once() == 10  # a complete pass starts over from the beginning
    assert store.starts[-1] == ""


def test_the_background_loop_keeps_going_after_a_failed_pass() -> None:
    store = FlakyListing(budget=3)
    for n in range(7):
        store.write(f"landing/x/{n}.csv", b"x")
    seen: set[str] = set()
    reconciler = Reconciler(store, "landing/", 0.01, lambda info: seen.add(info.key))
    reconciler.start()
    try:
        for _ in range(500):
            if reconciler.passes >= 2:
                break
            reconciler._stop.wait(0.01)
    finally:
        reconciler.stop()
    assert reconciler.passes >= 2
    assert seen == {f"landing/x/{n}.csv" for n in range(7)}
