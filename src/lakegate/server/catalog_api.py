"""The catalog routes: the databases and tables a principal may read, with their visible
columns, partitions, files (their lineage) and schema versions; admins describe them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lakegate.auth.principals import Principal
from lakegate.catalog import Catalog, TableInfo
from lakegate.catalog.lineage import table_files
from lakegate.errors import LakegateError
from lakegate.query.permissions import Access, Grants, filtered
from lakegate.schema import describe_diff
from lakegate.server.access_api import admin


class DescriptionRequest(BaseModel):
    text: str = Field(..., description="The description; empty removes it.")
    column: str | None = Field(None, description="A column of the table; unset: the table itself.")


def _visible_diff(diff: dict[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
    """A schema diff without the columns the caller may not see."""
    return {
        "added": [n for n in diff.get("added", []) if n in shown],
        "widened": [w for w in diff.get("widened", []) if w.get("column") in shown],
        "removed": [n for n in diff.get("removed", []) if n in shown],
        "partition_keys_added": [k for k in diff.get("partition_keys_added", []) if k in shown],
    }


def _whole(info: TableInfo, access: Access) -> bool:
    """Whether ``access`` reads all of the table's rows, its partition keys, no column masked."""
    shown = access.columns
    unmasked = access.rows is None and all(v is None for v in shown.values())
    return unmasked and set(info.partition_keys) <= set(shown)


class Visibility:
    """What of the catalog a principal may see, by its grants."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.grants = Grants(catalog)

    def visible(self, principal: Principal, database: str, table: TableInfo) -> Access | None:
        """How ``principal`` reads ``table`` (``None``: not at all)."""
        names = [c.name for c in table.columns] + list(table.partition_keys)
        access = self.grants.access_for(principal)
        if access is None:
            return Access(dict.fromkeys(names), None)
        return access(database, table.name, names)

    def readable(self, principal: Principal, database: str, name: str) -> tuple[TableInfo, Access]:
        """Raises: LakegateError ``catalog.unknown_table`` (404), the same for a table not granted."""
        info = self.catalog.table(database, name)
        access = self.visible(principal, database, info) if info is not None else None
        if info is None or access is None:
            raise LakegateError(
                f"unknown table {database}.{name!r}",
                code="catalog.unknown_table",
                hint="GET /v1/tables lists yours",
            )
        return info, access

    def whole_tables(self, principal: Principal) -> list[tuple[str, str]]:
        """The tables ``principal`` reads without row or column filters: their deliveries (rows,
        partitions) may be shown to it."""
        out = []
        for t in self.catalog.tables():
            access = self.visible(principal, t.database, t)
            if access is not None and _whole(t, access):
                out.append((t.database, t.name))
        return out

    def unfiltered(self, principal: Principal, database: str, name: str, what: str) -> None:
        """Raises: LakegateError ``auth.forbidden`` to a principal with row or column filters on
        the table: its partition values and row counts would say what it may not see."""
        info, access = self.readable(principal, database, name)
        if not _whole(info, access):
            raise LakegateError(
                f"the {what} of {database}.{name} are not shown to principals with row or column filters",
                code="auth.forbidden",
                hint="query the table instead",
            )


def table_json(info: TableInfo, access: Access, notes: dict[str, str]) -> dict[str, Any]:
    shown = access.columns
    return {
        "database": info.database,
        "name": info.name,
        "description": notes.get(""),
        "schema_version": info.schema_version,
        "columns": [
            {"name": c.name, "type": c.type, "original": c.original, "since": c.added_in,
             "description": notes.get(c.name), "filtered": shown[c.name] is not None}
            for c in info.columns
            if c.name in shown
        ]
        + [
            {"name": k, "type": "VARCHAR", "original": k, "partition": True, "description": notes.get(k)}
            for k in info.partition_keys
            if k in shown
        ],
        # counted over rows a filter hides, they would say what it hides: not shown then
        **dict.fromkeys(("files", "rows", "bytes")),
        **({} if filtered(access) else
           {"files": info.file_count, "rows": info.row_count, "bytes": info.total_bytes}),
    }  # fmt: skip


def catalog_routes(catalog: Catalog, seen: Visibility, who: Callable[[Request], Principal]) -> APIRouter:
    router = APIRouter()
    visible, readable, unfiltered = seen.visible, seen.readable, seen.unfiltered

    @router.get("/v1/tables")
    def table_list(database: str | None = None, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        """The tables the caller may read, with their visible columns."""
        out = []
        for info in catalog.tables(database):
            shown = visible(principal, info.database, info)
            if shown is not None:
                out.append(table_json(info, shown, catalog.descriptions(info.database, info.name)))
        return {"tables": out}

    @router.get("/v1/databases")
    def database_list(principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        # only whether each table is visible: no JSON of its columns, no read of its descriptions
        names = sorted(
            {t.database for t in catalog.tables() if visible(principal, t.database, t) is not None}
        )
        return {"databases": names}

    @router.get("/v1/tables/{database}/{name}")
    def table_show(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        info, shown = readable(principal, database, name)
        return table_json(info, shown, catalog.descriptions(database, name))

    @router.get("/v1/tables/{database}/{name}/partitions")
    def table_partitions(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        unfiltered(principal, database, name, "partitions")
        return {
            "partitions": [
                {"path": p.path, "values": p.values, "files": p.file_count, "rows": p.row_count,
                 "bytes": p.total_bytes}
                for p in catalog.partitions(database, name)
            ]
        }  # fmt: skip

    @router.get("/v1/tables/{database}/{name}/files")
    def table_file_list(
        database: str,
        name: str,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        """The table's files, newest first, each with the delivery it came from (key, landing
        time, dataset rule) — its lineage."""
        unfiltered(principal, database, name, "files")
        return {"files": table_files(catalog, database, name, limit=limit)}

    @router.get("/v1/tables/{database}/{name}/versions")
    def table_versions(database: str, name: str, principal: Principal = Depends(who)) -> dict[str, Any]:  # noqa: B008
        _info, access = readable(principal, database, name)
        shown = access.columns
        hidden_files = filtered(access)  # the file behind a version may hold only hidden rows
        out = []
        for v in catalog.versions(database, name):
            out.append({
                "version": v.version, "created_at": v.created_at,
                "columns": [{"name": c.name, "type": c.type} for c in v.columns if c.name in shown],
                "partition_keys": [k for k in v.partition_keys if k in shown],
                "changes": describe_diff(_visible_diff(v.diff, shown), {c.name: c.type for c in v.columns}),
                "cause": None if hidden_files else v.cause,
            })  # fmt: skip
        return {"versions": out}

    @router.put("/v1/tables/{database}/{name}/description")
    def table_describe(
        database: str,
        name: str,
        body: DescriptionRequest,
        principal: Principal = Depends(who),  # noqa: B008
    ) -> dict[str, Any]:
        admin(principal)
        catalog.describe_table(database, name, body.text, column=body.column or "", by=principal.name)
        return {"described": True}

    return router
