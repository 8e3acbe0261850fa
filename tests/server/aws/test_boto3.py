"""boto3 (Athena over REST-JSON, Glue over JSON 1.1, S3) against a running lakegate: a query's
whole life, results as Athena pages them and as the CSV object, each tenant seeing only its
grants, idempotent starts, parameters that cannot inject, prepared statements, named queries,
utility statements, and the errors AWS clients expect."""

from __future__ import annotations

import datetime as dt
import re
import time
import urllib.error
import urllib.request
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from tests.server.aws.conftest import RESULTS, AwsLake, run, wait_done

pytestmark = pytest.mark.timeout(300)
SLOW = "SELECT sum(hash(range)) AS s FROM range(100000000000)"  # hours of work in little memory


def _rows(result: dict[str, Any]) -> list[list[str | None]]:
    return [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"]]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_a_query_runs_pages_and_downloads_as_athena_gives_it(aws_lake: AwsLake) -> None:
    athena, s3 = aws_lake.client("athena", "ann"), aws_lake.client("s3", "ann")
    sql = "SELECT id, region, amount, CAST(price AS DECIMAL(10,2)) AS price, day, dt FROM orders ORDER BY id"
    done = run(athena, sql, QueryExecutionContext={"Database": "acme"})
    assert done["Status"]["State"] == "SUCCEEDED"
    assert done["StatementType"] == "DML" and done["QueryExecutionContext"]["Database"] == "acme"
    assert done["Statistics"]["DataScannedInBytes"] > 0
    location = done["ResultConfiguration"]["OutputLocation"]
    assert location == f"{RESULTS}{done['QueryExecutionId']}.csv"
    first = athena.get_query_results(QueryExecutionId=done["QueryExecutionId"], MaxResults=3)
    columns = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("id", "bigint"), ("region", "varchar"), ("amount", "double"), ("price", "decimal"),
        ("day", "date"), ("dt", "varchar"),
    ]  # fmt: skip
    assert (columns[3]["Precision"], columns[3]["Scale"]) == (10, 2)
    assert _rows(first) == [
        ["id", "region", "amount", "price", "day", "dt"],  # SELECT: the labels come first
        ["1", "EU", "9.5", "1.25", "2026-11-01", "2026-11-01"],
        ["2", "US", "12.0", "2.50", "2026-11-01", "2026-11-01"],
    ]
    rest = athena.get_query_results(QueryExecutionId=done["QueryExecutionId"], NextToken=first["NextToken"])
    assert _rows(rest)[0] == ["3", "EU", None, "0.75", "2026-11-01", "2026-11-01"]  # NULL: no VarCharValue
    assert len(_rows(rest)) == 3 and "NextToken" not in rest
    bucket, key = location.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines()[:2] == ['"id","region","amount","price","day","dt"',
                                     '"1","EU","9.5","1.25","2026-11-01","2026-11-01"']  # fmt: skip
    assert body.splitlines()[3] == '"3","EU",,"0.75","2026-11-01","2026-11-01"'  # NULL: empty, unquoted
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-5")
    assert ranged["Body"].read() == b'"id","' and ranged["ContentRange"].startswith("bytes 0-5/")
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert key in listed
    stats = athena.get_query_runtime_statistics(QueryExecutionId=done["QueryExecutionId"])
    assert stats["QueryRuntimeStatistics"]["Rows"]["OutputRows"] == 5


