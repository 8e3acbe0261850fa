"""`lakegate up` sees lakegate.yaml change however it is changed: written, replaced, removed, or
swapped for another file behind a symbolic link as Kubernetes updates a config map."""

from __future__ import annotations

import os
from pathlib import Path

from lakegate.daemon import FileWatch


def test_a_file_swapped_behind_a_link_is_seen_even_with_the_same_size_and_time(tmp_path: Path) -> None:
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    first.write_text("ingest: {workers: 4}\n")
    second.write_text("ingest: {workers: 8}\n")  # as long as the first
    stamp = first.stat().st_mtime_ns
    os.utime(second, ns=(stamp, stamp))
    link = tmp_path / "lakegate.yaml"
    link.symlink_to(first)
    watch = FileWatch(link)
    assert not watch.changed()
    swap = tmp_path / "swap"
    swap.symlink_to(second)
    swap.replace(link)  # an atomic rename, as a config map's ..data link is swapped
    assert watch.changed()
    assert not watch.changed()


def test_a_written_removed_and_restored_file_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "lakegate.yaml"
    watch = FileWatch(path)
    assert not watch.changed()
    path.write_text("a: 1\n")
    assert watch.changed()
    path.unlink()
    assert watch.changed() and not watch.changed()
