"""Loading settings: ``lakegate.yaml`` with environment overrides, its errors made readable
(the file, the line, the setting, the closest known name)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from lakegate.config.datasets import DatasetSettings
from lakegate.config.sections import (
    ENV_PREFIX,
    AwsSettings,
    ClusterSettings,
    CrawlerSettings,
    EnginesSettings,
    EventsSettings,
    HttpSettings,
    IngestSettings,
    PrincipalSettings,
    QuerySettings,
    StorageSettings,
    _Section,
)
from lakegate.errors import ConfigError
from lakegate.home import Home


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
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    engines: EnginesSettings = Field(default_factory=EnginesSettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    crawlers: list[CrawlerSettings] = Field(
        default_factory=list,
        description="Stores crawled in place on demand, as `lakegate crawl URL` does: Glue's `StartCrawler` "
        "on the AWS endpoint (admins) starts one; `GetCrawler` and `GetCrawlerMetrics` follow it.",
    )
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
