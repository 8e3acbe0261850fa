"""The sections of ``lakegate.yaml`` other than datasets: ingest, events, query, http and
storage, and the principals it declares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "LAKEGATE_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IngestSettings(_Section):
    workers: int = Field(4, ge=1, le=64, description="Objects processed in parallel.")
    processes: int | None = Field(
        None,
        ge=0,
        le=64,
        description="Worker processes running the pipeline, so ingest uses every core. 0: threads "
        "in the daemon only. Unset: `min(workers, 2 x cores)` when an area is on S3 (where CPU "
        "per object is highest), else 0 (a folder is fast with threads, and starts at once).",
    )
    settle_seconds: float = Field(
        5.0,
        ge=0,
        le=600,
        description="Quiet period of a landing file where the kernel cannot tell whether a "
        "process still writes it (another OS, a network file system, files lakegate neither owns "
        "nor may lease): it is taken once unchanged this long. Elsewhere a file is taken as soon as "
        "no process has it open for writing; an empty file waits this long in any case.",
    )
    settle_max_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="Longest quiet period: a file that keeps changing waits a quarter of how long it "
        "has been seen changing, from `settle_seconds` up to this.",
    )
    judge_memory_mb: int = Field(
        2048,
        ge=0,
        le=1024**2,
        description="Address space of the process that reads a delivered file (inference, rules, "
        "its Parquet copy): a file that needs more is retried in a fresh process, then quarantined "
        "(`reject.memory_limit`); the daemon's own memory is never at stake. 0: no cap.",
    )
    judge_timeout_seconds: float = Field(
        900.0,
        gt=0,
        le=86400,
        description="Longest time reading one delivered file may take; a file that takes longer is "
        "stopped and quarantined (`reject.too_slow`).",
    )
    max_decompressed_mb: int = Field(
        20480,
        ge=1,
        description="Most a compressed delivery may unpack to; beyond it the file is quarantined "
        "(`reject.decompression_limit`) without being unpacked further.",
    )
    max_decompression_ratio: int = Field(
        250,
        ge=2,
        description="Most bytes a compressed delivery may unpack to per compressed byte, once it has "
        "unpacked to 64 MB (real text compresses 3-30 times; a bomb of zeros, a thousand): beyond it, "
        "`reject.decompression_limit`.",
    )
    max_line_bytes: int = Field(
        16 * 1024**2,
        ge=1024,
        description="Longest line of a delivered CSV/TSV, in bytes; a file with a longer one "
        "(a 500 MB file with no line break, say) is quarantined (`reject.line_too_long`).",
    )
    max_nesting: int = Field(
        256,
        ge=8,
        le=10_000,
        description="Deepest nesting of arrays and objects in a delivered JSON or NDJSON file, measured "
        "before any parser reads it (`reject.too_deep`).",
    )
    max_columns: int = Field(
        10_000,
        ge=1,
        le=100_000,
        description="Most columns a delivered file's header may name (`reject.too_many_columns`).",
    )
    reconcile_seconds: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="How often the landing folder is listed in full, so an object whose event was "
        "lost is still processed.",
    )
    default_route: bool = Field(
        True,
        description="Route `landing/<database>/<table>/[k=v/...]<file>` to `database.table` "
        "without any configuration.",
    )
    retry_max_seconds: float = Field(
        30.0, gt=0, description="Longest wait between retries of a transient failure (storage, catalog)."
    )
    schema_evolution: Literal["evolve", "loose", "add_only", "freeze"] = Field(
        "evolve",
        description="Default of the datasets' `schema_evolution`, and the policy of tables made by "
        "the folder route: `evolve` takes new columns and widens numbers and times within their "
        "family, and quarantines a file that would turn a typed column into text "
        "(`reject.schema.type_change`) or shares no column with its table (`reject.schema.disjoint`); "
        "`loose` takes those too.",
    )
    accelerate: Literal["parquet", "off"] = Field(
        "parquet",
        description="Default of the datasets' `accelerate`: `parquet` writes a verified Parquet copy "
        "of every cataloged CSV and JSON file in the background, which queries then read; `off`.",
    )
    accelerate_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Threads that write the background Parquet copies (one file at a time); 0: one "
        "per core of the machine, as DuckDB's own conversion uses. While deliveries are being taken "
        "a copy uses one thread, so that new files become queryable first.",
    )
    copy_while_judging: bool = Field(
        False,
        description="Write the Parquet copy of a large CSV or JSON file (4 MB and more) of an "
        "accelerated dataset in the very read that judges it, instead of in the background: one "
        "parse of its bytes, and the file is fast to query the moment it is queryable, but it "
        "becomes queryable later (TPC-H scale 1 on 2 cores: queryable and accelerated both at about "
        "2x DuckDB's own CSV-to-Parquet conversion, instead of queryable at 1.3x and accelerated at "
        "2.7x).",
    )


class EventsSettings(_Section):
    sqs_queue_url: str | None = Field(
        None,
        description="Read S3 event notifications (sent by S3 directly or through SNS) from this SQS "
        "queue, with the `storage.s3` ingest identity. Unset: no SQS consumer; the reconciler and "
        "`lakegate up --events-port` still see every object.",
    )
    sqs_endpoint_url: str | None = Field(None, description="SQS endpoint of a non-AWS queue service.")
    sqs_region: str | None = Field(
        None, description="SQS region. Unset: the region in the queue URL, else `storage.s3.region`."
    )
    sqs_wait_seconds: int = Field(
        20, ge=0, le=20, description="Long-poll wait of each ReceiveMessage call (0 to 20 s)."
    )


class QuerySettings(_Section):
    threads: int = Field(2, ge=1, le=256, description="Engine threads per query.")
    memory_limit: str = Field(
        "2GB",
        pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Engine memory per query, e.g. `512MB`, `4GB`. A query that needs more fails with "
        "`query.memory`.",
    )
    timeout_seconds: float = Field(300.0, gt=0, description="A query running longer is interrupted.")
    max_rows: int = Field(
        1_000_000, ge=1, description="Most rows a query may return to a client (more fails `query.rows`)."
    )
    isolation: Literal["process", "thread"] = Field(
        "process",
        description="Where `lakegate up` runs queries: `process`, in engine processes of their own, "
        "one query at a time each, so a query that crashes the engine or exhausts its memory fails "
        "alone (`query.engine_crashed`, `query.memory`) and the server goes on; `thread`, inside the "
        "server (faster to start, but such a query takes the server down).",
    )
    processes: int = Field(
        8,
        ge=1,
        le=256,
        description="Most engine processes (`isolation: process`): queries beyond this many at once "
        "wait for one to be free. Each is started when needed and kept for the next query.",
    )
    process_memory_margin_mb: int = Field(
        1024,
        ge=0,
        description="An engine process may use `memory_limit` plus this much memory in all (its "
        "address space): what DuckDB allocates outside its own limit (long strings and lists, "
        "results) is bounded too. N queries at once use at most N x (memory_limit + this). 0: no cap.",
    )
    max_statement_kb: int = Field(
        256,
        ge=1,
        le=65536,
        description="Largest statement accepted, in KB; a larger one is refused before it is parsed "
        "(`guard.too_complex`).",
    )
    max_nesting: int = Field(
        128,
        ge=8,
        le=2000,
        description="Deepest nesting of parentheses and brackets in a statement (subqueries, calls, "
        "lists); a deeper one is refused before it is parsed (`guard.too_complex`).",
    )
    result_cache_mb: int = Field(
        256,
        ge=0,
        description="Memory for results kept for reuse, used only by queries that ask for it (like "
        "Athena's result reuse: `reuse_max_age_minutes`, `lakegate sql --reuse`); 0 keeps none.",
    )


class HttpSettings(_Section):
    max_body_kb: int = Field(
        1024,
        ge=16,
        le=1024**2,
        description="Largest request body of the HTTP API, in KB (uploads excepted); a larger one is "
        "refused with 413 `http.body_too_large` before it is read. Bodies are read only after the "
        "request's token is checked.",
    )
    max_connections: int = Field(
        512,
        ge=1,
        description="Most HTTP connections and requests in progress at once; beyond, a request is "
        "answered 503 at once.",
    )
    max_upload_mb: int = Field(
        5120,
        ge=1,
        description="Largest file `POST /v1/upload/...` (the console's and `lakegate put`'s upload) "
        "accepts, in MB.",
    )
    metrics: Literal["open", "token"] = Field(
        "open",
        description="Who reads `GET /metrics` (Prometheus text: counts of files and queries, their "
        "durations, the node's name — no data, no names of tables or people): `open`, anyone who "
        "reaches the HTTP port (keep the port private, or scrape through a proxy); `token`, only "
        "requests with a valid token (`Authorization: Bearer lg_…`, Prometheus' `authorization` "
        "setting), 401 without.",
    )


class ClusterSettings(_Section):
    node_id: str | None = Field(
        None,
        description="This node's name in the node registry (`lakegate nodes`); by default one made "
        "when the home is first used (its host name and a random suffix), kept in the home.",
    )
    lease_seconds: float = Field(
        15.0,
        ge=2,
        le=3600,
        description="How long a node's claim on a delivery, and its query slots, last unless renewed "
        "(a live node renews them every fifth of this): a node that dies has its deliveries taken "
        "over by another node this long after its last renewal.",
    )


class SparkSettings(_Section):
    url: str | None = Field(
        None,
        description="The Spark Connect server queries may run on (`sc://host:15002`, with "
        "`/;use_ssl=true;token=...` as Spark Connect takes them). Unset: no Spark engine. It must be "
        "reachable from lakegate only: Spark Connect runs whatever a client sends.",
    )
    auto_above_mb: float = Field(
        1024.0,
        ge=0,
        description="A workgroup with `engine: auto` runs a query on Spark when the files it would "
        "read (after pruning) hold more than this many MB, on DuckDB otherwise.",
    )
    s3_scheme: Literal["s3a", "s3"] = Field(
        "s3a",
        description="How Spark addresses a lake on S3: `s3a` for open-source Spark with the "
        "`hadoop-aws` filesystem (see the README), `s3` on EMR and Databricks, whose `s3://` is native.",
    )
    keep_sessions: int = Field(
        4,
        ge=0,
        le=64,
        description="Spark Connect sessions kept between queries, each with the tables it has read "
        "ready for the next query that reads them as the same caller may.",
    )


class EnginesSettings(_Section):
    spark: SparkSettings = Field(default_factory=SparkSettings)


class CrawlerSettings(_Section):
    name: str = Field(..., description="The crawler's name, as Glue's StartCrawler/GetCrawler call it.")
    url: str = Field(..., description="What it crawls: `s3://bucket/prefix/`, `file:///path/` or a folder.")
    database: str | None = Field(None, description="Database of its tables (default: the prefix's name).")
    level: int | None = Field(
        None, ge=0, description="Folder depth that names tables (as `lakegate crawl --level`)."
    )
    by_schema: bool = Field(False, description="Sibling folders with the same columns make one table.")
    max_tables: int = Field(20, ge=1, description="Refuse to create more new tables in one crawl.")
    on_deleted: Literal["unregister", "report"] = Field(
        "unregister", description="Files gone from the store: unregistered, or only reported."
    )


class AwsSettings(_Section):
    secret_file: str = Field(
        "",
        description="The file of the secret AWS access keys are derived from (64 hex digits; created "
        "mode 0600 when missing). Empty: `aws-signing.secret` in the home. Nodes sharing a catalog "
        "share this file; replacing it ends every AWS key at once.",
    )
    results_location: str = Field(
        "s3://lakegate-results/",
        description="The `OutputLocation` workgroups report: `<location><query id>.csv` is each Athena "
        "query's result, read through the same endpoint (only by who ran it, and admins).",
    )
    managed_results: list[str] = Field(
        default_factory=list,
        description="Workgroups (`primary`, lakegate workgroups; `*`: all) whose results are managed, "
        "as Athena's managed query results: no `OutputLocation` is reported, so PyAthena's cursors and "
        "awswrangler page `GetQueryResults` instead of reading S3 (pyarrow's S3 client, which PyAthena's "
        "ArrowCursor uses, cannot be pointed at another endpoint). The CSV stays readable in the bucket.",
    )

    def manages(self, workgroup: str) -> bool:
        return "*" in self.managed_results or workgroup in self.managed_results


class S3Settings(_Section):
    endpoint_url: str | None = Field(
        None, description="S3 endpoint for MinIO, Ceph, SeaweedFS...; unset for AWS."
    )
    region: str = Field("us-east-1", description="S3 region.")
    path_style: bool = Field(True, description="Path-style addressing; false for virtual-host style.")
    access_key: str | None = Field(
        None, description="Ingest identity (read, write, delete). Unset: the standard AWS credential chain."
    )
    secret_key: str | None = Field(None, description="Secret of the ingest identity.")
    query_access_key: str | None = Field(
        None,
        description="Read-only identity the query engine uses, so no query can write even through the "
        "engine. Unset: the ingest identity (lakegate warns).",
    )
    query_secret_key: str | None = Field(None, description="Secret of the read-only query identity.")


_AREA_HELP = (
    "Where the {area} area lives: `s3://bucket/prefix/`, `file:///path/` or a folder path. "
    "Unset: the folder `{area}/` in the home."
)


class StorageSettings(_Section):
    landing: str = Field("", description=_AREA_HELP.format(area="landing"))
    lake: str = Field("", description=_AREA_HELP.format(area="lake"))
    quarantine: str = Field("", description=_AREA_HELP.format(area="quarantine"))
    archive: str = Field(
        "",
        description="Where replaced, expired and dropped lake files are kept until purged: a URL as "
        "above. Unset: `_archive/` inside the lake (a folder engines skip, by the Hive convention).",
    )
    derived: str = Field(
        "",
        description="Where derived Parquet copies are kept (of files the engine cannot read in place: "
        "bzip2, zip, Excel, Windows-1252...): a URL as above. Unset: `_derived/` inside the lake.",
    )
    results: str = Field(
        "",
        description="Where the results of background queries are kept for a day, so that any node "
        "serves them: a URL as above. Unset: `_results/` inside the lake when the lake is on S3, "
        "else only the home's `results/` folder (one node).",
    )
    s3: S3Settings = Field(default_factory=S3Settings)

    @field_validator("landing", "lake", "quarantine", "archive", "derived", "results")
    @classmethod
    def _area_url(cls, value: str) -> str:
        value = value.strip()
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme and scheme not in ("s3", "file"):
            raise ValueError(f"unknown scheme `{scheme}://`: use s3://bucket/prefix/ or file:///path/")
        if scheme == "s3" and not value[5:].split("/", 1)[0]:
            raise ValueError("the s3:// URL names no bucket: use s3://bucket/prefix/")
        return value

    def uses_s3(self) -> bool:
        areas = (self.landing, self.lake, self.quarantine, self.archive, self.derived)
        return any(v.startswith("s3://") for v in areas)


class PrincipalSettings(_Section):
    name: str = Field(..., description="The principal's name (letters, digits, `_ . @ -`).")
    role: Literal["admin", "analyst", "provider"] = Field("analyst", description="Its role.")
    kind: Literal["user", "service"] = Field("user", description="A person, or an account for a program.")
    workgroup: str | None = Field(None, description="Its workgroup.")
    landing_prefix: str | None = Field(
        None, description="Where a provider may upload, e.g. `acme/` (providers need one)."
    )
    description: str = Field("", description="Who or what it is.")
