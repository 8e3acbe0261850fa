"""Planning a query, whatever engine runs it: the guard (one read-only statement over catalog
tables), the dialect's translation, the caller's grants as per-table access, and pruning —
which files of each table it may need (``pruning.py``) and how many bytes they hold.

The plan names, for each table, the files kept (each with its stored read options and derived
copy), the columns the caller sees and the row filters it reads through. An engine makes what
it runs from it: the DuckDB engines one view per table (``views.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakegate.catalog import Catalog, TableInfo
from lakegate.config import QuerySettings
from lakegate.duck.sql import quote_ident
from lakegate.errors import QueryError
from lakegate.query import guard, show
from lakegate.query.dialects import Schemas, to_duckdb
from lakegate.query.permissions import Access, AccessFor, filtered
from lakegate.query.pruning import FileIndex, filter_references, references
from lakegate.query.views import as_text

_INDEXES = 64  # pruning indexes kept, one per table
# information_schema views a query may read: they list exactly the tables and columns the caller
# may read, because the engine instance holds nothing else (``views``, whose definitions hold
# file paths, is not one of them)
CATALOG_VIEWS = frozenset(("information_schema", v) for v in ("tables", "columns", "schemata"))


@dataclass(frozen=True)
class TableRead:
    """One table as a query reads it."""

    table: TableInfo  # its files: only those the query may need, each with its read options
    access: Access | None  # the columns the caller sees and the rows it reads (None: all of it)
    names: list[str]  # the table's columns, then its partition keys


@dataclass(frozen=True)
class Plan:
    """What a guarded query will read."""

    tables: dict[str, TableRead]  # by database.table
    keys: list[str]  # the lake key of every file read (a derived copy's, where it has one)
    copies: list[str]  # the derived copies among them
    bytes_estimated: int  # their size, checked against limits before it runs
    files: int  # how many files of its tables' were kept (the rest pruned)
    files_total: int
    # whose reading this is ("*": everything as it is; None: unknown) and whether the query lists
    # tables (information_schema): only then may an engine instance holding others serve it
    audience: str | None = None
    lists_tables: bool = True
    # a table read through a row or cell filter: the figures the caller is told are the grant's
    # (bytes_estimated from the files the grant itself can reach; bytes scanned reported the same)
    charged_by_grant: bool = False


class Planner:
    """Plans queries over one catalog. ``guard_enabled`` is switched off only by tests proving
    the sandbox alone holds."""

    def __init__(self, catalog: Catalog, settings: QuerySettings, *, guard_enabled: bool = True) -> None:
        self.catalog = catalog
        self.settings = settings
        self.guard_enabled = guard_enabled
        self._indexes: OrderedDict[tuple[str, str], FileIndex] = OrderedDict()
        self._lock = threading.Lock()

    def translate(self, sql: str, dialect: str, access: AccessFor | None = None) -> str:
        """``sql`` in ``dialect`` (duckdb, athena, trino) as DuckDB SQL with the same meaning,
        typed against the tables the caller may read; SHOW and DESCRIBE as queries over what
        it may read. Raises: GuardError ``guard.dialect``, or ``guard.table_unknown`` for a
        DESCRIBE of a table it may not read."""
        if self.guard_enabled:  # before any parser sees it
            guard.bound(sql, self.settings.max_statement_kb * 1024, self.settings.max_nesting)
        shown = show.rewrite(sql)
        if shown is not None:
            if shown.table is not None and self.guard_enabled:  # the same answer as a query of it
                database, table = shown.table
                self._tables_for(f"SELECT * FROM {quote_ident(database)}.{quote_ident(table)}", access)
            return shown.sql
        if dialect == "duckdb":
            return sql

        def schemas_for(names: set[tuple[str, str]]) -> Schemas:
            out: Schemas = {}
            for database in {d for d, _ in names}:
                for info in self.catalog.tables(database):
                    if (database, info.name) not in names:
                        continue
                    columns = {c.name: c.type for c in info.columns} | dict.fromkeys(
                        info.partition_keys, "VARCHAR"
                    )
                    allowed = access(database, info.name, list(columns)) if access is not None else None
                    if access is not None and allowed is None:
                        continue  # not the caller's: refused later as unknown
                    if allowed is not None:
                        columns = {k: v for k, v in columns.items() if k in allowed.columns}
                    out.setdefault(database, {})[info.name] = columns
            return out

        return to_duckdb(sql, dialect, schemas_for)

    def plan(self, sql: str, access: AccessFor | None = None, max_bytes: int | None = None) -> Plan:
        """Guard ``sql`` and decide which files of its tables it may read (``pruning.py``).

        Raises:
            GuardError: the statement was refused.
            QueryError: ``query.bytes_limit``, its files are larger than ``max_bytes``.
        """
        tables, tree = self._tables_for(sql, access)
        allowed = {}
        columns = {}
        for t in tables:
            names = [c.name for c in t.columns] + list(t.partition_keys)
            grant = access(t.database, t.name, names) if access is not None else None
            allowed[t.qualified] = (grant, names)
            # only columns the caller sees judge files: what it may not see never shapes its plan
            columns[(t.database, t.name)] = {n for n in names if grant is None or n in grant.columns}
        refs = references(tree, columns) if tree is not None else {}
        reads: dict[str, TableRead] = {}
        keys: set[str] = set()
        copies: set[str] = set()
        scanned = kept_files = 0
        by_grant = False
        for t in tables:
            grant, names = allowed[t.qualified]
            if grant is not None and filtered(grant):
                # Pruned by the query's predicates, its files would follow the hidden rows'
                # statistics, and its charge and its time would tell them (bisect a hidden
                # amount on bytes_estimated): it reads — and is charged — what the grant's own
                # filter reaches, whatever the query asks.
                by_grant = True
                kept = self._index(t).select(filter_references(t, grant.rows))
            else:
                kept = self._index(t).select(refs.get((t.database, t.name)))
            if access is not None:
                assert grant is not None  # the guard let only readable tables through
            types = {c.name: c.type for c in t.columns}
            widened = [as_text(f, types) for f in kept]  # columns widened to text: read as text
            if any(w is not f for w, f in zip(widened, kept, strict=True)):
                kept = widened
            reads[t.qualified] = TableRead(t if kept is t.files else replace(t, files=kept), grant, names)
            keys.update(f.derived_key or f.key for f in kept)
            copies.update(f.derived_key for f in kept if f.derived_key)
            scanned += sum(f.size for f in kept)
            kept_files += len(kept)
        if max_bytes is not None and scanned > max_bytes:
            raise QueryError(
                f"the query would read {scanned:,} bytes of files, more than its workgroup's {max_bytes:,}",
                code="query.bytes_limit",
                hint="filter on partition columns, read fewer tables, or ask for a larger limit",
            )
        lists = tree is None or any(t.db.lower() == "information_schema" for t in tree.find_all(exp.Table))
        audience = "*" if access is None else getattr(access, "audience", None)
        total = sum(len(t.files) for t in tables)
        return Plan(
            reads, sorted(keys), sorted(copies), scanned, kept_files, total, audience, lists, by_grant
        )

    def _index(self, table: TableInfo) -> FileIndex:
        """The pruning index of this version of ``table`` (built once, shared by queries)."""
        name = (table.database, table.name)
        with self._lock:
            index = self._indexes.get(name)
            if index is not None and index.table is table:
                self._indexes.move_to_end(name)
                return index
        index = FileIndex(table, earlier=index)  # built on the last version's when files only arrived
        with self._lock:
            self._indexes[name] = index
            while len(self._indexes) > _INDEXES:
                self._indexes.popitem(last=False)
        return index

    def _tables_for(
        self, sql: str, access: AccessFor | None = None
    ) -> tuple[list[TableInfo], exp.Expr | None]:
        """The catalog tables ``sql`` reads, as the guard found them, and its parsed tree."""
        found: dict[tuple[str, str], TableInfo] = {}

        probes: set[tuple[str, str]] = set()

        def exists(database: str, name: str) -> bool:
            """A catalog table the caller may read (the same answer for one it may not see), or
            one of the information_schema views that list them."""
            if (database, name) in CATALOG_VIEWS:
                probes.add((database, name))
                return True
            if (database, name) not in found:
                table = self.catalog.table(database, name)
                if table is None:
                    return False
                if access is not None:
                    names = [c.name for c in table.columns] + list(table.partition_keys)
                    if access(database, name, names) is None:
                        return False
                found[(database, name)] = table
            return True

        if self.guard_enabled:
            checked = guard.check(
                sql,
                exists,
                max_bytes=self.settings.max_statement_kb * 1024,
                max_nesting=self.settings.max_nesting,
            )
            if probes:  # the caller lists tables: every table it may read is there to list
                for info in self.catalog.tables():
                    exists(info.database, info.name)
                return [found[t] for t in sorted(found)], checked.tree
            return [found[t] for t in sorted(checked.tables)], checked.tree
        # Test-only mode: no refusals, but the sandbox still sees only the tables named.
        for database, name in guard.referenced_tables(sql):
            exists(database, name)
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except (SqlglotError, ValueError):
            tree = None
        return list(found.values()), tree
