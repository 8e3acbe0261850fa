"""Every error code lakegate gives, in one registry: what it means, the HTTP status and the
PostgreSQL SQLSTATE a client gets with it, and how to fix it in general (each error's own hint
is more precise). ``docs/errors.md`` is generated from it (``make docs``) and tested to match;
a test fails when code raises an error whose code is not here.

A code is ``area.reason``; two families are patterns: ``reject.rule.<check>`` (a dataset rule's
finding) and ``storage.<operation>`` (an S3 call).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    meaning: str
    status: int = 400  # HTTP; a transient error of a code without its own status answers 503
    sqlstate: str | None = None  # PostgreSQL; None: from the engine's message, else a default
    fix: str = ""


# fmt: off
CODES: dict[str, Code] = {
    # -- a landed file that lakegate cannot take (it goes to quarantine, with this code) -------
    "reject.binary": Code("the file is binary, not text, Parquet, Excel or a supported compression", fix="deliver CSV, JSON, NDJSON, Parquet or Excel (plain, gzip, zstd, bzip2 or zip)"),
    "reject.corrupt_compression": Code("the compressed data is corrupt or cut short", fix="deliver the complete file again"),
    "reject.corrupt_parquet": Code("the Parquet footer claims more rows than the file can hold", fix="the file was damaged or made by hand; deliver it again as its writer made it"),
    "reject.crashed_worker": Code("reading the file crashed the process reading it, twice (lakegate and other files were not affected)", fix="check the file's structure; replay it once it is fixed"),
    "reject.decompression_limit": Code("the file unpacks to more than ingest.max_decompressed_mb, or at a ratio above ingest.max_decompression_ratio", fix="deliver it uncompressed or in smaller files, or raise those settings"),
    "reject.duplicate_name": Code("the table has a file delivered under this name with other content, and the dataset refuses such duplicates", fix="deliver new content under a new name, or set duplicates: keep_both or replace"),
    "reject.empty": Code("the file (or workbook) holds no data", fix="deliver it again with data"),
    "reject.encoding": Code("the file is not text in the encoding it claims or the dataset requires", fix="convert it to UTF-8 and deliver it again"),
    "reject.format": Code("the dataset does not accept this file's format, extension or compression", fix="deliver it in an accepted format, or add this one to the dataset's list"),
    "reject.internal_error": Code("lakegate failed on this file (a bug)", fix="report it, then replay the file"),
    "reject.invalid": Code("the file cannot be accepted"),
    "reject.json_not_records": Code("the JSON holds values that are not objects, so it has no columns", fix="deliver one JSON object per line (NDJSON), a JSON array of objects, or one object"),
    "reject.line_too_long": Code("a line of the file is longer than ingest.max_line_bytes", fix="deliver text with one record per line, or raise ingest.max_line_bytes"),
    "reject.memory_limit": Code("reading the file ran out of memory three times, each in a fresh process", fix="split the file, or raise ingest.judge_memory_mb, then replay it"),
    "reject.multiple_tables": Code("the file holds several tables one after another (the message lists each block's first line and columns)", fix="deliver each table as a file of its own"),
    "reject.name": Code("the file's name is not UTF-8 or too long to keep", fix="deliver it again under a shorter name, in UTF-8"),
    "reject.partition_column_clash": Code("the file has a column named like its partition folder", fix="crawl with --level so that folder is part of the table, or rename the column"),
    "reject.route": Code("no dataset or default route places the key in a table", fix="deliver under landing/<database>/<table>/, or add a dataset whose key template matches"),
    "reject.rule.<check>": Code("a dataset rule with severity reject found something; <check> names the rule (not_null, unique, range, ...)", fix="fix the rows the details name and deliver the file again"),
    "reject.schema.disjoint": Code("the file shares no column with its table: it is probably not a delivery of this table", fix="deliver it to its own table, or give it the table's column names (a header row)"),
    "reject.schema.frozen": Code("the file does not fit its table's frozen schema", fix="deliver the file with the table's columns, or change schema_evolution and replay"),
    "reject.schema.type_change": Code("the file would turn typed columns into text", fix="fix the values in the file and deliver it again, or set schema_evolution: loose and replay"),
    "reject.sheet": Code("the workbook has no sheet of the name the dataset reads", fix="name one of its sheets in the dataset's `sheet`, or deliver the workbook with that sheet"),
    "reject.symlink": Code("the landed object is a symbolic link; lakegate never follows one", fix="deliver the file itself (copy it into landing), not a link to it"),
    "reject.too_deep": Code("the JSON nests arrays and objects more than ingest.max_nesting levels deep", fix="flatten the documents, or raise ingest.max_nesting"),
    "reject.too_many_columns": Code("the header names more columns than ingest.max_columns", fix="split the file by columns, or raise ingest.max_columns"),
    "reject.too_slow": Code("reading the file took longer than ingest.judge_timeout_seconds", fix="split the file, or raise ingest.judge_timeout_seconds, then replay it"),
    "reject.truncated_parquet": Code("the Parquet file is cut short or damaged", fix="deliver the complete file again"),
    "reject.unparseable": Code("the file cannot be parsed in its format (the message names the line)", fix="fix the line named and deliver the file again"),
    "reject.unsupported_compression": Code("the compression is not one lakegate reads, or an archive holds another", fix="deliver the file with one level of gzip, zstd, bzip2 or zip"),
    "reject.vanished": Code("the file disappeared while it was crawled"),
    "reject.zip_members": Code("a zip archive holds more than one file", fix="deliver each file on its own (zipped or not)"),
    # -- ingest: transient conditions, retried by lakegate itself ---------------------------------
    "ingest.being_written": Code("a process still has the landing file open for writing; it is taken once closed", status=503),
    "ingest.changed_while_taken": Code("the landing file changed while it was taken; it is taken again", status=503),
    "ingest.judge_crashed": Code("the process reading a file died; the file is tried once more in a fresh one", status=503),
    "ingest.judge_memory": Code("reading a file ran out of its process's memory; it is tried again", status=503),
    "ingest.judge_start": Code("a process to read a file could not be started", status=503),
    "ingest.judge_timeout": Code("reading a file took longer than ingest.judge_timeout_seconds"),
    "ingest.replaying": Code("the object is being put back in landing by a replay; it is taken next", status=503),
    "ingest.worker_died": Code("the worker process taking the object died; the object is taken again", status=503),
    "accelerate.mismatch": Code("a Parquet copy does not hold what its source file holds; queries keep reading the source"),
    # -- queries ------------------------------------------------------------------------------------
    "guard.refused": Code("the statement was refused before it ran", sqlstate="42501"),
    "guard.empty": Code("the query is empty", fix="write a SELECT statement"),
    "guard.syntax": Code("the statement is not valid SQL", sqlstate="42601", fix="fix it where the message points"),
    "guard.multiple_statements": Code("more than one statement was sent", sqlstate="42601", fix="send them one by one"),
    "guard.not_read_only": Code("the statement would change something; lakegate is read-only", sqlstate="25006", fix="query with SELECT (or SHOW, DESCRIBE, EXPLAIN)"),
    "guard.table_unknown": Code("the query names a table that does not exist or is not granted", sqlstate="42P01", fix="`SHOW TABLES` lists the tables you may read"),
    "guard.function": Code("the query calls a function that reads files, settings or the environment, or runs SQL", sqlstate="42501", fix="use catalog tables and ordinary functions"),
    "guard.dialect": Code("Athena SQL that lakegate cannot run with Athena's meaning", sqlstate="0A000", fix="write it in DuckDB's dialect, or without the construct named"),
    "guard.too_complex": Code("the statement is longer than query.max_statement_kb or nests deeper than query.max_nesting", sqlstate="54001", fix="simplify the query, or raise those settings"),
    "query.failed": Code("the engine refused or failed the query (its message says why)"),
    "query.cancelled": Code("the query was cancelled: by its client, or because its principal's access ended or changed", sqlstate="57014"),
    "query.timeout": Code("the query ran (or waited for its turn) longer than its limit", status=408, sqlstate="57014", fix="filter or aggregate more, or ask for a workgroup with a longer timeout"),
    "query.memory": Code("the query needs more memory than query.memory_limit (or its workgroup's)", sqlstate="53200", fix="aggregate or filter more, or raise query.memory_limit"),
    "query.rows": Code("the result has more rows than query.max_rows (or its workgroup's)", sqlstate="54000", fix="add a LIMIT or aggregate; download or stream the result for more"),
    "query.bytes_limit": Code("the query would read more bytes of files than its workgroup allows", sqlstate="54000", fix="filter on partition columns, read fewer tables, or ask for a larger limit"),
    "query.too_many": Code("the workgroup runs its most queries at once and its queue is full", status=429, sqlstate="53300", fix="retry in a moment, or ask an admin for a larger workgroup"),
    "query.engine_crashed": Code("the engine process running the query died (the server and other queries are unaffected)", fix="simplify the statement; deeply nested JSON and huge strings or lists are the usual causes"),
    "query.engine_unavailable": Code("no engine process could be started to run the query", status=503),
    "query.engine_not_configured": Code("the query is to run on Spark (its workgroup's engine, or asked for) and this lakegate has no Spark engine", sqlstate="0A000", fix="set engines.spark.url, or the workgroup's engine to duckdb"),
    "query.engine_unsupported": Code("the Spark engine cannot answer this query as DuckDB would (a file without its Parquet copy yet, in a dialect Spark reads otherwise; a type Spark lacks)", sqlstate="0A000", fix="retry once acceleration has copied the file, or run the query on DuckDB"),
    "query.node_lost": Code("the node running the query stopped before the query finished", status=503, fix="run the query again (another node takes it)"),
    "query.internal": Code("lakegate failed on this query (a bug)", fix="report it with the query"),
    "query.no_result": Code("the background query has no result to read: not finished, failed or expired", status=409, fix="GET /v1/queries/{id} says its state; results are kept for a day"),
    "query.result_not_kept": Code("the background query's result could not be written to disk", status=503, fix="free some disk space in the home's results/ folder"),
    "query.server_unreachable": Code("the remote lakegate did not answer", status=503, fix="check the URL and that lakegate up serves --http-port there"),
    "query.unknown": Code("no query has that id (or it is not yours)", status=404, fix="GET /v1/queries lists yours"),
    "saved.invalid": Code("a saved query needs a name (up to 255 characters) and its SQL"),
    "saved.unknown": Code("no saved query has that id", status=404),
    # -- the PostgreSQL wire --------------------------------------------------------------------
    "pgwire.protocol": Code("the client broke the PostgreSQL protocol, or speaks a version other than 3.0", sqlstate="08P01"),
    "pgwire.parameters": Code("a parameter value cannot be read as its declared type", sqlstate="08P01"),
    "pgwire.setting": Code("an unknown session setting", sqlstate="42704", fix="lakegate takes the session settings drivers use; others mean nothing here"),
    "pgwire.aborted": Code("the transaction block failed; statements are ignored until it ends", sqlstate="25P02", fix="send ROLLBACK"),
    "pgwire.unknown_statement": Code("no prepared statement of that name", sqlstate="26000"),
    "pgwire.unknown_portal": Code("no portal or cursor of that name", sqlstate="34000"),
    "pgwire.statement_exists": Code("a prepared statement of that name exists already", sqlstate="42P05"),
    "pgwire.cursor_exists": Code("a cursor of that name exists already", sqlstate="42P03"),
    "pgwire.no_transaction": Code("DECLARE CURSOR outside a transaction block", sqlstate="25P01", fix="BEGIN first, or DECLARE ... CURSOR WITH HOLD"),
    "pgwire.copy": Code("COPY is not supported: lakegate is read-only", sqlstate="0A000"),
    "pgwire.internal": Code("lakegate failed on this message (a bug)"),
    # -- the AWS-compatible endpoint (Athena, Glue, S3 results) -------------------------------
    "aws.unsigned": Code("the AWS request carries no Signature Version 4", status=403, fix="sign it with an AWS access key of lakegate's (`lakegate tokens create NAME --aws`)"),
    "aws.bad_signature": Code("the request's SigV4 signature is malformed or does not match its secret", status=403, fix="check the secret access key; it is shown once"),
    "aws.clock_skew": Code("the request was signed more than 15 minutes from the server's clock", status=403, fix="correct the client machine's clock (NTP)"),
    "aws.unknown_key": Code("the AWS access key is unknown, revoked or expired, or its principal disabled", status=403, fix="`lakegate tokens create NAME --aws` makes a key"),
    "aws.bad_secret_file": Code("the AWS signing secret file cannot be read, written or holds too little", fix="64 hex digits (`openssl rand -hex 32`), the same file on every node sharing the catalog"),
    "aws.unknown_operation": Code("the endpoint does not offer this Athena, Glue or S3 operation", fix="docs/aws.md lists the operations lakegate answers"),
    "aws.bad_request": Code("the request's parameters are missing, malformed or out of range", fix="the message names the parameter"),
    "aws.not_found": Code("no such database, table, partition, named query, prepared statement, workgroup or result object (or it is not the caller's)", status=404),
    "aws.bad_parameter": Code("an execution parameter is not exactly one SQL literal, or their number does not match the ? in the statement", fix="pass each value as one literal: 42, 'text', DATE '2026-12-01', NULL"),
    "aws.crawler_running": Code("the crawler is running already", status=409, fix="wait for it to finish (GetCrawler says its state)"),
    "aws.internal": Code("lakegate failed on this AWS request (a bug; the server's log has the details)", status=500, fix="report it with the request"),
    "query.repeated_request": Code("a query was started with this ClientRequestToken already (its id is answered)", status=409),
    # -- who may do what ------------------------------------------------------------------------
    "auth.invalid": Code("no valid token or password was given", status=401, sqlstate="28P01", fix="send `Authorization: Bearer <token>`; the PostgreSQL password is a token too"),
    "auth.forbidden": Code("the principal may not do this (it is for admins, or outside its landing prefix)", status=403, sqlstate="42501", fix="ask an admin, or use an admin's token"),
    "auth.csrf": Code("a console change without the session's CSRF token", status=403, fix="send the session's csrf value in the X-CSRF-Token header"),
    "auth.revoked": Code("the session's access ended: its token was revoked or expired, or its user disabled", status=401, sqlstate="28000", fix="connect again with a valid token"),
    "auth.tls_required": Code("this server accepts only TLS connections", sqlstate="28000", fix="connect with sslmode=require"),
    "auth.bad_principal": Code("the principal change is not allowed (an admin cannot disable or demote itself)", fix="another admin can"),
    "auth.bad_token": Code("a token's expiry cannot be read", fix="e.g. 90d, 12h, 30m"),
    "auth.disabled": Code("the principal is disabled", status=409, fix="`lakegate users enable NAME` first"),
    "auth.exists": Code("a principal of that name exists already", status=409, fix="pick another name"),
    "auth.unknown": Code("no principal of that name", status=404, fix="`lakegate users list` shows them"),
    "auth.unknown_token": Code("no token of that id", status=404, fix="GET /v1/tokens lists yours"),
    "grants.bad_grant": Code("the grant names no grantee, two, or a table or column that does not exist", fix="`lakegate describe TABLE` lists its columns"),
    "grants.bad_filter": Code("a grant's row filter is not one predicate over the table's own columns", fix="write a condition such as region = 'EU'"),
    "grants.unknown": Code("no grant of that id", status=404, fix="`lakegate grants list` shows them"),
    "workgroups.bad": Code("a workgroup's name or limits are not valid", fix="use letters, digits and _ . - (up to 63 characters)"),
    # -- the catalog and the stores -------------------------------------------------------------
    "catalog.failed": Code("the catalog database refused an operation"),
    "catalog.conflict": Code("two writers changed the catalog at once; the operation is retried", status=503),
    "catalog.unavailable": Code("the catalog database cannot be reached", status=503, fix="check the `catalog` setting and that the database is running"),
    "catalog.state_conflict": Code("a ledger row is no longer in the state the operation expected (another node or process moved it)", status=409),
    "catalog.claim_lost": Code("this node's claim on a ledger object ran out and another node took the object over; that node finishes it", status=409),
    "cluster.needs_postgresql": Code("another live node uses this SQLite catalog; several nodes need a PostgreSQL catalog", fix="set `catalog: postgresql://...` on every node (see README, Running on many machines)"),
    "cluster.needs_shared_storage": Code("another live node uses these local folders; several nodes need one S3 bucket (and a PostgreSQL catalog)", fix="set `storage.url: s3://bucket/prefix` on every node, or give this node its own catalog"),
    "catalog.no_table": Code("no table of that name", fix="`lakegate ls` lists them"),
    "catalog.unknown_table": Code("no table of that name", status=404, fix="`lakegate ls` lists them"),
    "catalog.unknown_column": Code("the table has no column of that name", status=404, fix="`lakegate describe TABLE` lists its columns"),
    "schema.no_version": Code("the table has no schema version of that number", fix="`lakegate schema history TABLE` lists them"),
    "quarantine.unknown": Code("no quarantined object of that id", status=404, fix="`lakegate quarantine list` shows the ids"),
    "quarantine.busy": Code("the object is being taken right now", status=409, fix="replay it once that delivery is done"),
    "quarantine.purged": Code("the quarantined object was purged: nothing is left to replay", status=409, fix="deliver the file again"),
    "archive.unknown": Code("no archived file of that id", fix="`lakegate archive list` shows the ids"),
    "storage.failed": Code("an object store operation failed"),
    "storage.<operation>": Code("an S3 call failed; <operation> names it (get, put, list, head, copy, delete...)", status=503, fix="check the bucket, the endpoint and the credentials; lakegate retries what can be"),
    "storage.bad_key": Code("the key is in no area", fix="keys start with landing/, lake/, quarantine/, archive/ or derived/"),
    "storage.not_found": Code("no object at that key"),
    "storage.changed": Code("the object was replaced since it was read"),
    "storage.changed_while_read": Code("the object changed while it was read (a writer is still at work)", status=503),
    "storage.copy": Code("an object is missing right after it was copied", status=503),
    "storage.write": Code("an object is missing right after it was written", status=503),
    "storage.verify": Code("an archive copy does not match its lake file; the file stays in the lake", status=503, fix="see `lakegate archive list`"),
    "storage.release": Code("no free name to put a held landing file back under"),
    "storage.no_hold": Code("the store cannot hold objects for taking"),
    "storage.no_url": Code("the memory store has no address a query engine can read", fix="use a local folder or S3 for a home that runs queries"),
    "storage.symlink": Code("the key is under a symbolic link; lakegate never reads, writes or deletes through links", fix="deliver real folders and files"),
    "engine.extension_missing": Code("a DuckDB extension's PyPI package is missing or built for another DuckDB", fix="reinstall lakegate (`make install`): extensions come pinned from PyPI"),
    "engine.no_s3": Code("files on S3 are cataloged, but lakegate has no S3 storage to read them with", fix="configure storage.s3 and an area on S3"),
    # -- settings, the command and the home ----------------------------------------------------
    "config.invalid": Code("a setting is not valid"),
    "config.bad_value": Code("a setting in lakegate.yaml or the environment has a bad value", fix="the message names the setting; docs/settings.md lists them"),
    "config.unknown_key": Code("lakegate.yaml names a setting that does not exist", fix="check its spelling (the message suggests the closest)"),
    "config.yaml": Code("lakegate.yaml is not a YAML mapping of settings"),
    "config.template": Code("a dataset's key or value template cannot be read", fix="the message says where; see the datasets section of the README"),
    "crawler.bad_type": Code("a type name cannot be read"),
    "events.failed": Code("an event source is unusable"),
    "events.bad_payload": Code("an S3 event notification cannot be read"),
    "events.sqs": Code("an SQS call failed", fix="check events.sqs_queue_url, the region and the credentials"),
    "home.missing": Code("the folder is not a lakegate home", fix="create it with `lakegate init --home DIR` or `lakegate up --home DIR`"),
    "home.busy": Code("another `lakegate up` runs on this home", fix="stop it first, or use another --home"),
    "http.body_too_large": Code("the request body is larger than http.max_body_kb (uploads: http.max_upload_mb)", status=413, fix="send less, or raise the setting"),
    "http.no_queries": Code("this server does not run queries", status=404),
    "crawl.bad_source": Code("`lakegate crawl` was given a URL of an unknown scheme", fix="use s3://bucket/prefix/ or a folder"),
    "crawl.too_many_tables": Code("the crawl would create more tables than --max-tables", fix="name the folder level that holds tables with --level N, crawl a narrower prefix, or pass --force"),
    "connect.no_token": Code("lakegate.connect(server=...) needs a token", fix="connect(server=..., token='lg_...')"),
    "cli.bad_format": Code("an unknown --format", fix="use table, csv or json"),
    "cli.bad_option": Code("command-line options that do not go together", fix="the message says which"),
    "cli.bad_partition": Code("a --partition that is not key=value"),
    "cli.bad_table": Code("a table name that is not database.table", fix="e.g. sales.orders"),
    "cli.bad_tls": Code("--tls-cert and --tls-key do not name two existing files", fix="give both PEM files, or --tls-self-signed for development"),
    "cli.events_need_s3": Code("S3 event notifications need a landing area on S3", fix="set storage.landing to s3://bucket/prefix/, or drop the option"),
    "cli.no_file": Code("--file names no file"),
    "cli.no_token": Code("--server needs --token (or LAKEGATE_TOKEN)"),
    "cli.nothing_chosen": Code("no objects were named to replay", fix="give ids, --all or --reason"),
    "cli.port_busy": Code("a port cannot be opened", fix="pick another port, or 0 for a free one"),
    "cli.reuse_local": Code("--reuse needs --server: results are kept by a running lakegate", fix="lakegate sql --server http://host:port --reuse 60 '...'"),
    "lakegate.error": Code("lakegate failed"),
}
# fmt: on

_PATTERNS = (("reject.rule.", "reject.rule.<check>"), ("storage.", "storage.<operation>"))


def lookup(code: str) -> Code | None:
    """The registry's entry for ``code`` (a pattern's for a code of its family), or None."""
    found = CODES.get(code)
    if found is not None:
        return found
    for prefix, pattern in _PATTERNS:
        if code.startswith(prefix):
            return CODES[pattern]
    return None


def http_status(code: str, *, transient: bool = False) -> int:
    found = lookup(code)
    if found is not None and (found.status != 400 or not transient):
        return found.status
    return 503 if transient else 400


def errors_page() -> str:
    """docs/errors.md: every code by area, with its meaning, statuses and fix."""
    lines = [
        "# Error codes",
        "",
        "Every failure lakegate reports carries one of these codes — in the HTTP API's `error.code`,",
        "in a PostgreSQL error's detail (`lakegate error code: ...`, with the SQLSTATE below), in",
        "`lakegate` command output (`error[code]: ...`) and as a quarantined file's reason. The message",
        "says what and where; the hint beside it, how to fix that case. Generated from",
        "`src/lakegate/error_codes.py` by `make docs`.",
        "",
    ]
    areas: dict[str, list[str]] = {}
    for code in sorted(CODES):
        areas.setdefault(code.split(".")[0], []).append(code)
    for area, codes in areas.items():
        lines += [f"## {area}", "", "| code | meaning | HTTP | SQLSTATE | fix |", "|---|---|---|---|---|"]
        for code in codes:
            c = CODES[code]
            cells = [f"`{code}`", c.meaning, str(c.status), c.sqlstate or "", c.fix]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)