def test_each_tenant_sees_only_its_grants_through_athena_glue_and_s3(aws_lake: AwsLake) -> None:
    ann_athena = aws_lake.client("athena", "ann")
    mine = run(ann_athena, "SELECT count(*) AS n FROM acme.orders")
    athena, glue, s3 = (aws_lake.client(s, "gil") for s in ("athena", "glue", "s3"))
    assert [d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]] == [
        "globex"
    ]
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["globex"]
    assert [t["Name"] for t in glue.search_tables()["TableList"]] == ["secrets"]
    refused = run(athena, "SELECT * FROM acme.orders")
    assert refused["Status"]["State"] == "FAILED"
    assert refused["Status"]["AthenaError"]["ErrorCategory"] == 2
    assert "orders" in refused["Status"]["StateChangeReason"] and "9.5" not in str(refused)
    for call in (
        lambda: athena.get_query_execution(QueryExecutionId=mine["QueryExecutionId"]),
        lambda: athena.get_query_results(QueryExecutionId=mine["QueryExecutionId"]),
        lambda: athena.get_table_metadata(
            CatalogName="AwsDataCatalog", DatabaseName="acme", TableName="orders"
        ),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "InvalidRequestException"
    for call in (
        lambda: glue.get_table(DatabaseName="acme", Name="orders"),
        lambda: glue.get_partitions(DatabaseName="acme", TableName="orders"),
        lambda: glue.get_database(Name="acme"),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "EntityNotFoundException"
    bucket, key = mine["ResultConfiguration"]["OutputLocation"].removeprefix("s3://").split("/", 1)
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=bucket, Key=key)
    assert _code(error) == "NoSuchKey"
    assert key not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert mine["QueryExecutionId"] not in athena.list_query_executions()["QueryExecutionIds"]


def test_a_filtered_analyst_sees_its_rows_and_columns_and_no_partition_counts(aws_lake: AwsLake) -> None:
    athena, glue = aws_lake.client("athena", "rita"), aws_lake.client("glue", "rita")
    done = run(athena, "SELECT * FROM acme.orders ORDER BY id")
    rows = _rows(athena.get_query_results(QueryExecutionId=done["QueryExecutionId"]))
    assert rows[0] == ["id", "region", "price", "day", "dt"]
    assert [r[:2] for r in rows[1:]] == [["1", "EU"], ["3", "EU"], ["4", "EU"]]
    table = glue.get_table(DatabaseName="acme", Name="orders")["Table"]
    assert "amount" not in [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    assert "recordCount" not in table["Parameters"]  # counts over hidden rows tell what they hide
    with pytest.raises(ClientError) as error:
        glue.get_partitions(DatabaseName="acme", TableName="orders")
    assert _code(error) == "AccessDeniedException"


def test_glue_shapes_partitions_expressions_versions_and_statistics(aws_lake: AwsLake) -> None:
    glue = aws_lake.client("glue", "ann")
    table = glue.get_table(DatabaseName="acme", Name="orders")["Table"]
    assert table["StorageDescriptor"]["Location"].endswith("/lake/acme/orders/")
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ","}
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert table["Parameters"]["classification"] == "csv" and table["Parameters"]["recordCount"] == "5"
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("id", "bigint"), ("region", "string"), ("amount", "double"), ("price", "double"), ("day", "date"),
    ]  # fmt: skip
    parts = glue.get_partitions(DatabaseName="acme", TableName="orders")["Partitions"]
    assert [p["Values"] for p in parts] == [["2026-11-01"], ["2026-11-02"]]
    assert parts[0]["StorageDescriptor"]["Location"].endswith("/lake/acme/orders/dt=2026-11-01/")
    picked = glue.get_partitions(DatabaseName="acme", TableName="orders", Expression="dt > '2026-11-01'")
    assert [p["Values"] for p in picked["Partitions"]] == [["2026-11-02"]]
    segments = [
        glue.get_partitions(
            DatabaseName="acme", TableName="orders", Segment={"SegmentNumber": n, "TotalSegments": 2}
        )
        for n in (0, 1)
    ]
    assert sorted(p["Values"][0] for s in segments for p in s["Partitions"]) == ["2026-11-01", "2026-11-02"]
    paged = glue.get_partitions(DatabaseName="acme", TableName="orders", MaxResults=1)
    assert len(paged["Partitions"]) == 1 and paged["NextToken"]
    with pytest.raises(ClientError) as error:
        glue.get_partitions(DatabaseName="acme", TableName="orders", Expression="dt = (SELECT 1)")
    assert _code(error) == "InvalidInputException"
    got = glue.batch_get_partition(
        DatabaseName="acme",
        TableName="orders",
        PartitionsToGet=[{"Values": ["2026-11-02"]}, {"Values": ["1999"]}],
    )
    assert [p["Values"] for p in got["Partitions"]] == [["2026-11-02"]] and got["UnprocessedKeys"]
    versions = glue.get_table_versions(DatabaseName="acme", TableName="orders")["TableVersions"]
    assert versions[0]["VersionId"] == table["VersionId"]
    stats = glue.get_column_statistics_for_table(
        DatabaseName="acme", TableName="orders", ColumnNames=["id", "nope"]
    )
    [ids] = stats["ColumnStatisticsList"]
    assert ids["StatisticsData"]["LongColumnStatisticsData"]["MaximumValue"] == 5
    assert stats["Errors"][0]["ColumnName"] == "nope"
    one = glue.get_table_version(DatabaseName="acme", TableName="orders", VersionId=versions[-1]["VersionId"])
    assert one["TableVersion"]["Table"]["Name"] == "orders"
    part = glue.get_column_statistics_for_partition(
        DatabaseName="acme", TableName="orders", PartitionValues=["2026-11-02"], ColumnNames=["id"]
    )
    long = part["ColumnStatisticsList"][0]["StatisticsData"]["LongColumnStatisticsData"]
    assert (long["MinimumValue"], long["MaximumValue"]) == (4, 5)


