"""The PostgreSQL JDBC driver (Debian's libpostgresql-jdbc-java, as DBeaver uses it) against
lakegate: DatabaseMetaData, prepared statements, a large result fetched in batches, errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.pgwire.conftest import Lake

DRIVER = Path("/usr/share/java/postgresql.jar")
SOURCE = Path(__file__).parent / "jdbc" / "LakegateJdbc.java"


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert DRIVER.is_file(), "the JDBC driver is missing: `make test` installs libpostgresql-jdbc-java"
    out = tmp_path_factory.mktemp("jdbc")
    subprocess.run(["javac", "-d", str(out), str(SOURCE)], check=True, capture_output=True, timeout=120)
    return out


def java(classes: Path, lake: Lake, mode: str, *extra: str, user: str = "ann") -> dict[str, str]:
    url = f"jdbc:postgresql://127.0.0.1:{lake.port}/lake?sslmode=disable"
    done = subprocess.run(
        ["java", "-cp", f"{classes}:{DRIVER}", "LakegateJdbc", url, user, lake.tokens[user], mode, *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def test_database_metadata_as_dbeaver_reads_it(classes: Path, lake: Lake) -> None:
    said = java(classes, lake, "metadata")
    assert "ERROR" not in said, said
    assert said["PRODUCT"].startswith("PostgreSQL 16")
    assert "acme" in said["SCHEMAS"].split(",") and "globex" not in said["SCHEMAS"]
    assert said["TABLES"] == "acme.orders:TABLE"
    assert said["COLUMNS"] == "id:int8:-5,region:text:12,amount:float8:8,day:date:91"  # no email
    assert said["PRIMARY_KEYS"] == "0"
    root = java(classes, lake, "metadata", user="root")
    assert set(root["TABLES"].split(",")) == {"acme.orders:TABLE", "globex.orders:TABLE"}


def test_prepared_statements_with_typed_parameters(classes: Path, lake: Lake) -> None:
    said = java(classes, lake, "prepared")
    assert said["DESCRIBED"] == "id:int8,region:text,amount:float8,day:date"  # before any row is read
    assert said["PARAMETERS"] == "3"
    assert said["TYPES"] == "id:int8,region:text,amount:float8,day:date"
    assert said["ROWS"] == "1|EU|2.5|2026-01-01;3|EU|null|2026-01-03"  # row filter: EU only
    assert said["REPEATED"] == "0"  # the named server-side statement, reused


def test_a_large_result_in_batches_and_errors_with_sqlstates(classes: Path, lake: Lake) -> None:
    assert java(classes, lake, "large", "300000")["LARGE"] == f"300000 {sum(range(300000))}"
    said = java(classes, lake, "errors")
    assert (said["UNKNOWN"], said["WRITE"], said["AFTER"]) == ("42P01", "25006", "1")
    assert said["DESCRIBE_UNKNOWN"] == "42P01"  # a table not granted is unknown when described too
