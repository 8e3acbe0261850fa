"""The Linux watcher: a writer's close and a rename into place are reported as such, new
folders are watched with what they already hold, and symbolic links are not followed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lakegate.events.inotify import InotifyWatcher, inotify_available

pytestmark = pytest.mark.skipif(not inotify_available(), reason="inotify is Linux only")


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, key: str, closed: bool) -> None:
        with self.lock:
            self.events.append((key, closed))

    def wait_for(self, event: tuple[str, bool], timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events:
            assert time.monotonic() < deadline, f"{event} not seen; seen: {self.events}"
            time.sleep(0.02)


@pytest.fixture
def watched(tmp_path: Path):  # type: ignore[no-untyped-def]
    seen = Seen()
    watcher = InotifyWatcher(tmp_path / "landing", "landing/", seen)
    watcher.start()
    assert watcher.ready.wait(5)
    yield tmp_path / "landing", seen
    watcher.stop()


def test_a_writer_closing_a_file_is_reported_as_closed(watched) -> None:  # type: ignore[no-untyped-def]
    root, seen = watched
    with (root / "a.csv").open("wb") as out:
        out.write(b"x")
        out.flush()
        seen.wait_for(("landing/a.csv", False))
        assert ("landing/a.csv", True) not in seen.events
    seen.wait_for(("landing/a.csv", True))


def test_a_rename_into_place_is_reported_as_closed(watched, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, seen = watched
    (root / ".part").write_bytes(b"x")
    (root / ".part").rename(root / "b.csv")
    seen.wait_for(("landing/b.csv", True))
    assert not [e for e in seen.events if ".part" in e[0]]


def test_new_folders_are_watched_with_what_they_hold(watched) -> None:  # type: ignore[no-untyped-def]
    root, seen = watched
    deep = root / "db" / "t" / "dt=1"
    deep.mkdir(parents=True)
    (deep / "c.csv").write_bytes(b"x")  # perhaps before its folder was watched
    seen.wait_for(("landing/db/t/dt=1/c.csv", True))
    (deep / "d.csv").write_bytes(b"y")
    seen.wait_for(("landing/db/t/dt=1/d.csv", True))


def test_symbolic_links_to_folders_are_not_followed(watched, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, seen = watched
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    (root / "marker.csv").write_bytes(b"x")
    seen.wait_for(("landing/marker.csv", True))
    (outside / "secret.csv").write_bytes(b"x")
    (root / "marker2.csv").write_bytes(b"x")
    seen.wait_for(("landing/marker2.csv", True))
    assert not [e for e in seen.events if "secret" in e[0]]