def test_a_repeated_client_request_token_answers_the_same_query(aws_lake: AwsLake) -> None:
    ann, gil = aws_lake.client("athena", "ann"), aws_lake.client("athena", "gil")
    token = "lakegate-test-token-0000000000000001"
    first = ann.start_query_execution(QueryString="SELECT 1 AS one", ClientRequestToken=token)
    again = ann.start_query_execution(QueryString="SELECT 1 AS one", ClientRequestToken=token)
    other = gil.start_query_execution(QueryString="SELECT 1 AS one", ClientRequestToken=token)
    assert first["QueryExecutionId"] == again["QueryExecutionId"] != other["QueryExecutionId"]
    before = len(aws_lake.api("GET", "/v1/queries?principal=ann&limit=10000")["queries"])
    ann.start_query_execution(QueryString="SELECT 2 AS two")  # boto3 adds a fresh token itself
    assert len(aws_lake.api("GET", "/v1/queries?principal=ann&limit=10000")["queries"]) == before + 1


@pytest.mark.parametrize(
    "value",
    [
        "'EU' OR 1=1",
        "'EU'; DROP TABLE acme.orders",
        "(SELECT 'EU')",
        "upper('eu')",
        "region",
        "'EU' UNION SELECT 1",
    ],
)
def test_execution_parameters_are_single_literals_and_cannot_inject(aws_lake: AwsLake, value: str) -> None:
    athena = aws_lake.client("athena", "ann")
    done = run(athena, "SELECT count(*) AS n FROM acme.orders WHERE region = ?", ExecutionParameters=[value])
    assert done["Status"]["State"] == "FAILED"
    assert done["Status"]["StateChangeReason"].startswith("the execution parameter")


def test_execution_parameters_bind_in_order(aws_lake: AwsLake) -> None:
    athena = aws_lake.client("athena", "ann")
    done = run(
        athena, "SELECT count(*) AS n FROM acme.orders WHERE region = ? AND id > ? AND day >= ?",
        ExecutionParameters=["'EU'", "1", "DATE '2026-11-01'"],
    )  # fmt: skip
    assert _rows(athena.get_query_results(QueryExecutionId=done["QueryExecutionId"]))[1] == ["2"]
    assert done["ExecutionParameters"] == ["'EU'", "1", "DATE '2026-11-01'"]
    quoted = run(athena, "SELECT ? AS s", ExecutionParameters=["'it''s'"])
    assert _rows(athena.get_query_results(QueryExecutionId=quoted["QueryExecutionId"]))[1] == ["it's"]
    wrong = run(athena, "SELECT ? AS a, ? AS b", ExecutionParameters=["1"])
    assert "2 ? placeholder" in wrong["Status"]["StateChangeReason"]


def test_prepared_statements_and_named_queries_are_each_principals_own(aws_lake: AwsLake) -> None:
    ann, gil = aws_lake.client("athena", "ann"), aws_lake.client("athena", "gil")
    assert run(ann, "PREPARE by_region FROM SELECT count(*) AS n FROM acme.orders WHERE region = ?")[
        "Status"]["State"] == "SUCCEEDED"  # fmt: skip
    done = run(ann, "EXECUTE by_region USING 'US'")
    assert _rows(ann.get_query_results(QueryExecutionId=done["QueryExecutionId"]))[1] == ["2"]
    ann.create_prepared_statement(
        StatementName="by_id",
        WorkGroup="primary",
        QueryStatement="SELECT region FROM acme.orders WHERE id = ?",
    )
    done = run(ann, "EXECUTE by_id", ExecutionParameters=["4"])
    assert _rows(ann.get_query_results(QueryExecutionId=done["QueryExecutionId"]))[1] == ["EU"]
    names = [
        s["StatementName"] for s in ann.list_prepared_statements(WorkGroup="primary")["PreparedStatements"]
    ]
    assert names == ["by_id", "by_region"]
    assert run(gil, "EXECUTE by_region USING 'US'")["Status"]["State"] == "FAILED"
    with pytest.raises(ClientError):
        gil.get_prepared_statement(StatementName="by_id", WorkGroup="primary")
    refused = run(ann, "PREPARE wipe FROM DELETE FROM acme.orders")
    assert refused["Status"]["State"] == "FAILED"
    assert run(ann, "DEALLOCATE PREPARE by_region")["Status"]["State"] == "SUCCEEDED"
    named = ann.create_named_query(
        Name="eu", Database="acme", QueryString="SELECT * FROM orders WHERE region='EU'"
    )
    assert ann.get_named_query(NamedQueryId=named["NamedQueryId"])["NamedQuery"]["Database"] == "acme"
    assert named["NamedQueryId"] in ann.list_named_queries()["NamedQueryIds"]
    assert gil.list_named_queries()["NamedQueryIds"] == []
    with pytest.raises(ClientError):
        gil.get_named_query(NamedQueryId=named["NamedQueryId"])


