"""Datasets in ``lakegate.yaml``: which keys they take, where those go, and the rules each
file is checked against."""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from lakegate.config.sections import _Section

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
    yes_no_booleans: bool = Field(
        False,
        description="Read CSV columns of only yes and no (any case) as booleans, as true and false are "
        "(lakegate reads them as text otherwise; T/F, Y/N and 0/1 are never booleans).",
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
