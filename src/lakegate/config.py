"""Settings: the ``lakegate.yaml`` model, environment overrides and readable errors.

No file is needed: every setting has a default. A file, when present, may set any subset.
``LAKEGATE_<SECTION>__<KEY>`` environment variables override the file
(``LAKEGATE_INGEST__WORKERS=8``; ``LAKEGATE_CATALOG=postgresql://...`` for top-level keys).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakegate.errors import ConfigError
from lakegate.home import Home

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
    s3: S3Settings = Field(default_factory=S3Settings)

    @field_validator("landing", "lake", "quarantine", "archive", "derived")
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


RuleCheck = Literal[
    "size", "extension", "age", "encoding", "header", "rows", "required_columns", "allowed_columns",
    "types", "not_null", "unique", "allowed_values", "regex", "range",
]  # fmt: skip
RULE_CHECKS: tuple[str, ...] = get_args(RuleCheck)
# What each check takes: its parameters, and which of them it needs (any one of a tuple).
_RULE_PARAMETERS: dict[str, tuple[set[str], list[tuple[str, ...]]]] = {
    "size": ({"min", "max"}, [("min", "max")]),
    "rows": ({"min", "max"}, [("min", "max")]),
    "extension": (set(), []),
    "header": (set(), []),
    "encoding": ({"values"}, [("values",)]),
    "age": ({"max_age", "field"}, [("max_age",)]),
    "required_columns": ({"columns"}, [("columns",)]),
    "allowed_columns": ({"columns"}, [("columns",)]),
    "not_null": ({"columns"}, [("columns",)]),
    "unique": ({"columns"}, [("columns",)]),
    "types": ({"types"}, [("types",)]),
    "allowed_values": ({"column", "values"}, [("column",), ("values",)]),
    "regex": ({"column", "pattern"}, [("column",), ("pattern",)]),
    "range": ({"column", "min", "max"}, [("column",), ("min", "max")]),
}
ENCODINGS = ("ascii", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-be")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``15m``, ``36h``, ``7d`` or ``2w``."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write a number and s, m, h, d or w, e.g. 7d")
    return float(found[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[found[2]]


class RuleSettings(_Section):
    """One validation rule of a dataset."""

    check: RuleCheck = Field(
        ...,
        description="On the object: `size` (bytes within min/max), `extension` (the name agrees with "
        "the content), `age` (at most `max_age` old when it arrives, or after the date in the key "
        "`field`), `encoding` (one of `values`: ascii, utf-8, utf-8-sig, latin-1, cp1252, utf-16, "
        "utf-16-be). On the "
        "content: `header` (a CSV has a header row), `rows` (data rows within min/max), `required_columns` / "
        "`allowed_columns` (against `columns`), `types` (each column in `types` reads as that type: "
        "integer, number, boolean, date, timestamp, text or a SQL type), `not_null` and `unique` (over "
        "`columns`; unique as a combination), `allowed_values` (`column` only holds `values`), `regex` "
        "(`column` fully matches `pattern`), `range` (`column` within min/max, numbers or dates).",
    )
    severity: Literal["reject", "warn"] = Field(
        "reject", description="`reject`: quarantine the file; `warn`: accept it and record the warning."
    )
    min: int | float | str | None = Field(
        None, description="Lower bound: bytes for `size`, rows for `rows`, a number or date for `range`."
    )
    max: int | float | str | None = Field(None, description="Upper bound, as `min`.")
    columns: list[str] = Field(
        default_factory=list,
        description="Columns for `required_columns`, `allowed_columns`, `not_null` and `unique`.",
    )
    column: str | None = Field(None, description="The column of `allowed_values`, `regex` and `range`.")
    values: list[str | int | float | bool] = Field(
        default_factory=list, description="What `allowed_values` allows, or the encodings `encoding` allows."
    )
    pattern: str | None = Field(None, description="The regular expression (RE2) of `regex`.")
    types: dict[str, str] = Field(default_factory=dict, description="Column → expected type, for `types`.")
    max_age: str | None = Field(None, description="The `age` limit: `36h`, `7d`, `2w`.")
    field: str | None = Field(
        None,
        description="For `age`: a date field of the dataset's key; the age is then how long after that "
        "date the file arrived (a late delivery), else how old the object is when it is taken.",
    )

    @model_validator(mode="after")
    def _parameters_fit(self) -> RuleSettings:
        takes, needs = _RULE_PARAMETERS[self.check]
        given = {f for f in self.model_fields_set if f not in ("check", "severity")}
        extra = sorted(given - takes)
        if extra:
            takes_text = ", ".join(sorted(takes)) or "no parameters"
            raise ValueError(
                f"the {self.check} rule does not take {', '.join(extra)} (it takes {takes_text})"
            )
        for alternatives in needs:
            if not any(getattr(self, a) not in (None, [], {}) for a in alternatives):
                raise ValueError(f"the {self.check} rule needs {' or '.join(alternatives)}")
        if self.check in ("size", "rows"):
            for bound in (self.min, self.max):
                if bound is not None and (not isinstance(bound, int) or bound < 0):
                    raise ValueError(f"the {self.check} rule's min and max are whole numbers from 0")
        if self.check == "range":
            self._range_bounds()
        elif self.min is not None and self.max is not None and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.check == "encoding":
            unknown = [v for v in self.values if v not in ENCODINGS]
            if unknown:
                raise ValueError(f"unknown encodings {unknown}: use {', '.join(ENCODINGS)}")
        if self.max_age is not None:
            parse_duration(self.max_age)
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"the pattern {self.pattern!r} is not a regular expression: {exc}") from None
        for column, typ in self.types.items():
            from lakegate.types import expected_type

            try:
                expected_type(typ)
            except ValueError as exc:
                raise ValueError(f"types.{column}: {exc}") from None
        return self

    def _range_bounds(self) -> None:
        bounds = [b for b in (self.min, self.max) if b is not None]
        kinds = {
            "number" if isinstance(b, int | float) and not isinstance(b, bool) else "text" for b in bounds
        }
        if len(kinds) > 1:
            raise ValueError("the range rule's min and max are both numbers or both dates")
        if kinds == {"text"}:
            import datetime as dt

            for b in bounds:
                try:
                    dt.datetime.fromisoformat(str(b))
                except ValueError:
                    raise ValueError(f"the range bound {b!r} is neither a number nor an ISO date") from None
            if len(bounds) == 2 and dt.datetime.fromisoformat(str(bounds[0])) > dt.datetime.fromisoformat(
                str(bounds[1])
            ):
                raise ValueError(f"min {self.min} is after max {self.max}")
        elif len(bounds) == 2 and bounds[0] > bounds[1]:  # type: ignore[operator]
            raise ValueError(f"min {self.min} is above max {self.max}")


class DatasetSettings(_Section):
    """One kind of delivery: which landing keys it covers and where they go."""

    name: str = Field(
        ..., pattern=r"^[A-Za-z0-9_.-]+$", description="A name for messages and records (unique)."
    )
    key: str = Field(
        ...,
        description="Key template of its landing keys, e.g. `landing/{customer}/sales_{date:%Y%m%d}.csv`: "
        "`{name}` one folder level, `{name:%Y%m%d}` a date, `{name:**}` any depth, `*` and `**` "
        "wildcards.",
    )
    database: str = Field(
        ..., description="Database, as a value template over the key's fields: `{customer}`."
    )
    table: str = Field(..., description="Table, as a value template: `sales`.")
    partition: dict[str, str] = Field(
        default_factory=dict,
        description='Partition keys and their value templates, in folder order: `{dt: "{date:%Y-%m-%d}"}`.',
    )
    formats: list[Literal["csv", "json", "parquet", "xlsx"]] = Field(
        default_factory=list, description="Formats it accepts (by content, not extension); empty: any."
    )
    compressions: list[Literal["none", "gzip", "zstd", "bzip2", "zip"]] = Field(
        default_factory=list, description="Compressions it accepts; empty: any."
    )
    sheet: str = Field(
        "",
        description="The sheet of Excel workbooks to read; unset: the first sheet with data (the "
        "others are named in the file's warnings).",
    )
    rules: list[RuleSettings] = Field(
        default_factory=list, description="Validation rules every file of the dataset must pass."
    )
    timezone: str = Field(
        "UTC",
        description="Time zone of `{arrival:...}` values and of the `age` rule's key dates, e.g. "
        "`Europe/Paris`.",
    )
    duplicates: Literal["keep_both", "replace", "reject"] = Field(
        "keep_both",
        description="A file with new content under a name the table already has: `keep_both` (stored "
        "with a unique suffix), `replace` (takes the earlier file's place; that one moves to the "
        "archive) or `reject` (quarantined). Identical content re-sent is always skipped and recorded.",
    )
    schema_evolution: Literal["evolve", "loose", "add_only", "freeze"] | None = Field(
        None,
        description="How a file may change its table's schema: `evolve` (add columns, widen numbers "
        "and times within their family; a file that would turn a typed column into text, or that "
        "shares no column with its table, is quarantined), `loose` (also those), `add_only` (add "
        "columns, never change a type) or `freeze` (neither: files must fit the schema the first "
        "file made). A file that needs more is quarantined. Unset: `ingest.schema_evolution`.",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        description="Move a partition whose newest file arrived more than this many days ago to the "
        "archive (checked hourly by `lakegate up`, or by `lakegate retention`). Unset: keep forever.",
    )
    accelerate: Literal["parquet", "off"] | None = Field(
        None,
        description="`parquet`: after a CSV or JSON file is cataloged, a verified Parquet copy is "
        "written in the background and queries read it instead (the delivered file stays the "
        "truth); `off`: queries always read the delivered file. Unset: `ingest.accelerate`.",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris") from None
        return value

    @field_validator("key")
    @classmethod
    def _key_template(cls, value: str) -> str:
        from lakegate.templates import KeyTemplate, TemplateError

        try:
            KeyTemplate(value)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _value_templates(self) -> DatasetSettings:
        from lakegate.names import identifier
        from lakegate.templates import KeyTemplate, TemplateError, ValueTemplate

        key = KeyTemplate(self.key)
        for what, text in [("database", self.database), ("table", self.table), *self.partition.items()]:
            try:
                ValueTemplate(text, key)
            except TemplateError as exc:
                raise ValueError(f"{what}: {exc}") from None
        for rule in self.rules:
            if rule.field is not None:
                field = key.fields.get(rule.field)
                if field is None or field.kind != "date":
                    dates = ", ".join(n for n, f in key.fields.items() if f.kind == "date") or "none"
                    raise ValueError(
                        f"the age rule's field {rule.field!r} is not a date field of the key "
                        f"(its date fields: {dates})"
                    )
        for name in self.partition:
            if identifier(name) != name or not name.strip("_"):
                raise ValueError(
                    f"the partition key {name!r} is not a name: use lowercase letters, digits and _"
                )
        return self


class PrincipalSettings(_Section):
    name: str = Field(..., description="The principal's name (letters, digits, `_ . @ -`).")
    role: Literal["admin", "analyst", "provider"] = Field("analyst", description="Its role.")
    kind: Literal["user", "service"] = Field("user", description="A person, or an account for a program.")
    workgroup: str | None = Field(None, description="Its workgroup.")
    landing_prefix: str | None = Field(
        None, description="Where a provider may upload, e.g. `acme/` (providers need one)."
    )
    description: str = Field("", description="Who or what it is.")


class Settings(_Section):
    """Everything in ``lakegate.yaml``."""

    catalog: str = Field(
        "sqlite",
        description="`sqlite` (the file `catalog.db` in the home) or a SQLAlchemy URL such as "
        "`postgresql://user@host:5432/db` or `sqlite:////path/to/catalog.db`.",
    )
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    query: QuerySettings = Field(default_factory=QuerySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    datasets: list[DatasetSettings] = Field(
        default_factory=list,
        description="Datasets, tried in order: the first whose key template matches a landing key "
        "routes it; keys no dataset matches take the default route (`ingest.default_route`).",
    )

    principals: list[PrincipalSettings] = Field(
        default_factory=list,
        description="Principals applied to the catalog when `lakegate up` starts: created or updated; "
        "one removed from the list is disabled. Tokens are never declared: `lakegate tokens create`.",
    )

    @field_validator("datasets")
    @classmethod
    def _unique_dataset_names(cls, datasets: list[DatasetSettings]) -> list[DatasetSettings]:
        names = [d.name for d in datasets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"dataset names must be unique: {', '.join(repeated)} appears more than once")
        return datasets

    def catalog_url(self, home: Home) -> str:
        if self.catalog == "sqlite":
            return f"sqlite:///{home.catalog_file}"
        return self.catalog


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds: itself, or the items of a list of models."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is list and args and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else None
    return None


def _follow(path: tuple[str | int, ...]) -> tuple[type[BaseModel] | None, str]:
    """The model at ``path`` (list indexes skipped) and the help text of its last field."""
    model: type[BaseModel] | None = Settings
    help_text = ""
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None, help_text
        help_text = field.description or ""
        model = _submodel(field.annotation)
    return model, help_text


def _first_error(error: ValidationError) -> Any:
    """The error to report: an unknown key first (it often causes the others), else the first."""
    errors = error.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def _line_of(path: Path, loc: tuple[str | int, ...]) -> int | None:
    """The line of ``lakegate.yaml`` where the setting at ``loc`` is written (the deepest found)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _explain(error: ValidationError, source: str) -> ConfigError:
    first = _first_error(error)
    loc = tuple(first["loc"])
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if first["type"] == "extra_forbidden":
        section, _ = _follow(loc[:-1])
        known = list(section.model_fields) if section else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys here: {', '.join(known)}"
        return ConfigError(f"{source}: unknown setting `{key}`", code="config.unknown_key", hint=hint)
    _, help_text = _follow(loc)
    message = str(first["msg"]).removeprefix("Value error, ")
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return ConfigError(
        f"{source}: bad value for `{key or 'the file'}`: {message}{shown}",
        code="config.bad_value",
        hint=help_text or None,
    )


