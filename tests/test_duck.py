"""DuckDB is opened with extensions locked down, and loads them only by path from their PyPI packages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from lakegate import duck


def test_extension_file_matches_the_engine_version() -> None:
    path = duck.extension_path("httpfs")
    assert path.is_file() and f"v{duckdb.__version__}" in str(path)


def test_missing_extension_package_names_the_install() -> None:
    with pytest.raises(Exception) as err:
        duck.extension_path("nosuchext")
    assert f"duckdb-extension-nosuchext=={duckdb.__version__}" in str(err.value)


def test_load_by_path_works_with_an_empty_home(tmp_path: Path) -> None:
    """A fresh machine: no ~/.duckdb. Loading by name fails, loading by path works, nothing is written."""
    script = textwrap.dedent(
        """
        from lakegate import duck
        con = duck.connect()
        try:
            con.execute("LOAD httpfs")
            print("loaded by name")
        except Exception:
            print("by name refused")
        duck.load_extension(con, "httpfs")
        print(con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchone()[0])
        try:
            con.execute("SELECT * FROM read_csv('https://example.invalid/x.csv')")
        except Exception as exc:
            print("no autoload/download:", type(exc).__name__)
        """
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "by name refused"
    assert lines[1] == "True"
    assert lines[2].startswith("no autoload/download:")
    assert not (tmp_path / ".duckdb").exists()


def test_autoload_and_autoinstall_are_off() -> None:
    con = duck.connect()
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions', 'allow_community_extensions')"
        ).fetchall()
    )
    assert settings == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "allow_community_extensions": "false",
    }
