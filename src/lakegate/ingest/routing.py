"""Where a landed object belongs: database, table, partition and lake key.

Zero-config rule: ``landing/<database>/<table>/[<k>=<v>/...]<file>`` goes to
``lake/<database>/<table>/[<k>=<v>/...]<file>``. Folder names become identifiers by the rule in
``names.py`` (lowercase, ``[a-z0-9_]``). Anything else is rejected with the reason
``reject.route``.

Partition folders follow Hive's escaping, as the engines reading them expect: in ``k=v`` the
value is percent-encoded where a character would be read as structure (``/``, ``=``, ``%``),
as a glob (``*``, ``?``, ``[``...) or is unprintable, and a value engines would read as NULL
(``null``, ``__HIVE_DEFAULT_PARTITION__``) has its first character encoded. A delivered
``dt=2026%2F11`` is the value ``2026/11``. File names are kept as delivered, but for glob
characters, which would make the engine read other files too: those become ``_``.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lakegate.errors import Rejection
from lakegate.ingest.rules import Facts, Finding, evaluate, screen_sql, value_tests
from lakegate.keys import with_suffix
from lakegate.names import identifier
from lakegate.schema import Column
from lakegate.templates import KeyTemplate, Value, ValueTemplate

if TYPE_CHECKING:
    from lakegate.config import DatasetSettings, Settings

LANDING = "landing/"
LAKE = "lake/"

__all__ = ["LAKE", "LANDING", "Dataset", "Route", "Router", "with_suffix"]


@dataclass(frozen=True)
class Route:
    database: str
    table: str
    partition: dict[str, str] = field(default_factory=dict)
    filename: str = ""
    dataset: Dataset | None = None  # None: the default route
    fields: dict[str, Value] = field(default_factory=dict)  # what the dataset's key template captured
    arrival: dt.datetime | None = None  # when the file landed, in the dataset's time zone

    @property
    def partition_path(self) -> str:
        return "/".join(f"{k}={escape_value(v)}" for k, v in self.partition.items())

    @property
    def location(self) -> str:
        return f"{LAKE}{self.database}/{self.table}"

    @property
    def target_key(self) -> str:
        parts = [self.location, self.partition_path, self.filename]
        return "/".join(p for p in parts if p)


Verdicts = Callable[[list[tuple[dict[str, Any], Finding | None]]], None]
_ESCAPED = frozenset("\"#%'*/:=?\\[]^{}") | {chr(c) for c in range(0x20)} | {"\x7f"}
_GLOB = re.compile(r"[*?\[\]{}]")


_READ_AS_NULL = {"NULL", "__HIVE_DEFAULT_PARTITION__"}  # by engines, in any case, before decoding


def escape_value(value: str) -> str:
    """A partition value as it is written in a ``key=value`` folder name."""
    text = "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in value)
    if text.upper() in _READ_AS_NULL:
        text = f"%{ord(text[0]):02X}{text[1:]}"  # the text "null", not a missing value
    return text


def unescape_value(text: str) -> str:
    """The value a ``key=value`` folder name holds (what engines read from it)."""
    return unquote(text, errors="strict") if "%" in text else text


def lake_file_name(name: str) -> str:
    """A delivered file name as the lake keeps it: glob characters would make engines read more."""
    return _GLOB.sub("_", name)


_HINT = "deliver files as landing/<database>/<table>/<file>, optionally with key=value folders between"


def default_route(source_key: str) -> Route:
    """Route a landing key by the zero-config folder rule.

    Raises:
        Rejection: ``reject.route`` saying what about the key does not fit.
    """
    if not source_key.startswith(LANDING):
        raise Rejection(f"{source_key!r} is not under {LANDING}", code="reject.route", hint=_HINT)
    parts = source_key[len(LANDING) :].split("/")
    if len(parts) < 3:
        where = "directly under landing/" if len(parts) == 1 else f"directly under landing/{parts[0]}/"
        raise Rejection(f"the file is {where}, so it names no table", code="reject.route", hint=_HINT)
    database, table = identifier(parts[0]), identifier(parts[1])
    for original, name, what in ((parts[0], database, "database"), (parts[1], table, "table")):
        if not name.strip("_"):
            raise Rejection(
                f"the folder {original!r} gives no usable {what} name", code="reject.route", hint=_HINT
            )
    partition: dict[str, str] = {}
    for segment in parts[2:-1]:
        key, sep, value = segment.partition("=")
        name = identifier(key)
        if not sep or not name.strip("_"):
            raise Rejection(
                f"the folder {segment!r} inside the table folder is not a key=value partition",
                code="reject.route",
                hint=_HINT,
            )
        if name in partition:
            raise Rejection(f"the partition key {name!r} appears twice", code="reject.route", hint=_HINT)
        try:
            partition[name] = unescape_value(value)
        except UnicodeDecodeError:
            raise Rejection(
                f"the partition folder {segment!r} has a %-escape that is not UTF-8",
                code="reject.route",
                hint="escape a value's bytes as UTF-8 (%C3%A9 for é), or do not escape it",
            ) from None
    return Route(database, table, partition, lake_file_name(parts[-1]))


class Dataset:
    """A configured dataset, its templates compiled."""

    def __init__(self, settings: DatasetSettings, schema_evolution: str = "evolve") -> None:
        self.name = settings.name
        self.key = KeyTemplate(settings.key)
        self.database = ValueTemplate(settings.database, self.key)
        self.table = ValueTemplate(settings.table, self.key)
        self.partition = {k: ValueTemplate(v, self.key) for k, v in settings.partition.items()}
        self.formats = tuple(settings.formats)
        self.compressions = tuple(settings.compressions)
        self.sheet = settings.sheet
        self.yes_no = settings.yes_no_booleans
        self.rules = [rule.model_dump() for rule in settings.rules]
        self.timezone = zoneinfo.ZoneInfo(settings.timezone)
        self.duplicates = settings.duplicates
        self.schema_evolution = settings.schema_evolution or schema_evolution
        self.accelerate = settings.accelerate  # None: ingest.accelerate
        self.retention_days = settings.retention_days

    def may_hold(self, database: str, table: str) -> bool:
        """Whether this dataset's templates can make the table ``database.table``."""
        return bool(
            self.database.names_pattern().fullmatch(database) and self.table.names_pattern().fullmatch(table)
        )

    def route(self, source_key: str, arrival: dt.datetime | None = None) -> Route | None:
        """Where ``source_key`` goes, or ``None`` when the key template does not match it.

        ``arrival`` is when the object landed (aware; now when not given), for ``{arrival}``
        values and the ``age`` rule: it is taken in the dataset's time zone.

        Raises:
            Rejection: ``reject.route`` when the templates make an empty database or table name,
                or a partition value that is empty.
        """
        values = self.key.match(source_key)
        if values is None:
            return None
        zoned = (arrival or dt.datetime.now(dt.UTC)).astimezone(self.timezone)
        file = posixpath.basename(source_key)
        names = {}
        for what, template in (("database", self.database), ("table", self.table)):
            rendered = template.render(values, file, zoned)
            names[what] = identifier(rendered)
            if not names[what].strip("_"):
                raise Rejection(
                    f"dataset {self.name!r} makes the {what} name {rendered!r} from this key: no usable name",
                    code="reject.route",
                    hint=f"change the dataset's {what} template ({template.text!r})",
                )
        partition = {}
        for key, template in self.partition.items():
            partition[key] = template.render(values, file, zoned)
            if not partition[key]:
                raise Rejection(
                    f"dataset {self.name!r} makes an empty value for the partition {key!r} from this key",
                    code="reject.route",
                    hint=f"change its template ({template.text!r})",
                )
        return Route(names["database"], names["table"], partition, lake_file_name(file), self, values, zoned)

    def check_content(self, fmt: str, compression: str) -> None:
        """Raises: Rejection ``reject.format`` when the dataset does not take this kind of file."""
        for what, found, allowed in (
            ("format", fmt, self.formats),
            ("compression", compression, self.compressions),
        ):
            if allowed and found not in allowed:
                raise Rejection(
                    f"dataset {self.name!r} accepts the {what}s {', '.join(allowed)}; this file is {found}",
                    code="reject.format",
                    hint=f"deliver it as {' or '.join(allowed)}, or add {found} to the dataset's {what}s",
                    details={"dataset": self.name, what: found, "allowed": list(allowed)},
                )

    def screen(self, columns: list[Column]) -> list[str]:
        """The aggregates of this dataset's value checks, for the crawler's full read of a file."""
        return screen_sql(value_tests(self.rules, {c.name: c.type for c in columns}))

    def judge(self, facts: Facts, verdicts: Verdicts | None = None) -> list[str]:
        """Run the dataset's rules; returns the warnings of ``warn`` rules.

        ``verdicts``, when given, is called with every rule and its finding first (a dry run).

        Raises:
            Rejection: ``reject.rule.<check>`` for the first ``reject`` rule that finds something,
                with every other finding in its details.
        """
        warnings: list[str] = []
        rejections: list[tuple[str, Finding]] = []
        judged = evaluate(self.rules, facts)
        if verdicts is not None:
            verdicts(judged)
        for rule, finding in judged:
            if finding is None:
                continue
            if rule["severity"] == "warn":
                warnings.append(f"{rule['check']}: {finding.message}")
            else:
                rejections.append((rule["check"], finding))
        if rejections:
            check, finding = rejections[0]
            details: dict[str, Any] = {"dataset": self.name, "rule": check, **finding.details}
            if len(rejections) > 1:
                details["other_findings"] = [f"{c}: {f.message}" for c, f in rejections[1:]]
            raise Rejection(
                f"dataset {self.name!r}, rule {check}: {finding.message}",
                code=f"reject.rule.{check}",
                hint="fix the file and deliver it again, or change the rule and replay it",
                details=details,
            )
        return warnings


