"""The lakegate command as a user runs it: a real process, real output, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def lakegate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lakegate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "home"
    sources = root.parent / "src"
    sources.mkdir()
    (sources / "orders.csv").write_text('id,note,amount\n1,"a, ""b""",1.5\n2,,\n3,"two\nlines",3\n')
    (sources / "empty.csv").write_text("")
    (sources / "people.ndjson").write_text('{"name":"ann","born":"1990-01-02"}\n')
    assert (
        lakegate(
            "put",
            str(sources / "orders.csv"),
            "--to",
            "sales.orders",
            "-p",
            "dt=2026-01-01",
            "--home",
            str(root),
        ).returncode
        == 0
    )
    assert (
        lakegate("put", str(sources / "people.ndjson"), "--to", "hr.people", "--home", str(root)).returncode
        == 0
    )
    bad = lakegate("put", str(sources / "empty.csv"), "--to", "sales.orders", "--home", str(root))
    assert bad.returncode == 1 and "reject.empty" in bad.stderr
    return root


def raw_stdout(*args: str) -> bytes:
    return subprocess.run(
        [sys.executable, "-m", "lakegate", *args], capture_output=True, timeout=120, check=False
    ).stdout


def test_csv_output_is_rfc4180_data_only(home: Path) -> None:
    sql = "SELECT id, note, amount FROM sales.orders ORDER BY id"
    out = raw_stdout("sql", "--home", str(home), "--format", "csv", sql)
    assert out == b'id,note,amount\r\n1,"a, ""b""",1.5\r\n2,,\r\n3,"two\nlines",3.0\r\n'


def test_csv_with_zero_rows_still_has_a_header(home: Path) -> None:
    out = raw_stdout("sql", "--home", str(home), "-f", "csv", "SELECT id, dt FROM sales.orders WHERE false")
    assert out == b"id,dt\r\n"


def test_json_output(home: Path) -> None:
    result = lakegate("sql", "--home", str(home), "-f", "json", "SELECT name, born FROM hr.people")
    assert json.loads(result.stdout) == [{"name": "ann", "born": "1990-01-02"}]


def test_table_output_and_row_count_on_stderr(home: Path) -> None:
    result = lakegate("sql", "--home", str(home), "SELECT count(*) AS n FROM sales.orders")
    assert result.stdout.splitlines()[0].strip() == "n" and result.stdout.splitlines()[2].strip() == "3"
    assert "1 row in" in result.stderr


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT * FROM '/etc/passwd'", "guard.table_unknown"),
        ("DROP TABLE sales.orders", "guard.not_read_only"),
        ("SELECT * FRM sales.orders", "guard.syntax"),
        ("SELECT getenv('HOME')", "guard.function"),
    ],
)
def test_errors_are_one_clear_line(home: Path, sql: str, code: str) -> None:
    result = lakegate("sql", "--home", str(home), sql)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]:"), result.stderr
    assert "Traceback" not in result.stderr


def test_ls_describe_and_quarantine(home: Path) -> None:
    listing = lakegate("ls", "--home", str(home)).stdout
    assert "sales.orders" in listing and "hr.people" in listing
    parts = lakegate("ls", "sales.orders", "--home", str(home)).stdout
    assert "dt=2026-01-01" in parts
    described = lakegate("describe", "sales.orders", "--home", str(home)).stdout
    assert "amount" in described and "DOUBLE" in described and "v1" in described
    quarantine = lakegate("quarantine", "list", "--home", str(home)).stdout
    assert "reject.empty" in quarantine and "empty.csv" in quarantine


def test_commands_other_than_up_and_init_need_a_home(tmp_path: Path) -> None:
    result = lakegate("ls", "--home", str(tmp_path / "none"))
    assert result.returncode == 1 and result.stderr.startswith("error[home.missing]")
    assert not (tmp_path / "none").exists()


def test_init_writes_a_commented_config(tmp_path: Path) -> None:
    result = lakegate("init", "--home", str(tmp_path / "new"))
    assert result.returncode == 0
    assert (tmp_path / "new" / "lakegate.yaml").read_text().startswith("# lakegate.yaml")
    assert (tmp_path / "new" / "landing").is_dir()


def test_home_from_environment(home: Path) -> None:
    import os

    env = {**os.environ, "LAKEGATE_HOME": str(home)}
    assert "sales.orders" in lakegate("ls", env=env).stdout