def test_utility_statements_are_answered_from_the_catalog_and_writes_are_refused(aws_lake: AwsLake) -> None:
    athena = aws_lake.client("athena", "ann")

    def answer(sql: str) -> list[list[str | None]]:
        done = run(athena, sql, QueryExecutionContext={"Database": "acme"})
        assert done["Status"]["State"] == "SUCCEEDED", done["Status"]
        assert done["StatementType"] == "UTILITY"
        assert done["ResultConfiguration"]["OutputLocation"].endswith(".txt")
        return _rows(athena.get_query_results(QueryExecutionId=done["QueryExecutionId"]))

    assert answer("SHOW DATABASES") == [["acme"]]  # no label row for utility statements
    assert answer("SHOW TABLES") == [["orders"]]
    assert answer("SHOW PARTITIONS orders") == [["dt=2026-11-01"], ["dt=2026-11-02"]]
    assert [r[0].split()[0] for r in answer("DESCRIBE acme.orders") if r[0] and not r[0].startswith("#")] == [
        "id", "region", "amount", "price", "day", "dt",
    ]  # fmt: skip
    assert "nothing to repair" in answer("MSCK REPAIR TABLE orders")[0][0]
    for sql in ("DROP TABLE acme.orders", "CREATE TABLE x AS SELECT 1", "INSERT INTO acme.orders VALUES (1)"):
        done = run(athena, sql)
        assert done["Status"]["State"] == "FAILED" and done["StatementType"] == "DDL"
        assert "read-only" in done["Status"]["StateChangeReason"]
    assert answer("SHOW TABLES IN acme 'ord*'") == [["orders"]]


def test_workgroups_report_limits_and_a_full_queue_is_too_many_requests(aws_lake: AwsLake) -> None:
    athena = aws_lake.client("athena", "tia")
    groups = {g["Name"] for g in athena.list_work_groups()["WorkGroups"]}
    assert groups == {"primary", "tight"}
    group = athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert group["Configuration"]["ResultConfiguration"]["OutputLocation"] == RESULTS
    with pytest.raises(ClientError) as error:
        athena.get_work_group(WorkGroup="someone-elses")
    long = athena.start_query_execution(
        QueryString=SLOW,
        WorkGroup="tight",
    )["QueryExecutionId"]
    try:
        with pytest.raises(ClientError) as error:
            athena.start_query_execution(QueryString="SELECT 1", WorkGroup="tight")
        assert _code(error) == "TooManyRequestsException"
        assert error.value.response.get("Reason") == "CONCURRENT_QUERY_LIMIT_EXCEEDED"
    finally:
        athena.stop_query_execution(QueryExecutionId=long)
    assert wait_done(athena, long)["Status"]["State"] == "CANCELLED"
    ids = athena.list_query_executions(WorkGroup="tight", MaxResults=1)
    assert ids["QueryExecutionIds"] == [long] or len(ids["QueryExecutionIds"]) == 1
    batch = athena.batch_get_query_execution(QueryExecutionIds=[long, "0" * 32])
    assert [q["QueryExecutionId"] for q in batch["QueryExecutions"]] == [long]
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "0" * 32


def test_signatures_keys_and_clocks_are_checked_as_aws_checks_them(aws_lake: AwsLake) -> None:
    import boto3

    kwargs = aws_lake.client_kwargs("ann")
    wrong = boto3.session.Session().client("athena", **{**kwargs, "aws_secret_access_key": "x" * 40})
    with pytest.raises(ClientError) as error:
        wrong.list_work_groups()
    assert _code(error) == "InvalidSignatureException"
    unknown = boto3.session.Session().client("glue", **{**kwargs, "aws_access_key_id": "LGAKAAAAAAAAAAAA"})
    with pytest.raises(ClientError) as error:
        unknown.get_databases()
    assert _code(error) == "UnrecognizedClientException"
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        late = boto3.session.Session().client("athena", **kwargs, config=_no_retries())
        with pytest.raises(ClientError) as error:
            late.list_work_groups()
    assert "15 minutes" in str(error.value)
    key, secret = aws_lake.new_key("ann")
    fresh = boto3.session.Session().client(
        "s3", **{**kwargs, "aws_access_key_id": key, "aws_secret_access_key": secret}
    )
    assert fresh.list_objects_v2(Bucket="lakegate-results")["ResponseMetadata"]["HTTPStatusCode"] == 200
    revoked = aws_lake.cli("tokens", "revoke", key)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(ClientError) as error:
        fresh.list_objects_v2(Bucket="lakegate-results")
    assert _code(error) == "InvalidAccessKeyId"