class Router:
    """Datasets first, in order; then the default route, unless it is switched off."""

    def __init__(
        self,
        datasets: list[Dataset],
        default: bool = True,
        schema_evolution: str = "evolve",
        accelerate: str = "parquet",
        copy_while_judging: bool = False,
    ) -> None:
        self.datasets = datasets
        self.default = default
        self.schema_evolution = schema_evolution  # of tables the default route makes
        self.accelerate = accelerate  # ingest.accelerate: the datasets' default
        self.copy_while_judging = copy_while_judging  # ingest.copy_while_judging

    @classmethod
    def from_settings(cls, settings: Settings) -> Router:
        ingest = settings.ingest
        datasets = [Dataset(d, ingest.schema_evolution) for d in settings.datasets]
        return cls(
            datasets,
            ingest.default_route,
            ingest.schema_evolution,
            ingest.accelerate,
            ingest.copy_while_judging,
        )

    def schema_policy(self, route: Route) -> str:
        """The schema evolution policy a routed file is held to."""
        return route.dataset.schema_evolution if route.dataset else self.schema_evolution

    def copies_while_judging(self, route: Route) -> bool:
        """Whether a routed file's Parquet copy for speed is written in the read that judges it
        (``ingest.copy_while_judging``, for a dataset that accelerates)."""
        choice = route.dataset.accelerate if route.dataset and route.dataset.accelerate else self.accelerate
        return self.copy_while_judging and choice == "parquet"

    def route(self, source_key: str, arrival: dt.datetime | None = None) -> Route:
        """Raises: Rejection ``reject.route`` when no dataset matches and the default route is off
        (or does not fit the key)."""
        for dataset in self.datasets:
            found = dataset.route(source_key, arrival)
            if found is not None:
                return found
        if self.default:
            return default_route(source_key)
        tried = ", ".join(d.name for d in self.datasets) or "none configured"
        raise Rejection(
            "no dataset matches this key",
            code="reject.route",
            hint=f"datasets tried: {tried}; add one whose key template matches, or set ingest.default_route",
            details={"datasets_tried": [d.name for d in self.datasets]},
        )
