"""The kernel's answer to "is a process still writing this file?"."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakegate.storage.writers import WriterProbe, file_system_types

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux kernel leases")


def test_a_file_open_for_writing_by_this_process(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    probe = WriterProbe()
    with path.open("wb") as out:
        out.write(b"x")
        assert probe.writing(path) is True
        with path.open("rb"):
            assert probe.writing(path) is True  # a reader changes nothing
    assert probe.writing(path) is False


def test_a_file_open_for_writing_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    writer = subprocess.Popen(
        [sys.executable, "-c", f"import time; f = open({str(path)!r}, 'ab'); time.sleep(30)"]
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert WriterProbe().writing(path) is True
    finally:
        writer.kill()
        writer.wait()
    assert WriterProbe().writing(path) is False


def test_a_file_system_of_unknown_kind_cannot_tell() -> None:
    assert "proc" in file_system_types().values()
    assert WriterProbe().writing("/proc/self/status") is None


def test_a_writer_opening_while_the_probe_holds_its_lease_does_not_end_this_process(tmp_path: Path) -> None:
    path = tmp_path / "race.csv"
    path.write_bytes(b"x")
    writer = subprocess.Popen([sys.executable, "-c", f"while True:\n    open({str(path)!r}, 'ab').close()"])
    try:
        probe = WriterProbe()
        answers = {probe.writing(path) for _ in range(20_000)}
    finally:
        writer.kill()
        writer.wait()
    assert answers <= {True, False}
