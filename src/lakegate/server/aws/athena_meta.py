"""What Athena says about the catalog and workgroups, filtered by the caller's grants: data
catalogs, databases, table metadata, workgroups, and the utility statements it answers from the
catalog (SHOW DATABASES/TABLES/COLUMNS/PARTITIONS/CREATE TABLE, DESCRIBE, MSCK REPAIR TABLE).

Tables have one catalog, ``AwsDataCatalog``. Every principal has the workgroup ``primary``:
its own workgroup's limits under Athena's default name (``WorkGroup`` left out means primary).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakegate.auth.principals import Principal
from lakegate.auth.workgroups import Workgroup, Workgroups
from lakegate.catalog import Catalog, TableInfo
from lakegate.config import AwsSettings, QuerySettings
from lakegate.errors import GuardError, LakegateError
from lakegate.query.permissions import Access, filtered
from lakegate.server.aws.athena_sql import body
from lakegate.server.aws.hive_types import hive_type
from lakegate.server.catalog_api import Visibility

CATALOG = "AwsDataCatalog"
PRIMARY = "primary"
Params = dict[str, Any]
ENGINE = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


def not_found(what: str, hint: str = "list what you may read first") -> LakegateError:
    return LakegateError(f"{what} does not exist or is not yours", code="aws.not_found", hint=hint)


def bad_request(message: str, hint: str = "") -> LakegateError:
    return LakegateError(message, code="aws.bad_request", hint=hint)


def page_bounds(params: Params, most: int) -> tuple[int, int]:
    """(offset, max results) of a paged request: ``MaxResults`` (1 to ``most``), ``NextToken``
    (``o<offset>``, as this endpoint gives them). Raises: ``aws.bad_request``."""
    token = params.get("NextToken")
    limit = params.get("MaxResults", most)
    if not isinstance(limit, int) or not 1 <= limit <= most:
        raise bad_request(f"MaxResults is between 1 and {most}, not {limit!r}")
    if token is None:
        return 0, limit
    if not (isinstance(token, str) and token.startswith("o") and token[1:].isdigit()):
        raise bad_request(
            "NextToken is not one this endpoint gave", "pass the NextToken of the previous page"
        )
    return int(token[1:]), limit


def paged(items: list[Any], params: Params, most: int) -> tuple[list[Any], Params]:
    """A page of ``items`` (``page_bounds``), and the ``NextToken`` of the next one, if any."""
    offset, limit = page_bounds(params, most)
    following = offset + limit
    return items[offset:following], ({"NextToken": f"o{following}"} if following < len(items) else {})


def check_catalog(name: str | None) -> None:
    """Raises: ``aws.not_found`` for a data catalog other than AwsDataCatalog."""
    if name is not None and name.lower() != CATALOG.lower():
        raise not_found(f"data catalog {name!r}", f"lakegate has one data catalog, {CATALOG}")


def like(pattern: str | None) -> re.Pattern[str] | None:
    """A Hive name pattern (``*`` any characters, ``|`` alternatives; case-insensitive)."""
    if not pattern:
        return None
    options = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return re.compile("(?:" + "|".join(options) + ")$", re.I)


@dataclass(frozen=True)
class Readable:
    info: TableInfo
    access: Access

    def columns(self) -> list[tuple[str, str]]:
        """The (name, Hive type) of the columns the caller sees, partition keys apart."""
        return [(c.name, hive_type(c.type)) for c in self.info.columns if c.name in self.access.columns]

    def partition_keys(self) -> list[str]:
        return [k for k in self.info.partition_keys if k in self.access.columns]


class AthenaCatalog:
    def __init__(
        self, catalog: Catalog, seen: Visibility, settings: AwsSettings, query: QuerySettings
    ) -> None:
        self.catalog = catalog
        self.seen = seen
        self.settings = settings
        self.query = query
        self.workgroups = Workgroups(catalog)

    @property
    def operations(self) -> dict[str, Callable[[Principal, Params], Params]]:
        return {
            "ListDataCatalogs": self.list_catalogs, "GetDataCatalog": self.get_catalog,
            "ListDatabases": self.list_databases, "GetDatabase": self.get_database,
            "ListTableMetadata": self.list_tables, "GetTableMetadata": self.get_table,
            "ListWorkGroups": self.list_workgroups, "GetWorkGroup": self.get_workgroup,
        }  # fmt: skip

    def list_catalogs(self, _principal: Principal, _params: Params) -> Params:
        return {"DataCatalogsSummary": [{"CatalogName": CATALOG, "Type": "GLUE"}]}

    def get_catalog(self, _principal: Principal, params: Params) -> Params:
        check_catalog(params.get("Name") or CATALOG)
        return {"DataCatalog": {"Name": CATALOG, "Description": "lakegate's catalog", "Type": "GLUE",
                                "Parameters": {"catalog-id": "lakegate"}}}  # fmt: skip

    def list_databases(self, principal: Principal, params: Params) -> Params:
        check_catalog(params.get("CatalogName"))
        names = self.databases(principal)
        page, token = paged(names, params, 50)
        return {"DatabaseList": [{"Name": n} for n in page], **token}

    def get_database(self, principal: Principal, params: Params) -> Params:
        check_catalog(params.get("CatalogName"))
        return {"Database": {"Name": self.database(principal, str(params.get("DatabaseName") or ""))}}

    def list_tables(self, principal: Principal, params: Params) -> Params:
        check_catalog(params.get("CatalogName"))
        database = self.database(principal, str(params.get("DatabaseName") or ""))
        pattern = like(params.get("Expression"))
        found = [r for r in self.tables(principal, database) if pattern is None or pattern.match(r.info.name)]
        page, token = paged(sorted(found, key=lambda r: r.info.name), params, 50)
        return {"TableMetadataList": [self.table_metadata(r) for r in page], **token}

    def get_table(self, principal: Principal, params: Params) -> Params:
        check_catalog(params.get("CatalogName"))
        readable = self.table(
            principal, str(params.get("DatabaseName") or ""), str(params.get("TableName") or "")
        )
        return {"TableMetadata": self.table_metadata(readable)}

    def list_workgroups(self, principal: Principal, params: Params) -> Params:
        groups = self.visible_workgroups(principal)
        page, token = paged(groups, params, 50)
        summaries = [
            {
                "Name": n,
                "State": "ENABLED",
                "Description": self.workgroup_json(n, g)["Description"],
                "EngineVersion": ENGINE,
            }
            for n, g in page
        ]
        return {"WorkGroups": summaries, **token}

    def get_workgroup(self, principal: Principal, params: Params) -> Params:
        name, group = self.workgroup(principal, str(params.get("WorkGroup") or PRIMARY))
        return {"WorkGroup": self.workgroup_json(name, group)}

    # -- databases and tables -----------------------------------------------------------------

    def tables(self, principal: Principal, database: str | None = None) -> list[Readable]:
        out = []
        for info in self.catalog.tables(database):
            access = self.seen.visible(principal, info.database, info)
            if access is not None:
                out.append(Readable(info, access))
        return out

    def databases(self, principal: Principal) -> list[str]:
        return sorted({r.info.database for r in self.tables(principal)})

    def database(self, principal: Principal, name: str) -> str:
        """Raises: ``aws.not_found`` for a database the caller has no table of."""
        wanted = name.lower()
        if wanted not in self.databases(principal):
            raise not_found(f"database {name!r}", "ListDatabases lists yours")
        return wanted

    def table(self, principal: Principal, database: str, name: str) -> Readable:
        """Raises: ``aws.not_found`` (also for a table not granted)."""
        try:
            info, access = self.seen.readable(principal, database.lower(), name.lower())
        except LakegateError:
            raise not_found(f"table {database}.{name}", "ListTableMetadata lists yours") from None
        return Readable(info, access)

    def table_metadata(self, readable: Readable) -> dict[str, Any]:
        info = readable.info
        formats = sorted({f.format for f in info.files}) if info.files else []
        parameters = {
            "classification": formats[0] if len(formats) == 1 else "mixed",
            "location": info.location,
        }
        if not filtered(readable.access):
            parameters["recordCount"] = str(info.row_count)
        return {
            "Name": info.name, "TableType": "EXTERNAL_TABLE",
            "Columns": [{"Name": n, "Type": t} for n, t in readable.columns()],
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in readable.partition_keys()],
            "Parameters": parameters,
        }  # fmt: skip

    # -- workgroups ---------------------------------------------------------------------------

    def workgroup(self, principal: Principal, name: str | None) -> tuple[str, Workgroup | None]:
        """The workgroup a request names (primary when none): its name and lakegate's record.

        Raises: ``aws.not_found`` for a workgroup the caller does not run in (admins: any)."""
        wanted = name or PRIMARY
        if wanted in (PRIMARY, principal.workgroup):
            own = self.workgroups.get(principal.workgroup) if principal.workgroup else None
            return wanted, own
        found = self.workgroups.get(wanted) if principal.is_admin else None
        if found is None:
            raise not_found(f"workgroup {wanted!r}", "ListWorkGroups lists yours")
        return wanted, found

    def visible_workgroups(self, principal: Principal) -> list[tuple[str, Workgroup | None]]:
        names = [PRIMARY] + ([principal.workgroup] if principal.workgroup else [])
        out = [self.workgroup(principal, n) for n in names]
        if principal.is_admin:
            out += [(w.name, w) for w in self.workgroups.all() if w.name not in names]
        return out

    def workgroup_json(self, name: str, group: Workgroup | None) -> dict[str, Any]:
        output = {} if self.settings.manages(name) else {"OutputLocation": self.settings.results_location}
        configuration: dict[str, Any] = {
            "ResultConfiguration": output,
            "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": False,
            "RequesterPaysEnabled": False, "EngineVersion": ENGINE,
            "ManagedQueryResultsConfiguration": {"Enabled": self.settings.manages(name)},
        }  # fmt: skip
        if group is not None and group.max_bytes_scanned is not None:
            configuration["BytesScannedCutoffPerQuery"] = max(10_000_000, group.max_bytes_scanned)
        description = group.description if group is not None else "the default workgroup"
        return {"Name": name, "State": "ENABLED", "Configuration": configuration, "Description": description}

    # -- utility statements -------------------------------------------------------------------

    def utility(self, principal: Principal, sql: str, database: str | None) -> pa.Table:
        """The answer to SHOW, DESCRIBE or MSCK REPAIR TABLE, from the catalog.

        Raises: GuardError ``guard.syntax`` for one lakegate does not know; ``aws.not_found``."""
        text = body(sql)
        for pattern, answer in _UTILITIES:
            found = pattern.fullmatch(text)
            if found:
                return answer(self, principal, found, database)
        raise GuardError(
            f"lakegate does not answer {text[:60]!r}",
            code="guard.syntax",
            hint="SHOW DATABASES, SHOW TABLES [IN db], SHOW COLUMNS IN t, SHOW PARTITIONS t, "
            "SHOW CREATE TABLE t, DESCRIBE t and MSCK REPAIR TABLE t are answered",
        )

    def _named(self, principal: Principal, name: str, database: str | None) -> Readable:
        parts = [p.strip('`"') for p in name.split(".")]
        if len(parts) == 1 and database:
            parts = [database, parts[0]]
        if len(parts) != 2:
            raise not_found(f"table {name}", "name it as database.table, or set the query's database")
        return self.table(principal, parts[0], parts[1])


def _one_column(name: str, values: list[str]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string())})


def _show_databases(c: AthenaCatalog, p: Principal, m: re.Match[str], _db: str | None) -> pa.Table:
    pattern = like(m["pattern"])
    names = [d for d in c.databases(p) if pattern is None or pattern.match(d)]
    return _one_column("database_name", names)


def _show_tables(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    database = c.database(p, (m["db"] or db or "default").strip('`"'))
    pattern = like(m["pattern"])
    names = [r.info.name for r in c.tables(p, database) if pattern is None or pattern.match(r.info.name)]
    return _one_column("tab_name", sorted(names))


def _show_columns(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    name = m["table"] if not m["db"] else f"{m['db']}.{m['table']}"
    readable = c._named(p, name, db)
    return _one_column("field", [n for n, _ in readable.columns()] + readable.partition_keys())


def _show_partitions(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    readable = c._named(p, m["table"], db)
    info = readable.info
    c.seen.unfiltered(p, info.database, info.name, "partitions")
    keys = info.partition_keys
    rows = [
        "/".join(f"{k}={part.values.get(k, '')}" for k in keys)
        for part in c.catalog.partitions(info.database, info.name)
    ]
    return _one_column("partition", sorted(r for r in rows if r))


def _describe(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    readable = c._named(p, m["table"], db)
    notes = c.catalog.descriptions(readable.info.database, readable.info.name)
    lines = [f"{n:<20}\t{t:<20}\t{notes.get(n, '')}" for n, t in readable.columns()]
    keys = readable.partition_keys()
    if keys:
        lines += ["", "# Partition Information", f"{'# col_name':<20}\t{'data_type':<20}\tcomment", ""]
        lines += [f"{k:<20}\t{'string':<20}\t{notes.get(k, '')}" for k in keys]
    return _one_column("col_name", lines)


def _show_create(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    readable = c._named(p, m["table"], db)
    info = readable.info
    lines = [f"CREATE EXTERNAL TABLE `{info.database}`.`{info.name}`("]
    columns = readable.columns()
    lines += [f"  `{n}` {t}{',' if i < len(columns) - 1 else ''}" for i, (n, t) in enumerate(columns)]
    lines.append(")")
    keys = readable.partition_keys()
    if keys:
        lines += ["PARTITIONED BY (", ",\n".join(f"  `{k}` string" for k in keys), ")"]
    lines += ["LOCATION", f"  '{info.location}'", "TBLPROPERTIES ('lakegate.read_only'='true')"]
    return _one_column("createtab_stmt", lines)


def _repair(c: AthenaCatalog, p: Principal, m: re.Match[str], db: str | None) -> pa.Table:
    c._named(p, m["table"], db)  # the caller must be able to read it
    return _one_column("result", ["lakegate registers partitions as files arrive: nothing to repair"])


_NAME = r"[`\"]?[\w.-]+[`\"]?"
_PATTERN = r"(?:\s+like)?(?:\s+'(?P<pattern>[^']*)')?"
_FROM = r"\s+(?:in|from)\s+"


def _statement(pattern: str) -> re.Pattern[str]:
    return re.compile(
        pattern.replace("NAME", _NAME).replace("FROM", _FROM).replace("PATTERN", _PATTERN), re.I | re.S
    )


_UTILITIES = [
    (_statement(r"show\s+(?:databases|schemas)PATTERN"), _show_databases),
    (_statement(r"show\s+tables(?:FROM(?P<db>NAME))?PATTERN"), _show_tables),
    (_statement(r"show\s+columnsFROM(?P<table>NAME)(?:FROM(?P<db>NAME))?"), _show_columns),
    (_statement(r"show\s+partitions\s+(?P<table>NAME)"), _show_partitions),
    (_statement(r"show\s+create\s+table\s+(?P<table>NAME)"), _show_create),
    (_statement(r"(?:describe|desc)(?:\s+(?:formatted|extended))?\s+(?P<table>NAME)"), _describe),
    (_statement(r"msck\s+repair\s+table\s+(?P<table>NAME)"), _repair),
]
