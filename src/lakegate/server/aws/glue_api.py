"""The Glue Data Catalog, read: databases, tables (with their versions), partitions and column
statistics in the shapes a Glue crawler writes, filtered by the caller's grants.

A table the caller may not read does not exist for it (``EntityNotFoundException``); columns
it may not see are left out; partitions, row counts and statistics of a table it reads through
a row or column filter are refused (they would tell what the filter hides), as the HTTP API
refuses them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any

from lakegate.auth.principals import Principal
from lakegate.catalog import TableInfo
from lakegate.catalog.records import PartitionInfo
from lakegate.errors import LakegateError
from lakegate.query.permissions import filtered
from lakegate.server.aws.athena_meta import AthenaCatalog, Readable, bad_request, not_found, paged
from lakegate.server.aws.glue_partitions import matches

Params = dict[str, Any]
CATALOG_ID = "lakegate"
_FORMATS = {
    "csv": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
    "json": ("org.apache.hadoop.mapred.TextInputFormat", "org.openx.data.jsonserde.JsonSerDe"),
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
}
_OUTPUT = {
    "parquet": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
}
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


class GlueApi:
    def __init__(self, meta: AthenaCatalog, url: Callable[[str], str]) -> None:
        """``url``: where a lake key is read (an ``s3://`` URL or a local path)."""
        self.meta = meta
        self.catalog = meta.catalog
        self.url = url

    @property
    def operations(self) -> dict[str, Callable[[Principal, Params], Params]]:
        return {
            "GetDatabases": self.get_databases, "GetDatabase": self.get_database,
            "GetTables": self.get_tables, "GetTable": self.get_table, "SearchTables": self.search_tables,
            "GetTableVersions": self.get_table_versions, "GetTableVersion": self.get_table_version,
            "GetPartitions": self.get_partitions, "GetPartition": self.get_partition,
            "BatchGetPartition": self.batch_get_partition,
            "GetColumnStatisticsForTable": self.table_statistics,
            "GetColumnStatisticsForPartition": self.partition_statistics,
        }  # fmt: skip

    # -- databases ------------------------------------------------------------------------------

    def _uri(self, key: str) -> str:
        """A folder of the lake as a URI (``s3://...``, or ``file://`` for a local lake)."""
        where = self.url(key.strip("/"))
        return ("file://" + where if where.startswith("/") else where).rstrip("/") + "/"

    def _database_json(self, name: str) -> Params:
        return {
            "Name": name,
            "CatalogId": CATALOG_ID,
            "LocationUri": self._uri(f"lake/{name}"),
            "Parameters": {},
        }

    def get_databases(self, principal: Principal, params: Params) -> Params:
        page, token = paged(self.meta.databases(principal), params, 100)
        return {"DatabaseList": [self._database_json(n) for n in page], **token}

    def get_database(self, principal: Principal, params: Params) -> Params:
        return {"Database": self._database_json(self.meta.database(principal, _text(params, "Name")))}

    # -- tables ---------------------------------------------------------------------------------

    def _location(self, info: TableInfo) -> str:
        return self._uri(info.location)

    def _storage(self, readable: Readable, location: str) -> Params:
        info = readable.info
        formats = sorted({f.format for f in info.files})
        classification = formats[0] if len(formats) == 1 else "mixed"
        input_format, serde = _FORMATS.get(classification, _FORMATS["csv"])
        options = info.files[0].options if len(formats) == 1 and info.files else {}
        serde_parameters = (
            {"field.delim": str(options.get("delimiter", ","))} if classification == "csv" else {}
        )
        notes = self.catalog.descriptions(info.database, info.name)
        return {
            "Columns": [{"Name": n, "Type": t, **_comment(notes, n)} for n, t in readable.columns()],
            "Location": location, "InputFormat": input_format,
            "OutputFormat": _OUTPUT.get(classification, _TEXT_OUTPUT), "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
            "BucketColumns": [], "SortColumns": [], "StoredAsSubDirectories": False,
            "Parameters": {"classification": classification},
        }  # fmt: skip

    def _table_json(
        self, readable: Readable, version: int | None = None, created: float | None = None
    ) -> Params:
        info = readable.info
        storage = self._storage(readable, self._location(info))
        parameters = {
            "classification": storage["Parameters"]["classification"], "typeOfData": "file",
            "compressionType": "none", "UPDATED_BY_CRAWLER": "lakegate",
            "CrawlerSchemaSerializerVersion": "1.0",
        }  # fmt: skip
        if not filtered(readable.access):
            parameters |= {
                "recordCount": str(info.row_count), "objectCount": str(info.file_count),
                "sizeKey": str(info.total_bytes),
                "averageRecordSize": str(info.total_bytes // info.row_count if info.row_count else 0),
            }  # fmt: skip
        notes = self.catalog.descriptions(info.database, info.name)
        keys = [{"Name": k, "Type": "string", **_comment(notes, k)} for k in readable.partition_keys()]
        out: Params = {
            "Name": info.name, "DatabaseName": info.database, "Owner": "lakegate", "Retention": 0,
            "StorageDescriptor": storage, "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
            "PartitionKeys": keys,
            "CreatedBy": "lakegate", "IsRegisteredWithLakeFormation": False, "CatalogId": CATALOG_ID,
            "VersionId": str(version or info.schema_version),
        }  # fmt: skip
        if notes.get(""):
            out["Description"] = notes[""]
        if created is not None:
            out["CreateTime"] = out["UpdateTime"] = created
        return out

    def _readable(self, principal: Principal, params: Params, name_key: str = "Name") -> Readable:
        readable = self.meta.table(principal, _text(params, "DatabaseName"), _text(params, name_key))
        info = self.catalog.table(readable.info.database, readable.info.name)  # with its files
        return Readable(info or readable.info, readable.access)

    def get_table(self, principal: Principal, params: Params) -> Params:
        return {"Table": self._table_json(self._readable(principal, params))}

    def get_tables(self, principal: Principal, params: Params) -> Params:
        database = self.meta.database(principal, _text(params, "DatabaseName"))
        pattern = _regex(params.get("Expression"))
        found = sorted(
            (
                r
                for r in self.meta.tables(principal, database)
                if pattern is None or pattern.fullmatch(r.info.name)
            ),
            key=lambda r: r.info.name,
        )
        page, token = paged(found, params, 100)
        return {"TableList": [self._table_json(self._full(r)) for r in page], **token}

    def _full(self, readable: Readable) -> Readable:
        info = self.catalog.table(readable.info.database, readable.info.name)
        return Readable(info or readable.info, readable.access)

    def search_tables(self, principal: Principal, params: Params) -> Params:
        text = str(params.get("SearchText") or "").lower()
        found = [
            r for r in self.meta.tables(principal)
            if not text or text in r.info.name.lower() or text in r.info.database.lower()
            or any(text in n.lower() for n, _ in r.columns())
        ]  # fmt: skip
        found.sort(key=lambda r: (r.info.database, r.info.name))
        page, token = paged(found, params, 1000)
        return {"TableList": [self._table_json(self._full(r)) for r in page], **token}

    def _versions(self, principal: Principal, params: Params) -> tuple[Readable, list[Params]]:
        readable = self._readable(principal, params, "TableName")
        info = readable.info
        out = []
        for v in reversed(self.catalog.versions(info.database, info.name)):  # newest first, as Glue
            shown = TableInfo(
                info.id, info.database, info.name, info.location, v.version, v.columns, v.partition_keys,
                info.files, info.row_count, info.file_count, info.total_bytes,
            )  # fmt: skip
            table = self._table_json(Readable(shown, readable.access), v.version, v.created_at)
            out.append({"Table": table, "VersionId": str(v.version)})
        return readable, out

    def get_table_versions(self, principal: Principal, params: Params) -> Params:
        _readable, versions = self._versions(principal, params)
        page, token = paged(versions, params, 100)
        return {"TableVersions": page, **token}

    def get_table_version(self, principal: Principal, params: Params) -> Params:
        _readable, versions = self._versions(principal, params)
        wanted = str(params.get("VersionId") or (versions[0]["VersionId"] if versions else ""))
        for version in versions:
            if version["VersionId"] == wanted:
                return {"TableVersion": version}
        raise not_found(f"version {wanted} of the table", "GetTableVersions lists them")

    # -- partitions and statistics --------------------------------------------------------------

    def _partitioned(self, principal: Principal, params: Params) -> tuple[Readable, list[PartitionInfo]]:
        readable = self._readable(principal, params, "TableName")
        info = readable.info
        self.meta.seen.unfiltered(principal, info.database, info.name, "partitions")
        return readable, self.catalog.partitions(info.database, info.name)

    def _partition_json(self, readable: Readable, part: PartitionInfo) -> Params:
        info = readable.info
        location = self._location(info) + part.path.strip("/") + "/"
        storage = self._storage(readable, location)
        return {
            "Values": [part.values.get(k, "") for k in info.partition_keys], "DatabaseName": info.database,
            "TableName": info.name, "StorageDescriptor": storage, "CatalogId": CATALOG_ID,
            "Parameters": {"recordCount": str(part.row_count), "objectCount": str(part.file_count),
                           "sizeKey": str(part.total_bytes)},
        }  # fmt: skip

    def get_partitions(self, principal: Principal, params: Params) -> Params:
        readable, parts = self._partitioned(principal, params)
        keys = readable.info.partition_keys
        expression = params.get("Expression")
        if expression:
            parts = [p for p in parts if matches(str(expression), keys, p.values)]
        segment = params.get("Segment")
        if segment:
            number, total = segment.get("SegmentNumber"), segment.get("TotalSegments")
            if not (
                isinstance(total, int)
                and 1 <= total <= 10
                and isinstance(number, int)
                and 0 <= number < total
            ):
                raise bad_request("Segment is {SegmentNumber: 0..TotalSegments-1, TotalSegments: 1..10}")
            parts = [p for p in parts if zlib.crc32(p.path.encode()) % total == number]
        page, token = paged(parts, params, 1000)
        return {"Partitions": [self._partition_json(readable, p) for p in page], **token}

    def _find_partition(self, readable: Readable, parts: list[PartitionInfo], values: Any) -> PartitionInfo:
        keys = readable.info.partition_keys
        if not isinstance(values, list) or len(values) != len(keys):
            raise bad_request(f"PartitionValues lists one value per partition key ({', '.join(keys)})")
        for part in parts:
            if [part.values.get(k, "") for k in keys] == [str(v) for v in values]:
                return part
        raise not_found(f"partition {values}", "GetPartitions lists them")

    def get_partition(self, principal: Principal, params: Params) -> Params:
        readable, parts = self._partitioned(principal, params)
        part = self._find_partition(readable, parts, params.get("PartitionValues"))
        return {"Partition": self._partition_json(readable, part)}

    def batch_get_partition(self, principal: Principal, params: Params) -> Params:
        readable, parts = self._partitioned(principal, params)
        found, missing = [], []
        for wanted in params.get("PartitionsToGet") or []:
            try:
                found.append(
                    self._partition_json(
                        readable, self._find_partition(readable, parts, wanted.get("Values"))
                    )
                )
            except LakegateError:
                missing.append(wanted)
        return {"Partitions": found, "UnprocessedKeys": missing}

    def _statistics(self, readable: Readable, names: Any, partition: dict[str, str] | None) -> Params:
        if not isinstance(names, list) or not names:
            raise bad_request("ColumnNames lists the columns whose statistics are wanted")
        types = dict(readable.columns())
        duck_types = {c.name: c.type for c in readable.info.columns}
        out, errors = [], []
        for name in names:
            if name not in types:
                error = {"ErrorCode": "EntityNotFoundException", "ErrorMessage": f"no column {name!r}"}
                errors.append({"ColumnName": name, "Error": error})
                continue
            files = [f for f in readable.info.files if partition is None or f.partition == partition]
            stats = [f.stats.get(name) or {} for f in files]
            out.append(column_statistics(name, types[name], duck_types[name], stats))
        return {"ColumnStatisticsList": out, "Errors": errors}

    def table_statistics(self, principal: Principal, params: Params) -> Params:
        readable = self._readable(principal, params, "TableName")
        self.meta.seen.unfiltered(principal, readable.info.database, readable.info.name, "statistics")
        return self._statistics(readable, params.get("ColumnNames"), None)

    def partition_statistics(self, principal: Principal, params: Params) -> Params:
        readable, parts = self._partitioned(principal, params)
        part = self._find_partition(readable, parts, params.get("PartitionValues"))
        return self._statistics(readable, params.get("ColumnNames"), part.values)


def column_statistics(name: str, hive: str, duck: str, stats: list[dict[str, Any]]) -> Params:
    """Glue's ``ColumnStatistics`` of a column from its files' statistics (min, max, nulls)."""
    nulls = sum(int(s.get("nulls") or 0) for s in stats)
    lows = [s["min"] for s in stats if s.get("min") is not None]
    highs = [s["max"] for s in stats if s.get("max") is not None]
    kind, key = _STATISTICS_KIND.get(hive.split("(", maxsplit=1)[0], ("STRING", "StringColumnStatisticsData"))
    data: Params = {"NumberOfNulls": nulls}
    if kind in ("LONG", "DOUBLE", "DATE") and lows and highs:
        data |= {"MinimumValue": min(lows), "MaximumValue": max(highs)}
    if kind == "STRING":
        data |= {"MaximumLength": max((len(str(v)) for v in highs + lows), default=0), "AverageLength": 0.0}
    return {
        "ColumnName": name,
        "ColumnType": hive,
        "StatisticsData": {"Type": kind, key: data},
        "AnalyzedTime": 0,
    }


_STATISTICS_KIND = {
    "bigint": ("LONG", "LongColumnStatisticsData"), "int": ("LONG", "LongColumnStatisticsData"),
    "smallint": ("LONG", "LongColumnStatisticsData"), "tinyint": ("LONG", "LongColumnStatisticsData"),
    "double": ("DOUBLE", "DoubleColumnStatisticsData"), "float": ("DOUBLE", "DoubleColumnStatisticsData"),
    "boolean": ("BOOLEAN", "BooleanColumnStatisticsData"), "date": ("DATE", "DateColumnStatisticsData"),
}  # fmt: skip


def _comment(notes: dict[str, str], name: str) -> Params:
    return {"Comment": notes[name]} if notes.get(name) else {}


def _text(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} is required")
    return value


def _regex(expression: Any) -> re.Pattern[str] | None:
    """Glue's ``Expression`` of GetTables: a regular expression (``*`` alone meaning any)."""
    if not expression:
        return None
    text = str(expression).strip()
    if text == "*":
        return None
    try:
        return re.compile(text.replace("*", ".*") if ".*" not in text else text, re.I)
    except re.error:
        raise bad_request(f"Expression {text!r} is not a regular expression") from None