def _no_retries() -> Any:
    from botocore.config import Config

    return Config(retries={"max_attempts": 1, "mode": "standard"})


def test_a_configured_crawler_runs_on_start_crawler_and_reports_its_metrics(aws_lake: AwsLake) -> None:
    admin, ann = aws_lake.client("glue", "admin"), aws_lake.client("glue", "ann")
    with pytest.raises(ClientError) as error:
        ann.start_crawler(Name="legacy")  # ann reads no table of its database: no such crawler for her
    assert _code(error) == "EntityNotFoundException"
    assert admin.list_crawlers()["CrawlerNames"] == ["legacy"]
    admin.start_crawler(Name="legacy")
    crawler: dict[str, Any] = {}
    for _ in range(300):
        crawler = admin.get_crawler(Name="legacy")["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            break
        time.sleep(0.1)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler
    assert crawler["Targets"]["S3Targets"][0]["Path"].endswith("legacy")
    [metrics] = admin.get_crawler_metrics(CrawlerNameList=["legacy"])["CrawlerMetricsList"]
    assert metrics["TablesCreated"] == 1
    assert [t["Name"] for t in admin.get_tables(DatabaseName="legacy")["TableList"]] == ["sales"]
    done = run(aws_lake.client("athena", "admin"), "SELECT sum(qty) AS q FROM legacy.sales")
    assert done["Status"]["State"] == "SUCCEEDED"


def test_a_key_made_over_http_works_and_its_revocation_stops_what_it_started(aws_lake: AwsLake) -> None:
    import boto3

    made = aws_lake.api("POST", "/v1/principals/ann/tokens", {"aws": True, "note": "notebook"})
    assert made["kind"] == "aws" and made["id"] == made["aws_access_key_id"]
    key, secret = made["aws_access_key_id"], made["aws_secret_access_key"]
    kwargs = {**aws_lake.client_kwargs("ann"), "aws_access_key_id": key, "aws_secret_access_key": secret}
    athena = boto3.session.Session().client("athena", **kwargs)
    long = athena.start_query_execution(QueryString=SLOW)["QueryExecutionId"]
    aws_lake.api("POST", f"/v1/tokens/{made['id']}/revoke")
    done = wait_done(aws_lake.client("athena", "ann"), long)
    assert done["Status"]["State"] == "CANCELLED"  # its access ended: the query stopped
    with pytest.raises(ClientError) as error:
        athena.list_work_groups()
    assert _code(error) == "UnrecognizedClientException"
    metrics = urllib.request.urlopen(aws_lake.http + "/metrics", timeout=10).read().decode()
    assert re.search(r"lakegate_queries_by_front_end_total\{[^}]*via=\"athena\"[^}]*\} [1-9]", metrics)


@pytest.mark.parametrize("version", ["s3", "s3v4"])  # boto3's default for S3 elsewhere is V2
def test_a_presigned_url_of_a_result_works_until_it_expires_and_only_for_its_signer(
    aws_lake: AwsLake, version: str
) -> None:
    import boto3
    from botocore.config import Config

    done = run(aws_lake.client("athena", "ann"), "SELECT 7 AS seven")
    where = {"Bucket": "lakegate-results", "Key": f"{done['QueryExecutionId']}.csv"}

    def presign(who: str, seconds: int) -> str:
        s3 = boto3.session.Session().client(
            "s3", config=Config(signature_version=version), **aws_lake.client_kwargs(who)
        )
        return str(s3.generate_presigned_url("get_object", Params=where, ExpiresIn=seconds))

    def status(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # no AWS client: a browser, curl
                assert answer.read() == b'"seven"\n"7"\n'
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return refused.code

    url = presign("ann", 60)
    assert status(url) == 200
    assert status(presign("gil", 60)) == 404  # another tenant's signature reads nothing
    tampered = re.sub(r"(Expires=)(\d+)", lambda m: m[1] + str(int(m[2]) + 1), url)
    assert status(tampered) == 403
    short = presign("ann", 1)
    time.sleep(2.1)
    assert status(short) == 403  # expired
