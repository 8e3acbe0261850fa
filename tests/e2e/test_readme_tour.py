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
        shown = 0  # lines of the first terminal the README has shown so far
        for i, (language, block) in enumerate(blocks):
            if language == "text":  # what the first terminal shows after the deliveries above it
                expected = block.strip().splitlines()
                upto = shown + len(expected)
                daemon.wait_until(lambda upto=upto: len(daemon.lines) >= upto, timeout=60)  # type: ignore[misc]
                assert sorted(daemon.lines[shown:upto]) == sorted(expected)
                shown = upto
                continue
            assert language == "sh"
            if i + 1 < len(blocks) and blocks[i + 1][0] == "text":  # deliveries: one script, as pasted
                assert "landing" in block
                done = subprocess.run(
                    ["bash", "-e", "-c", block], cwd=tmp_path, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, done.stderr
                continue
            for line in block.strip().splitlines():
                said = run_line(line, tmp_path)
                code = re.search(r"# error\[([\w.]+)\]", line)
                if code:
                    assert said.returncode != 0 and f"error[{code[1]}]" in said.stderr, (line, said.stderr)
                else:
                    assert said.returncode == 0, (line, said.stdout, said.stderr)
                if "quarantine replay" in line:
                    assert "back in landing" in said.stdout
        assert shown >= 3, "the tour shows what the first terminal prints"
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
