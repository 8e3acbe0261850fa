"""The README keeps its promise to new users."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_opens_with_the_two_setup_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "```sh"
    assert lines[1].startswith("make up ") and lines[2].startswith("make test ")


def test_every_error_code_in_the_readme_exists_in_the_code() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    for code in set(re.findall(r"`(reject\.[a-z_]+)`", readme)) | set(
        re.findall(r"error\[([a-z_.]+)\]", readme)
    ):
        assert f'"{code}"' in source, code


def test_the_type_lattice_reference_is_current() -> None:
    from lakegate.types import lattice_reference

    committed = (ROOT / "docs" / "types.md").read_text(encoding="utf-8")
    assert committed == lattice_reference(), "run `make docs` to regenerate docs/types.md"
