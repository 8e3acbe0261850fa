"""The settings reference (docs/settings.md) and the example ``lakegate.yaml`` a new home
gets, both made from the model."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from lakegate.config.loading import Settings, _submodel
from lakegate.config.sections import ENV_PREFIX


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
