"""When a landing file counts as done being written (``ingest/settle.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from lakegate.ingest.settle import BUSY_RECHECK, Settling
from lakegate.storage import ObjectInfo


@dataclass
class Folder:
    """Files with sizes, and what the kernel says of their writers (None: it cannot tell)."""

    sizes: dict[str, int] = field(default_factory=dict)
    writing: dict[str, bool | None] = field(default_factory=dict)
    mtime: int = 1

    def stat(self, key: str) -> ObjectInfo | None:
        return ObjectInfo(key, self.sizes[key], self.mtime, inode=7) if key in self.sizes else None

    def being_written(self, key: str) -> bool | None:
        return self.writing.get(key, False)


def settling(folder: Folder, settle: float = 5.0, settle_max: float = 60.0) -> Settling:
    return Settling(folder, settle, settle_max)  # type: ignore[arg-type]


def test_a_closed_file_is_taken_at_once() -> None:
    folder = Folder({"a.csv": 10})
    assert settling(folder).ready("a.csv", 0.0)


def test_a_file_open_for_writing_is_not_taken_however_quiet() -> None:
    folder = Folder({"a.csv": 10}, {"a.csv": True})
    s = settling(folder)
    for now in (0.0, 10.0, 1000.0):
        assert not s.ready("a.csv", now)
    assert s.due(1000.0) == [] and s.due(1000.0 + BUSY_RECHECK) == ["a.csv"]
    folder.writing["a.csv"] = False
    assert s.ready("a.csv", 1001.0)


def test_an_empty_file_waits_the_quiet_period_after_its_writer_closed_it() -> None:
    folder = Folder({"e.csv": 0}, {"e.csv": True})
    s = settling(folder, settle=5.0)
    assert not s.ready("e.csv", 0.0)
    assert not s.ready("e.csv", 2.0)  # its writer is still there
    folder.writing["e.csv"] = False
    assert not s.ready("e.csv", 3.0)
    assert not s.ready("e.csv", 6.9)  # 5 s after the writer was last seen (at 2.0)
    assert s.ready("e.csv", 7.0)


def test_where_the_kernel_cannot_tell_a_quiet_period_is_waited() -> None:
    folder = Folder({"n.csv": 10}, {"n.csv": None})
    s = settling(folder, settle=5.0)
    assert not s.ready("n.csv", 0.0)
    assert s.due(4.9) == [] and s.due(5.0) == ["n.csv"]
    assert s.ready("n.csv", 5.0)


def test_the_quiet_period_grows_for_a_file_that_keeps_changing() -> None:
    folder = Folder({"n.csv": 0}, {"n.csv": None})
    s = settling(folder, settle=2.0, settle_max=30.0)
    for t in range(0, 80, 2):  # changing every 2 s for 78 s: an NFS copy with short pauses
        folder.sizes["n.csv"] += 100
        assert not s.ready("n.csv", float(t))
    assert not s.ready("n.csv", 78.0 + 19.0)  # a quarter of 78 s: 19.5 s
    assert s.ready("n.csv", 78.0 + 19.5)


@given(st.lists(st.floats(0.1, 30), min_size=1, max_size=20), st.floats(0.5, 10), st.floats(0, 120))
def test_the_quiet_period_is_between_settle_and_settle_max(
    gaps: list[float], settle: float, top: float
) -> None:
    folder = Folder({"n.csv": 1}, {"n.csv": None})
    s = settling(folder, settle, top)
    now = 0.0
    for gap in gaps:
        folder.sizes["n.csv"] += 1
        s.ready("n.csv", now)
        now += min(gap, settle * 0.9)  # changes come faster than the quiet period
    [candidate] = s._candidates.values()
    assert settle <= s.quiet_period(candidate) <= max(settle, top)


def test_a_file_that_disappears_is_forgotten() -> None:
    folder = Folder({"a.csv": 1}, {"a.csv": True})
    s = settling(folder)
    s.ready("a.csv", 0.0)
    del folder.sizes["a.csv"]
    assert not s.ready("a.csv", 1.0) and "a.csv" not in s