def _env_overrides(environ: dict[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    data: dict[str, Any] = {}
    names: dict[tuple[str, ...], str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "LAKEGATE_HOME" or name.startswith("LAKEGATE_TEST"):
            continue
        path = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split("__"))
        if path[0] not in Settings.model_fields:
            continue  # other LAKEGATE_* variables belong to other tools
        target = data
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
        names[path] = name
    return data, names


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(home: Home, environ: dict[str, str] | None = None) -> Settings:
    """Read ``lakegate.yaml`` (if any) and the environment into validated settings.

    Raises:
        ConfigError: naming the file or variable, the key and how to fix it.
    """
    environ = dict(os.environ) if environ is None else environ
    path = home.config_file
    data: dict[str, Any] = {}
    if path.exists():
        data = read_yaml(path)
    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        error = _explain(exc, str(path))
        line = _line_of(path, tuple(_first_error(exc)["loc"]))
        if line:
            error.message = error.message.replace(f"{path}: ", f"{path}, line {line}: ", 1)
        raise error from None
    overrides, names = _env_overrides(environ)
    try:
        return Settings.model_validate(_merge(data, overrides))
    except ValidationError as exc:
        loc = tuple(str(p) for p in exc.errors()[0]["loc"])
        source = names.get(loc) or names.get(loc[:1]) or "environment"
        raise _explain(exc, f"environment variable {source}") from None


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            code="config.yaml",
            hint="fix the syntax; `lakegate init` writes a commented example",
        ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level", code="config.yaml")
    return loaded


def _walk(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any, str, type[BaseModel] | None]]:
    """Every setting: (dotted key, default, help, its model if it is a section). List items are
    walked as ``key[].field`` (set in the file only, not from the environment)."""
    rows: list[tuple[str, Any, str, type[BaseModel] | None]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        sub = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        default = None if sub else field.get_default(call_default_factory=True)
        if field.is_required():
            default = "(required)"
        rows.append((prefix + name, default, field.description or "", sub))
        if sub:
            rows.extend(_walk(sub, prefix + name + "."))
        elif (item := _submodel(annotation)) is not None:
            rows.extend(_walk(item, prefix + name + "[]."))
    return rows


def settings_reference() -> str:
    """Markdown reference of every setting, generated from the model (docs/settings.md)."""
    lines = [
        "# Settings reference",
        "",
        "Generated from `lakegate.config.Settings` by `make docs`; a test fails when it is stale.",
        "Every setting is optional. Put them in `<home>/lakegate.yaml`, or override one with",
        "`LAKEGATE_<SECTION>__<KEY>` (for example `LAKEGATE_INGEST__WORKERS=8`).",
        "",
        "| setting | default | environment | description |",
        "|---|---|---|---|",
    ]
    rows = _walk(Settings)
    lists = {key.split("[]", 1)[0] for key, *_ in rows if "[]" in key}
    for key, default, help_text, sub in rows:
        if sub:
            continue
        file_only = "[]" in key or key in lists
        env = "(file only)" if file_only else f"`{ENV_PREFIX + key.upper().replace('.', '__')}`"
        lines.append(f"| `{key}` | `{default}` | {env} | {help_text} |")
    return "\n".join(lines) + "\n"


_DATASET_EXAMPLE = """\
#   for example:
#   - name: sales
#     key: "landing/{customer}/sales_{date:%Y%m%d}.csv"
#     database: "{customer}"
#     table: sales
#     partition: {dt: "{date:%Y-%m-%d}"}
#     formats: [csv]
#     duplicates: keep_both        # or replace (the earlier file goes to the archive), reject
#     schema_evolution: evolve     # or loose, add_only, freeze
#     rules:
#       - {check: required_columns, columns: [order_id, amount]}
#       - {check: types, types: {order_id: integer, amount: number}}
#       - {check: not_null, columns: [order_id]}
#       - {check: unique, columns: [order_id]}
#       - {check: age, field: date, max_age: 7d, severity: warn}"""


_PRINCIPALS_EXAMPLE = """\
#   for example:
#   - {name: ann, role: analyst, workgroup: sales}
#   - {name: acme-upload, kind: service, role: provider, landing_prefix: acme/}"""


def example_config() -> str:
    """A commented ``lakegate.yaml`` with every default, written by ``lakegate init``."""
    lines = ["# lakegate.yaml: every setting is optional; these are the defaults.", ""]
    for key, default, help_text, sub in _walk(Settings):
        if "[]" in key:
            continue  # list items: one example follows the list instead
        depth = key.count(".")
        indent = "  " * depth
        name = key.rsplit(".", 1)[-1]
        if help_text:
            lines.append(f"# {indent}# {help_text}")
        if sub:
            lines.append(f"# {indent}{name}:")
        else:
            value = yaml.safe_dump(default).strip().removesuffix("...").strip()
            lines.append(f"# {indent}{name}: {value}")
            if key == "datasets":
                lines += [f"# {line}" for line in _DATASET_EXAMPLE.splitlines()]
            if key == "principals":
                lines += [f"# {line}" for line in _PRINCIPALS_EXAMPLE.splitlines()]
    return "\n".join(lines) + "\n"
