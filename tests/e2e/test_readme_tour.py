"""The README's five-minute tour, followed to the letter: its shell blocks run as written (from a
checkout, against `lakegate up` on ./lakegate-data), the first terminal prints the lines the
README shows, each refused command fails with the code its comment names, and the quarantine ids
the commands use are the ones a fresh home gives."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.daemon import Daemon

ROOT = Path(__file__).resolve().parents[2]


def tour_blocks() -> list[tuple[str, str]]:
    """(language, text) of each fenced block of the tour, in order (``make up`` is run here as
    `lakegate up` with a free port, so its block is left out)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A five-minute tour", 1)[1].split("\nFrom Python", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", tour, re.DOTALL)
    assert blocks and "make up" in blocks[0][1]
    return blocks[1:]


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = line.split("  #", 1)[0].strip()
    command = command.replace(".venv/bin/", f"{ROOT}/.venv/bin/")
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_tour_runs_to_the_letter(tmp_path: Path) -> None:
    blocks = tour_blocks()
    daemon = Daemon(tmp_path / "lakegate-data", args=["--http-port", "0"])
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        language, deliveries = blocks[0]
        assert language == "sh" and "landing" in deliveries
        done = subprocess.run(
            ["bash", "-e", "-c", deliveries], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        language, shown = blocks[1]
        assert language == "text"
        expected = shown.strip().splitlines()
        daemon.wait_until(lambda: len(daemon.lines) >= len(expected), timeout=60)
        assert sorted(daemon.lines[: len(expected)]) == sorted(expected)
        for language, block in blocks[2:]:
            assert language == "sh"
            for line in block.strip().splitlines():
                said = run_line(line, tmp_path)
                code = re.search(r"# error\[([\w.]+)\]", line)
                if code:
                    assert said.returncode != 0 and f"error[{code[1]}]" in said.stderr, (line, said.stderr)
                else:
                    assert said.returncode == 0, (line, said.stdout, said.stderr)
                if "quarantine replay" in line:
                    assert "back in landing" in said.stdout
        quarantined = [ln for ln in daemon.lines if ln.startswith("quarantined")]
        ids = [int(n) for n in re.findall(r"quarantine id (\d+)", "\n".join(quarantined))]
        used = [
            int(n)
            for n in re.findall(r"quarantine (?:show|replay|purge) (\d+)", "".join(b for _l, b in blocks))
        ]
        assert ids == [4, 5] and sorted(set(used)) == ids, (ids, used)
        listed = run_line(".venv/bin/lakegate quarantine list --home lakegate-data", tmp_path)
        assert "quarantine is empty" in listed.stdout  # 4 replayed, 5 purged: nothing is left
    finally:
        daemon.stop()
