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


def test_the_error_code_reference_is_current() -> None:
    from lakegate.error_codes import errors_page

    committed = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == errors_page(), "run `make docs` to regenerate docs/errors.md"


def _raised_codes() -> dict[str, str]:
    """Every error code the source gives (``code="..."`` and exception classes' ``code``), with
    where; a code built at run time stands for its family (``reject.rule.`` + the check)."""
    import ast

    found: dict[str, str] = {}
    for path in (ROOT / "src" / "lakegate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = (
                (isinstance(node, ast.keyword) and node.arg in ("code", "reason_code"))
                or (
                    isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "code" for t in node.targets)
                )
                or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "code")
            )
            value = getattr(node, "value", None) if named else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and "." in value.value:
                found[value.value] = path.name
            elif isinstance(value, ast.JoinedStr) and isinstance(value.values[0], ast.Constant):
                found[str(value.values[0].value) + "anything"] = path.name
    return found


def test_every_error_code_given_is_in_the_registry() -> None:
    from lakegate.error_codes import CODES, lookup

    raised = _raised_codes()
    assert len(raised) > 100  # the scan finds them
    missing = sorted(f"{code} ({where})" for code, where in raised.items() if lookup(code) is None)
    assert missing == [], "add these codes to src/lakegate/error_codes.py"
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "lakegate").rglob("*.py"))
    unused = sorted(c for c in CODES if "<" not in c and f'"{c}"' not in source.replace(f'"{c}": Code(', ""))
    assert unused == [], "codes in the registry that nothing gives: remove them"


def test_http_status_and_sqlstate_come_from_the_registry() -> None:
    from lakegate.error_codes import http_status
    from lakegate.errors import QueryError
    from lakegate.pgwire.sqlstate import sqlstate

    assert http_status("query.too_many") == 429 and http_status("auth.invalid") == 401
    assert http_status("catalog.unavailable", transient=True) == 503
    assert http_status("query.failed") == 400 and http_status("query.failed", transient=True) == 503
    assert http_status("storage.get", transient=True) == 503
    assert sqlstate(QueryError("x", code="query.rows")) == "54000"
    assert sqlstate(QueryError("Binder Error: Referenced column x not found", code="query.failed")) == "42703"
