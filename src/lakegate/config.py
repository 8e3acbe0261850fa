"""Settings: the ``lakegate.yaml`` model, environment overrides and readable errors.

No file is needed: every setting has a default. A file, when present, may set any subset.
``LAKEGATE_<SECTION>__<KEY>`` environment variables override the file
(``LAKEGATE_INGEST__WORKERS=8``; ``LAKEGATE_CATALOG=postgresql://...`` for top-level keys).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

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
        0.2,
        ge=0,
        le=60,
        description="A landed file is taken once its size and modification time have not changed "
        "for this long, so half-written files are never read.",
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
    s3: S3Settings = Field(default_factory=S3Settings)

    @field_validator("landing", "lake", "quarantine")
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
        return any(v.startswith("s3://") for v in (self.landing, self.lake, self.quarantine))


class RuleSettings(_Section):
    """One validation rule of a dataset."""

    check: Literal["size", "extension", "required_columns", "allowed_columns", "rows"] = Field(
        ...,
        description="`size` (bytes within min/max), `extension` (the name agrees with the content), "
        "`required_columns` / `allowed_columns` (against `columns`), `rows` (data rows within min/max).",
    )
    severity: Literal["reject", "warn"] = Field(
        "reject", description="`reject`: quarantine the file; `warn`: accept it and record the warning."
    )
    min: int | None = Field(None, ge=0, description="Lower bound for `size` (bytes) or `rows`.")
    max: int | None = Field(None, ge=0, description="Upper bound for `size` (bytes) or `rows`.")
    columns: list[str] = Field(
        default_factory=list, description="Column names for `required_columns` and `allowed_columns`."
    )

    @model_validator(mode="after")
    def _parameters_fit(self) -> RuleSettings:
        bounds = self.min is not None or self.max is not None
        if self.check in ("size", "rows") and (not bounds or self.columns):
            raise ValueError(f"the {self.check} rule takes min and/or max, and no columns")
        if self.check in ("required_columns", "allowed_columns") and (not self.columns or bounds):
            raise ValueError(f"the {self.check} rule takes a list of columns, and no min or max")
        if self.check == "extension" and (bounds or self.columns):
            raise ValueError("the extension rule takes no parameters")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


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
    formats: list[Literal["csv", "json", "parquet"]] = Field(
        default_factory=list, description="Formats it accepts (by content, not extension); empty: any."
    )
    compressions: list[Literal["none", "gzip", "zstd"]] = Field(
        default_factory=list, description="Compressions it accepts; empty: any."
    )
    rules: list[RuleSettings] = Field(
        default_factory=list, description="Validation rules every file of the dataset must pass."
    )

    @field_validator("key")
    @classmethod
    def _key_template(cls, value: str) -> str:
        from lakegate.ingest.templates import KeyTemplate, TemplateError

        try:
            KeyTemplate(value)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _value_templates(self) -> DatasetSettings:
        from lakegate.crawler.names import identifier
        from lakegate.ingest.templates import KeyTemplate, TemplateError, ValueTemplate

        key = KeyTemplate(self.key)
        for what, text in [("database", self.database), ("table", self.table), *self.partition.items()]:
            try:
                ValueTemplate(text, key)
            except TemplateError as exc:
                raise ValueError(f"{what}: {exc}") from None
        for name in self.partition:
            if identifier(name) != name or not name.strip("_"):
                raise ValueError(
                    f"the partition key {name!r} is not a name: use lowercase letters, digits and _"
                )
        return self


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
    datasets: list[DatasetSettings] = Field(
        default_factory=list,
        description="Datasets, tried in order: the first whose key template matches a landing key "
        "routes it; keys no dataset matches take the default route (`ingest.default_route`).",
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
#     formats: [csv]"""


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
    return "\n".join(lines) + "\n"