def test_rules_test_shows_where_a_key_goes_and_judges_a_file_without_touching_anything(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    (home / "lakegate.yaml").write_text(
        "ingest:\n  default_route: false\ndatasets:\n  - name: sales\n"
        '    key: "landing/{customer}/sales_{date:%Y%m%d}.csv"\n    database: "{customer}"\n'
        '    table: sales\n    partition: {dt: "{date:%Y-%m-%d}"}\n    formats: [csv]\n'
    )
    good = tmp_path / "good.csv"
    good.write_text("id,amount\n1,2.5\n2,3\n")
    clash = tmp_path / "clash.csv"
    clash.write_text("id,dt\n1,x\n")
    routed = lakegate("rules", "test", "acme/sales_20261126.csv", "--home", str(home))
    assert routed.returncode == 0, routed.stderr
    assert "sales" in routed.stdout and "acme.sales" in routed.stdout and "dt=2026-11-26" in routed.stdout
    assert "lake/acme/sales/dt=2026-11-26/sales_20261126.csv" in routed.stdout
    judged = lakegate("rules", "test", "acme/sales_20261126.csv", "-f", str(good), "--home", str(home))
    assert (
        judged.returncode == 0 and "id BIGINT, amount DOUBLE" in judged.stdout and "accepted" in judged.stdout
    )
    clashing = lakegate("rules", "test", "acme/sales_20261126.csv", "-f", str(clash), "--home", str(home))
    assert clashing.returncode == 1 and "reject.partition_column_clash" in clashing.stdout
    unmatched = lakegate("rules", "test", "landing/acme/notes.txt", "--home", str(home))
    assert (
        unmatched.returncode == 1
        and "reject.route" in unmatched.stdout
        and "datasets tried: sales" in unmatched.stdout
    )
    assert sorted(p.name for p in home.iterdir()) == [
        "lakegate.yaml",
        "landing",
    ]  # no catalog, nothing written


def test_quarantine_show_and_purge(tmp_path: Path) -> None:
    home = tmp_path / "home"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert lakegate("put", str(empty), "--to", "s.t", "--home", str(home)).returncode == 1
    listing = lakegate("quarantine", "list", "--home", str(home)).stdout
    object_id = listing.splitlines()[1].split()[0]
    shown = lakegate("quarantine", "show", object_id, "--home", str(home)).stdout
    assert "reject.empty: the file is empty (0 bytes)" in shown and "deliver it again with data" in shown
    [kept] = [p for p in (home / "quarantine").rglob("*") if p.is_file()]
    dry = lakegate("quarantine", "purge", object_id, "--home", str(home))
    assert "nothing deleted" in dry.stdout and kept.exists()
    purged = lakegate("quarantine", "purge", object_id, "--yes", "--home", str(home))
    assert purged.returncode == 0 and not kept.exists()
    assert "quarantine is empty" in lakegate("quarantine", "list", "--home", str(home)).stdout
    assert "(purged)" in lakegate("quarantine", "show", object_id, "--home", str(home)).stdout
    unknown = lakegate("quarantine", "show", "999", "--home", str(home))
    assert unknown.returncode == 1 and unknown.stderr.startswith("error[quarantine.unknown]")


def test_quarantine_replay_after_fixing_the_dataset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    config = home / "lakegate.yaml"
    dataset = 'datasets:\n  - name: t\n    key: "landing/s/t/{name}"\n    database: s\n    table: t\n'
    config.write_text(dataset + "    formats: [csv]\n")
    people = tmp_path / "people.ndjson"
    people.write_text('{"name": "ann"}\n{"name": "bob"}\n')
    rejected = lakegate("put", str(people), "--to", "s.t", "--home", str(home))
    assert rejected.returncode == 1 and "reject.format" in rejected.stderr
    object_id = lakegate("quarantine", "list", "--home", str(home)).stdout.splitlines()[1].split()[0]
    nothing = lakegate("quarantine", "replay", "--home", str(home))
    assert nothing.returncode == 1 and "error[cli.nothing_chosen]" in nothing.stderr
    again = lakegate("quarantine", "replay", object_id, "--home", str(home))  # not fixed yet
    assert again.returncode == 1 and "quarantined  landing/s/t/people.ndjson: reject.format" in again.stdout
    config.write_text(dataset + "    formats: [csv, json]\n")
    new_id = lakegate("quarantine", "list", "--home", str(home)).stdout.splitlines()[1].split()[0]
    fixed = lakegate("quarantine", "replay", "--reason", "reject.format", "--home", str(home))
    assert fixed.returncode == 0 and "accepted     landing/s/t/people.ndjson -> s.t (2 rows)" in fixed.stdout
    assert "quarantine is empty" in lakegate("quarantine", "list", "--home", str(home)).stdout
    assert new_id != object_id  # each delivery attempt keeps its own record
    count = lakegate("sql", "SELECT count(*) AS n FROM s.t", "--format", "csv", "--home", str(home)).stdout
    assert count.split() == ["n", "2"]


def test_rules_test_prints_each_rules_verdict(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    (home / "lakegate.yaml").write_text(
        "datasets:\n  - name: sales\n"
        '    key: "landing/{customer}/sales_{date:%Y%m%d}.csv"\n    database: "{customer}"\n'
        "    table: sales\n    rules:\n"
        "      - {check: required_columns, columns: [id]}\n"
        "      - {check: types, types: {amount: number}}\n"
        "      - {check: unique, columns: [id], severity: warn}\n"
    )
    data = tmp_path / "x.csv"
    data.write_text("id,amount\n1,2.5\n1,oops\n")
    judged = lakegate("rules", "test", "acme/sales_20261126.csv", "-f", str(data), "--home", str(home))
    assert judged.returncode == 1, judged.stdout
    lines = [" ".join(line.split()) for line in judged.stdout.splitlines()]
    assert "rule required_columns passes" in lines
    assert "rule types rejects: amount is not a number in 1 row: 'oops' (row 2)" in lines
    assert "rule unique warns: 2 rows share a value of id with another row: '1' (rows 1, 2)" in lines
    assert any(line.startswith("verdict quarantined: reject.rule.types") for line in lines)


def test_drop_archive_and_purge(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "orders.csv"
    data.write_text("id\n1\n2\n")
    assert lakegate("put", str(data), "--to", "s.orders", "--home", str(home)).returncode == 0
    dry = lakegate("drop", "s.orders", "--home", str(home))
    assert "would drop s.orders: 1 files, 2 rows move to the archive" in dry.stdout
    dropped = lakegate("drop", "s.orders", "--yes", "--home", str(home))
    assert dropped.returncode == 0 and "dropped s.orders: 1 files archived" in dropped.stdout
    gone = lakegate("sql", "SELECT * FROM s.orders", "--home", str(home))
    assert gone.returncode == 1 and "s.orders" in gone.stderr
    again = lakegate("drop", "s.orders", "--yes", "--home", str(home))
    assert again.returncode == 1 and again.stderr.startswith("error[catalog.no_table]")
    listing = lakegate("archive", "list", "--home", str(home)).stdout
    assert "dropped by `lakegate drop`" in listing and "archived" in listing
    archive_id = listing.splitlines()[1].split()[0]
    [kept] = [p for p in (home / "lake" / "_archive").rglob("*") if p.is_file()]
    assert kept.read_text() == "id\n1\n2\n"
    assert "nothing deleted" in lakegate("archive", "purge", archive_id, "--home", str(home)).stdout
    assert kept.exists()
    assert lakegate("archive", "purge", archive_id, "--yes", "--home", str(home)).returncode == 0
    assert not kept.exists()
    assert "the archive is empty" in lakegate("archive", "list", "--home", str(home)).stdout
    assert "purged" in lakegate("archive", "list", "--all", "--home", str(home)).stdout
    assert "nothing has expired" in lakegate("retention", "--home", str(home)).stdout


def test_schema_history_and_diff(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name, text in (("a.csv", "id\n1\n"), ("b.csv", "id,note\n2,x\n"), ("c.csv", "id,note\n2.5,y\n")):
        path = tmp_path / name
        path.write_text(text)
        assert lakegate("put", str(path), "--to", "s.t", "--home", str(home)).returncode == 0
    history = lakegate("schema", "history", "s.t", "--home", str(home))
    assert history.returncode == 0, history.stderr
    lines = [line.strip() for line in history.stdout.splitlines()]
    assert lines[1] == "+ id BIGINT" and lines[3] == "+ note VARCHAR" and lines[5] == "~ id BIGINT → DOUBLE"
    assert lines[0].startswith("v1 ") and "from lake/s/t/a.csv" in lines[0]
    diff = lakegate("schema", "diff", "s.t", "1", "3", "--home", str(home))
    assert [line.strip() for line in diff.stdout.splitlines()] == [
        "s.t v1 → v3:", "+ note VARCHAR", "~ id BIGINT → DOUBLE",
    ]  # fmt: skip
    same = lakegate("schema", "diff", "s.t", "2", "2", "--home", str(home))
    assert "have the same schema" in same.stdout
    bad = lakegate("schema", "diff", "s.t", "1", "9", "--home", str(home))
    assert (
        bad.returncode == 1 and bad.stderr.startswith("error[schema.no_version]") and "v1 to v3" in bad.stderr
    )
    assert lakegate("schema", "history", "s.nope", "--home", str(home)).stderr.startswith(
        "error[catalog.no_table]"
    )


def test_crawl_reports_tables_and_refuses_too_many(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert lakegate("init", "--home", str(home)).returncode == 0
    data = tmp_path / "warehouse"
    for name in ("orders", "customers", "items"):
        (data / name / "dt=2026-01-01").mkdir(parents=True)
        (data / name / "dt=2026-01-01" / "part-0.csv").write_text("id,v\n1,a\n")
    (data / "orders" / "dt=2026-01-01" / "broken.csv").write_bytes(b"\x00\x01" * 100)
    refused = lakegate("crawl", str(data), "--max-tables", "2", "--home", str(home))
    assert (
        refused.returncode == 1 and "crawl.too_many_tables" in refused.stderr and "--force" in refused.stderr
    )
    done = lakegate("crawl", str(data), "--database", "wh", "--home", str(home))
    assert done.returncode == 1  # one file could not be cataloged, and it says which
    assert "not cataloged: orders/dt=2026-01-01/broken.csv: reject.binary" in done.stderr
    assert "wh.orders" in done.stdout and "files/s" in done.stderr
    query = lakegate("sql", "SELECT count(*) AS n FROM wh.customers", "-f", "csv", "--home", str(home))
    assert query.stdout.splitlines() == ["n", "1"]


def test_comment_describes_tables_and_columns(home: Path) -> None:
    assert lakegate("comment", "sales.orders", "Orders from the shop", "--home", str(home)).returncode == 0
    assert lakegate("comment", "sales.orders.amount", "In euros", "--home", str(home)).returncode == 0
    shown = lakegate("describe", "sales.orders", "--home", str(home)).stdout
    assert "Orders from the shop" in shown and "In euros" in shown
    missing = lakegate("comment", "sales.orders.nope", "x", "--home", str(home))
    assert missing.returncode == 1 and "catalog.unknown_column" in missing.stderr


def test_users_and_tokens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert lakegate("init", "--home", str(home)).returncode == 0
    assert lakegate("users", "add", "ann", "--workgroup", "sales", "--home", str(home)).returncode == 0
    made = lakegate("tokens", "create", "ann", "--expires", "30d", "--home", str(home))
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("lg_") and "shown only now" in made.stderr
    listed = lakegate("tokens", "list", "--home", str(home)).stdout
    assert "ann" in listed and "active" in listed and token not in listed
    token_id = token.split("_")[1]
    assert lakegate("tokens", "revoke", token_id, "--home", str(home)).returncode == 0
    assert "revoked" in lakegate("tokens", "list", "ann", "--home", str(home)).stdout
    bad = lakegate("users", "add", "acme", "--role", "provider", "--home", str(home))
    assert bad.returncode == 1 and "auth.bad_principal" in bad.stderr and "--landing-prefix" in bad.stderr


def test_grants_shape_what_sql_as_a_principal_reads(home: Path) -> None:
    assert lakegate("users", "add", "eve", "--home", str(home)).returncode == 0
    sql = ["sql", "SELECT count(*) AS n FROM sales.orders", "-f", "csv", "--as", "eve", "--home", str(home)]
    denied = lakegate(*sql)
    assert denied.returncode == 1 and "guard.table_unknown" in denied.stderr
    made = lakegate("grants", "add", "sales.orders", "--to", "eve", "--where", "id < 3", "--home", str(home))
    assert made.returncode == 0 and "eve may read sales.orders where id < 3" in made.stdout
    assert lakegate(*sql).stdout.splitlines() == ["n", "2"]
    assert "sales.orders where id < 3" in lakegate("grants", "list", "--home", str(home)).stdout
    grant_id = made.stdout.split()[1].rstrip(":")
    assert lakegate("grants", "revoke", grant_id, "--home", str(home)).returncode == 0
    assert lakegate(*sql).returncode == 1
    log = lakegate("history", "--principal", "eve", "--home", str(home)).stdout
    assert log.count("eve") == 3 and "SUCCEEDED" in log and "FAILED guard.table_unknown" in log


def test_rules_test_judges_a_file_against_its_tables_schema(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = tmp_path / "first.csv"
    first.write_text("id,amount\n1,10\n")
    put = lakegate("put", str(first), "--to", "shop.orders", "--home", str(home))
    assert put.returncode == 0, put.stderr
    text = tmp_path / "text.csv"
    text.write_text("id,amount\n2,20\n3,unknown\n")
    refused = lakegate("rules", "test", "shop/orders/text.csv", "-f", str(text), "--home", str(home))
    assert refused.returncode == 1 and "reject.schema.type_change" in refused.stdout
    assert "'unknown'" in refused.stdout
    stray = tmp_path / "notes.txt"
    stray.write_text("a b\n1 2\n")
    disjoint = lakegate("rules", "test", "shop/orders/notes.txt", "-f", str(stray), "--home", str(home))
    assert disjoint.returncode == 1 and "reject.schema.disjoint" in disjoint.stdout
    wider = tmp_path / "wider.csv"
    wider.write_text("id,amount,coupon\n4,2.5,W\n")
    taken = lakegate("rules", "test", "shop/orders/wider.csv", "-f", str(wider), "--home", str(home))
    assert taken.returncode == 0 and "accepted" in taken.stdout
