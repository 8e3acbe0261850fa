"""The area store sends each key to its area's store and lists them as one sorted store."""

from __future__ import annotations

from lakegate.storage import MemoryStore
from lakegate.storage.areas import AREAS, AreaStore


def _areas() -> AreaStore:
    store = AreaStore({a: MemoryStore() for a in AREAS})
    for key in ["archive/d/1.csv", "lake/d/t/1.csv", "landing/a.csv", "landing/b/c.csv", "quarantine/x.csv"]:
        store.write(key, b"1")
    return store


def test_lists_every_area_in_key_order() -> None:
    store = _areas()
    everything = ["archive/d/1.csv", "lake/d/t/1.csv", "landing/a.csv", "landing/b/c.csv", "quarantine/x.csv"]
    assert [i.key for i in store.list()] == everything
    assert [i.key for i in store.list("landing/")] == ["landing/a.csv", "landing/b/c.csv"]
    assert [i.key for i in store.list("la")] == everything[1:4]


def test_resumes_after_a_key_across_areas() -> None:
    store = _areas()
    assert [i.key for i in store.list(start_after="landing/a.csv")] == ["landing/b/c.csv", "quarantine/x.csv"]
    assert [i.key for i in store.list(start_after="lake/zzz")] == [
        "landing/a.csv",
        "landing/b/c.csv",
        "quarantine/x.csv",
    ]
    assert [i.key for i in store.list("landing/", start_after="landing/b")] == ["landing/b/c.csv"]
    assert list(store.list(start_after="quarantine/x.csv")) == []
