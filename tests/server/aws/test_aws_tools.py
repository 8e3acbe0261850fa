"""The AWS tools analysts already have, unchanged but for ``endpoint_url``: the AWS CLI (its own
botocore speaks Athena's JSON 1.1), PyAthena's cursors and qmark parameters, awswrangler and
SQLAlchemy with PyAthena's dialect — each principal seeing only its grants through each."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.server.aws.conftest import REGION, RESULTS, AwsLake

pytestmark = pytest.mark.timeout(300)


def _aws(lake: AwsLake, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    key, secret = lake.keys[who]
    env = {
        **os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }  # fmt: skip
    aws = str(Path(sys.executable).parent / "aws")
    return subprocess.run(
        [aws, "--endpoint-url", lake.endpoint, "--output", "json", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_the_aws_cli_runs_a_query_lists_tables_and_copies_the_result(aws_lake: AwsLake) -> None:
    started = _aws(
        aws_lake, "ann", "athena", "start-query-execution",
        "--query-string", "SELECT region, count(*) AS n FROM orders GROUP BY region ORDER BY region",
        "--query-execution-context", "Database=acme",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    query_id = json.loads(started.stdout)["QueryExecutionId"]
    state = ""
    for _ in range(200):
        shown = _aws(aws_lake, "ann", "athena", "get-query-execution", "--query-execution-id", query_id)
        state = json.loads(shown.stdout)["QueryExecution"]["Status"]["State"]
        if state not in ("QUEUED", "RUNNING"):
            break
    assert state == "SUCCEEDED"
    results = json.loads(
        _aws(aws_lake, "ann", "athena", "get-query-results", "--query-execution-id", query_id).stdout
    )
    assert [[d["VarCharValue"] for d in r["Data"]] for r in results["ResultSet"]["Rows"]] == [
        ["region", "n"], ["EU", "3"], ["US", "2"],
    ]  # fmt: skip
    tables = json.loads(_aws(aws_lake, "ann", "glue", "get-tables", "--database-name", "acme").stdout)
    assert [t["Name"] for t in tables["TableList"]] == ["orders"]
    copied = _aws(aws_lake, "ann", "s3", "cp", f"{RESULTS}{query_id}.csv", "-")
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == '"region","n"\n"EU","3"\n"US","2"\n'
    other = _aws(aws_lake, "gil", "s3", "cp", f"{RESULTS}{query_id}.csv", "-")
    assert other.returncode != 0 and ("404" in other.stderr or "Not Found" in other.stderr)
    refused = _aws(aws_lake, "gil", "glue", "get-tables", "--database-name", "acme")
    assert refused.returncode != 0 and "EntityNotFoundException" in refused.stderr


def _connect(lake: AwsLake, who: str, **kwargs: Any) -> Any:
    import pyathena

    return pyathena.connect(s3_staging_dir=RESULTS, schema_name="acme", **lake.client_kwargs(who), **kwargs)


def test_pyathena_cursors_read_through_the_api_and_the_results_bucket(
    aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyathena.arrow.cursor import ArrowCursor
    from pyathena.pandas.cursor import PandasCursor

    sql = "SELECT id, region, amount, day FROM orders ORDER BY id"
    with _connect(aws_lake, "ann") as connection:
        cursor = connection.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
        assert [d[0] for d in cursor.description] == ["id", "region", "amount", "day"]
        assert rows[0][:3] == (1, "EU", 9.5) and str(rows[0][3]) == "2026-11-01" and rows[2][2] is None
        cursor.execute("SELECT count(*) FROM orders WHERE region = %(region)s", {"region": "EU"})
        assert cursor.fetchone() == (3,)
        cursor.execute(  # each type as PyAthena's converters read Athena's text
            "SELECT TIMESTAMP '2026-12-01 10:00:00.250' AS t, true AS b, ARRAY[1, 2] AS a, "
            "CAST(1.5 AS DECIMAL(10,2)) AS m, DATE '2026-12-01' AS d, CAST(NULL AS VARCHAR) AS n"
        )
        assert [d[1] for d in cursor.description] == [
            "timestamp",
            "boolean",
            "array",
            "decimal",
            "date",
            "varchar",
        ]
        assert cursor.fetchone() == (
            dt.datetime(2026, 12, 1, 10, 0, 0, 250000), True, [1, 2], decimal.Decimal("1.50"),
            dt.date(2026, 12, 1), None,
        )  # fmt: skip
    with _connect(aws_lake, "ann") as connection:  # qmark: literals sent as ExecutionParameters
        cursor = connection.cursor()
        counted = "SELECT count(*) FROM orders WHERE region = ? AND id > ?"
        cursor.execute(counted, ["'EU'", "1"], paramstyle="qmark")
        assert cursor.fetchone() == (2,)
        with pytest.raises(Exception, match="not one SQL literal"):
            cursor.execute(counted, ["'EU' OR 'x'='x'", "1"], paramstyle="qmark")
    # PyAthena's S3 client leaves Athena's endpoint_url out: boto3's own setting points it here
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_lake.endpoint)
    with _connect(aws_lake, "ann", cursor_class=PandasCursor) as connection:
        frame = connection.cursor().execute(sql).as_pandas()
        assert frame["id"].tolist() == [1, 2, 3, 4, 5] and frame["amount"].isna().tolist()[2]
    # pyarrow's S3 client (ArrowCursor's) takes no endpoint setting: with managed results (max's
    # workgroup) no OutputLocation is given, and PyAthena reads the rows by GetQueryResults
    with _connect(aws_lake, "max", cursor_class=ArrowCursor, work_group="managed") as connection:
        table = connection.cursor().execute(sql).as_arrow()
        assert table.column("region").to_pylist() == ["EU", "US", "EU", "EU", "US"]
        assert table.column("amount").to_pylist()[2] is None
    with _connect(aws_lake, "gil") as connection, pytest.raises(Exception, match="orders"):
        connection.cursor().execute("SELECT * FROM acme.orders")


def test_awswrangler_reads_a_query_and_the_glue_catalog(aws_lake: AwsLake) -> None:
    import awswrangler as wr
    import boto3

    kwargs = aws_lake.client_kwargs("ann")
    session = boto3.session.Session(
        aws_access_key_id=kwargs["aws_access_key_id"], aws_secret_access_key=kwargs["aws_secret_access_key"],
        region_name=REGION,
    )  # fmt: skip
    for service in ("athena", "glue", "s3"):
        setattr(wr.config, f"{service}_endpoint_url", aws_lake.endpoint)
    try:
        frame = wr.athena.read_sql_query(
            "SELECT id, region FROM orders ORDER BY id", database="acme", ctas_approach=False,
            s3_output=RESULTS, boto3_session=session,
        )  # fmt: skip
        assert frame["id"].tolist() == [1, 2, 3, 4, 5]
        tables = wr.catalog.tables(database="acme", boto3_session=session)
        assert tables["Table"].tolist() == ["orders"]
        partitions = wr.catalog.get_partitions(database="acme", table="orders", boto3_session=session)
        assert sorted(partitions.values()) == [["2026-11-01"], ["2026-11-02"]]
        managed = wr.athena.read_sql_query(  # managed results: paged by GetQueryResults, no S3
            "SELECT id FROM orders ORDER BY id", database="acme", ctas_approach=False, workgroup="managed",
            boto3_session=boto3.session.Session(
                aws_access_key_id=aws_lake.keys["max"][0], aws_secret_access_key=aws_lake.keys["max"][1],
                region_name=REGION,
            ),
        )  # fmt: skip
        assert managed["id"].tolist() == [1, 2, 3, 4, 5]
        gil = boto3.session.Session(
            aws_access_key_id=aws_lake.keys["gil"][0], aws_secret_access_key=aws_lake.keys["gil"][1],
            region_name=REGION,
        )  # fmt: skip
        assert wr.catalog.databases(boto3_session=gil)["Database"].tolist() == ["globex"]
        assert wr.catalog.tables(database="acme", boto3_session=gil).empty
        with pytest.raises(Exception, match="orders"):
            wr.athena.read_sql_query("SELECT * FROM acme.orders", database="globex", ctas_approach=False,
                                     s3_output=RESULTS, boto3_session=gil)  # fmt: skip
    finally:
        for service in ("athena", "glue", "s3"):
            setattr(wr.config, f"{service}_endpoint_url", None)


def test_sqlalchemy_with_pyathenas_dialect(aws_lake: AwsLake) -> None:
    import sqlalchemy as sa

    key, secret = aws_lake.keys["ann"]
    url = sa.engine.URL.create(
        "awsathena+rest", username=key, password=secret, host=f"athena.{REGION}.amazonaws.com", port=443,
        database="acme",
        query={"s3_staging_dir": RESULTS, "endpoint_url": aws_lake.endpoint, "region_name": REGION},
    )  # fmt: skip
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 5
        assert sa.inspect(connection).get_table_names(schema="acme") == ["orders"]
        columns = [c["name"] for c in sa.inspect(connection).get_columns("orders", schema="acme")]
        assert columns[:2] == ["id", "region"] and "dt" in columns
    engine.dispose()
    other = sa.create_engine(url.set(username=aws_lake.keys["gil"][0], password=aws_lake.keys["gil"][1]))
    with other.connect() as connection:
        assert sa.inspect(connection).get_schema_names() == ["globex"]
        with pytest.raises(sa.exc.DatabaseError, match="orders"):
            connection.execute(sa.text("SELECT count(*) FROM acme.orders"))
    other.dispose()


def test_the_endpoint_serves_tls_as_the_other_servers(tmp_path: Path) -> None:
    import re as regex

    import boto3
    from botocore.config import Config
    from botocore.exceptions import SSLError

    from tests.e2e.daemon import Daemon

    home = tmp_path / "home"
    daemon = Daemon(home, args=["--aws-port", "0", "--tls-self-signed"])
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        found = regex.search(r"endpoint_url=(https://[\d.]+:\d+)", daemon.stderr)
        assert found, daemon.stderr
        made = subprocess.run(
            [sys.executable, "-m", "lakegate", "tokens", "create", "admin", "--aws", "--home", str(home)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        keys = dict(regex.findall(r"(aws_\w+) = (\S+)", made.stdout))
        kwargs = {"endpoint_url": found.group(1), "region_name": REGION, **keys}
        trusted = boto3.session.Session().client(
            "glue", verify=str(home / "tls" / "lakegate-dev.crt"), **kwargs
        )
        assert trusted.get_databases()["DatabaseList"] == []
        once = Config(retries={"max_attempts": 1})
        with pytest.raises(SSLError):  # an unknown certificate
            boto3.session.Session().client("glue", config=once, **kwargs).get_databases()
    finally:
        daemon.stop()
