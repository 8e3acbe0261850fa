"""``pg_catalog`` for PostgreSQL clients: psql's ``\\d`` family, JDBC's DatabaseMetaData (DBeaver),
SQLAlchemy's inspector.

Clients learn about tables by querying ``pg_catalog``. A session answers those queries from a
small DuckDB database of its own holding the ``pg_catalog`` tables clients read — filled from
lakegate's catalog with exactly what the session's principal may read (its tables, its visible
columns, their descriptions) — so they are real queries over real rows, right as tables change.
Lakegate databases appear as schemas. The client's SQL is PostgreSQL's: it is parsed and turned
into DuckDB's (``~`` is a regular-expression search, ``OPERATOR(pg_catalog.~)``, ``COLLATE``,
``::regclass`` and the like) with sqlglot, and the PostgreSQL functions clients call are macros.

That database holds no file and reaches nothing outside: external access is off, its
configuration locked, and it answers only SELECTs over its own ``pg_catalog`` tables.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakegate.catalog import Catalog, TableInfo
from lakegate.errors import GuardError
from lakegate.query.permissions import AccessFor, filtered
from lakegate.query.pg_catalog_tables import CATEGORY, TABLES, macros
from lakegate.query.pg_types import BY_NAME, pg_type

SCHEMA = "pgc"  # where the emulated pg_catalog tables live (DuckDB keeps the name pg_catalog)
_PUBLIC, _CATALOG_NS, _INFO_NS, _FIRST_DB, _FIRST_TABLE = 2200, 11, 13000, 16384, 20000


@dataclass
class CatalogAnswer:
    """A catalog query's result, read like a gateway run."""

    schema: pa.Schema
    types: list[str]
    table: pa.Table
    rows: int = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self.table.to_batches(max_chunksize=65536):
            self.rows += batch.num_rows
            yield batch

    def finish(self, error: Any = None) -> None:
        pass


@dataclass(frozen=True)
class Snapshot:
    """The tables a session may read (with the columns it sees) and, when its ``pg_catalog`` is
    to be built again, their descriptions."""

    tables: list[tuple[TableInfo, list[str]]]
    signature: str
    notes: dict[tuple[str, str], dict[str, str]] | None


class PgCatalog:
    """The ``pg_catalog`` of one session (one principal), rebuilt when lakegate's catalog changes."""

    def __init__(self, catalog: Catalog, user: str, process_id: int) -> None:
        self.catalog, self.user, self.process_id = catalog, user, process_id
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._signature = ""
        self._lock = threading.Lock()

    def snapshot(self, access: AccessFor | None) -> Snapshot:
        """What lakegate's catalog says for this session now. Read it outside the engine's
        kernel-restricted threads: a catalog connection opened there could not write."""
        tables = self._readable(access)
        shape = [
            (t.database, t.name, t.schema_version, t.row_count, t.total_bytes, cols) for t, cols in tables
        ]
        signature = hashlib.sha256(repr((shape, self.catalog.descriptions_stamp())).encode()).hexdigest()
        notes = None
        if signature != self._signature:  # rebuilt: with the tables' descriptions
            notes = {(t.database, t.name): self.catalog.descriptions(t.database, t.name) for t, _c in tables}
        return Snapshot(tables, signature, notes)

    def answer(
        self, sql: str, params: list[Any], snapshot: Snapshot, settings: dict[str, str]
    ) -> CatalogAnswer:
        """Run a catalog query (see ``is_catalog_query``) over ``snapshot``. Raises: GuardError
        for anything else."""
        text = translate(sql, self.user)
        with self._lock:
            conn = self._database(snapshot, settings)
            cursor = conn.cursor()
            try:
                result = cursor.execute(text, params or None)
                types = [str(d[1]) for d in cursor.description or []]
                table = result.to_arrow_table()
            except duckdb.Error as exc:
                from lakegate.duck import engine_message

                raise GuardError(engine_message(exc), code="query.failed") from None
            finally:
                cursor.close()
        return CatalogAnswer(table.schema, types, table)

    def _readable(self, access: AccessFor | None) -> list[tuple[TableInfo, list[str]]]:
        """The tables the caller may read and the columns it sees; a table it reads through a
        row or cell filter without its counts (they would be counted over hidden rows)."""
        out = []
        for info in self.catalog.tables():
            names = [c.name for c in info.columns] + list(info.partition_keys)
            if access is None:
                out.append((info, names))
                continue
            allowed = access(info.database, info.name, names)
            if allowed is not None:
                if filtered(allowed):
                    info = replace(info, row_count=-1, total_bytes=0)  # noqa: PLW2901 - "not known"
                out.append((info, [n for n in names if n in allowed.columns]))
        return out

    def _database(self, snapshot: Snapshot, settings: dict[str, str]) -> duckdb.DuckDBPyConnection:
        signature = snapshot.signature
        if (self._conn is not None and signature == self._signature) or snapshot.notes is None:
            assert self._conn is not None  # a snapshot without notes is one of the database built
            return self._conn
        if self._conn is not None:
            self._conn.close()
        conn = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        for name, columns in TABLES.items():
            conn.execute(f"CREATE TABLE {SCHEMA}.{name} ({columns})")
        pending = macros(self.user, self.process_id)
        while pending:  # a macro that uses another is made once that one exists
            failed = []
            for statement in pending:
                try:
                    conn.execute(statement)
                except duckdb.CatalogException:
                    failed.append(statement)
            if len(failed) == len(pending):
                conn.execute(failed[0])  # raises: a macro that can never be made is a bug
            pending = failed
        self._fill(conn, snapshot.tables, snapshot.notes, settings)
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
        self._conn, self._signature = conn, signature
        return conn

    def _fill(
        self,
        conn: duckdb.DuckDBPyConnection,
        tables: list[tuple[TableInfo, list[str]]],
        described: dict[tuple[str, str], dict[str, str]],
        settings: dict[str, str],
    ) -> None:
        def insert(table: str, rows: list[dict[str, Any]]) -> None:
            for row in rows:
                names = ", ".join(row)
                marks = ", ".join("?" * len(row))
                conn.execute(f"INSERT INTO {SCHEMA}.{table} ({names}) VALUES ({marks})", list(row.values()))

        databases = sorted({t.database for t, _c in tables})
        namespace = {db: _FIRST_DB + i for i, db in enumerate(databases)}
        spaces = {"pg_catalog": _CATALOG_NS, "public": _PUBLIC, "information_schema": _INFO_NS} | namespace
        insert(
            "pg_namespace", [{"oid": oid, "nspname": name, "nspowner": 10} for name, oid in spaces.items()]
        )
        insert("pg_database", [{
            "oid": 16383, "datname": "lakegate", "datdba": 10, "encoding": 6, "datlocprovider": "c",
            "datistemplate": False, "datallowconn": True, "datconnlimit": -1, "dattablespace": 1663,
            "datcollate": "C", "datctype": "C",
        }])  # fmt: skip
        insert("pg_am", [{"oid": 2, "amname": "heap", "amhandler": "heap_tableam_handler", "amtype": "t"}])
        insert("pg_tablespace", [{"oid": 1663, "spcname": "pg_default", "spcowner": 10}])
        insert("pg_roles", [{
            "oid": 10, "rolname": self.user, "rolsuper": False, "rolinherit": True, "rolcreaterole": False,
            "rolcreatedb": False, "rolcanlogin": True, "rolreplication": False, "rolconnlimit": -1,
            "rolpassword": "********", "rolbypassrls": False,
        }])  # fmt: skip
        insert("pg_user", [{"usename": self.user, "usesysid": 10, "usecreatedb": False, "usesuper": False,
                            "userepl": False}])  # fmt: skip
        insert(
            "pg_settings",
            [{"name": k, "setting": v, "category": "lakegate"} for k, v in sorted(settings.items())],
        )
        insert("pg_type", [row for t in BY_NAME.values() for row in _type_rows(t)])
        for i, (info, visible) in enumerate(tables):
            oid = _FIRST_TABLE + i
            columns = {c.name: c.type for c in info.columns} | dict.fromkeys(info.partition_keys, "VARCHAR")
            shown = [n for n in columns if n in visible]
            insert("pg_class", [{
                "oid": oid, "relname": info.name, "relnamespace": namespace[info.database], "reltype": 0,
                "reloftype": 0, "relowner": 10, "relam": 2, "relfilenode": oid, "reltablespace": 0,
                "relpages": max(1, info.total_bytes // 8192) if info.total_bytes else 0,
                "reltuples": float(max(info.row_count, -1)), "relallvisible": 0, "reltoastrelid": 0,
                "relhasindex": False, "relisshared": False, "relpersistence": "p", "relkind": "r",
                "relnatts": len(shown), "relchecks": 0, "relhasrules": False, "relhastriggers": False,
                "relhassubclass": False, "relrowsecurity": False, "relforcerowsecurity": False,
                "relispopulated": True, "relreplident": "d", "relispartition": False, "relrewrite": 0,
            }])  # fmt: skip
            insert("pg_tables", [{"schemaname": info.database, "tablename": info.name,
                                  "tableowner": self.user,
                                  "hasindexes": False, "hasrules": False, "hastriggers": False,
                                  "rowsecurity": False}])  # fmt: skip
            notes = described.get((info.database, info.name), {})
            said = [(0, notes.get(""))] + [(n, notes.get(name)) for n, name in enumerate(shown, start=1)]
            insert("pg_description", [{"objoid": oid, "classoid": 1259, "objsubid": n, "description": text}
                                      for n, text in said if text])  # fmt: skip
            insert("pg_attribute", [_attribute(oid, number, name, columns[name]) for number, name in
                                    enumerate(shown, start=1)])  # fmt: skip

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _type_rows(t: Any) -> list[dict[str, Any]]:
    base = {"typnamespace": _CATALOG_NS, "typowner": 10, "typisdefined": True, "typdelim": ",", "typrelid": 0,
            "typtype": "b", "typispreferred": False, "typalign": "i", "typnotnull": False, "typbasetype": 0,
            "typtypmod": -1, "typndims": 0, "typcollation": 0}  # fmt: skip
    rows = [base | {"oid": t.oid, "typname": t.name, "typlen": t.size, "typbyval": t.size in (1, 2, 4, 8),
                    "typcategory": CATEGORY.get(t.name, "U"), "typelem": 0, "typarray": t.array_oid,
                    "typinput": t.name + "in", "typoutput": t.name + "out", "typstorage": "p"}]  # fmt: skip
    if t.array_oid:
        rows.append(base | {"oid": t.array_oid, "typname": "_" + t.name, "typlen": -1, "typbyval": False,
                            "typcategory": "A", "typelem": t.oid, "typarray": 0, "typinput": "array_in",
                            "typoutput": "array_out", "typstorage": "x"})  # fmt: skip
    return rows


def _attribute(table_oid: int, number: int, name: str, duck_type: str) -> dict[str, Any]:
    pg, modifier, _element = pg_type(duck_type)
    return {
        "attrelid": table_oid, "attname": name, "atttypid": pg.oid, "attstattarget": -1, "attlen": pg.size,
        "attnum": number, "attndims": 0, "attcacheoff": -1, "atttypmod": modifier,
        "attbyval": pg.size in (1, 2, 4, 8), "attalign": "i", "attstorage": "p", "attcompression": "",
        "attnotnull": False, "atthasdef": False, "atthasmissing": False, "attidentity": "",
        "attgenerated": "", "attisdropped": False, "attislocal": True, "attinhcount": 0, "attcollation": 0,
    }  # fmt: skip


# -- which queries, and how they read in DuckDB ----------------------------------------------

_FUNCTIONS = {
    "version", "current_database", "current_schema", "current_schemas", "pg_backend_pid", "pg_is_in_recovery",
    "txid_current", "inet_server_addr", "inet_server_port", "pg_get_userbyid", "format_type",
    "obj_description",
    "col_description", "has_table_privilege", "has_schema_privilege", "has_database_privilege", "pg_has_role",
    "pg_encoding_to_char", "pg_table_is_visible", "quote_ident", "shobj_description",
    "pg_postmaster_start_time", "current_user", "session_user", "current_version",
}  # fmt: skip
_OPERATORS: dict[str, Callable[[exp.Expr, exp.Expr], exp.Expr]] = {
    "~": lambda a, b: exp.RegexpLike(this=a, expression=b),
    "!~": lambda a, b: exp.Not(this=exp.RegexpLike(this=a, expression=b)),
    "~*": lambda a, b: exp.RegexpILike(this=a, expression=b),
    "!~*": lambda a, b: exp.Not(this=exp.RegexpILike(this=a, expression=b)),
    "=": lambda a, b: exp.EQ(this=a, expression=b),
    "<>": lambda a, b: exp.NEQ(this=a, expression=b),
    "<": lambda a, b: exp.LT(this=a, expression=b),
    ">": lambda a, b: exp.GT(this=a, expression=b),
}
_OID_TYPES = {"regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "oid",
              "xid", "cid", "tid", "regconfig"}  # fmt: skip
_TEXT_TYPES = {"name", "char", '"char"', "text", "bpchar"}


def _parse(sql: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(sql, read="postgres")
    except (SqlglotError, RecursionError, ValueError):
        return None


def is_catalog_query(sql: str) -> bool:
    """Whether ``sql`` asks about ``pg_catalog`` (and nothing else): its tables, or PostgreSQL's
    session functions without any table."""
    if "pg_" not in sql.lower() and not any(f in sql.lower() for f in _FUNCTIONS):
        return False
    tree = _parse(sql)
    if tree is None or not isinstance(tree, (exp.Select, exp.SetOperation)):
        return False
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name.lower() not in ctes or t.db]
    if tables:
        return all(_catalog_table(t) for t in tables)
    names = {(f.name or f.sql_name()).lower() for f in tree.find_all(exp.Func)}
    return bool(names & _FUNCTIONS) or "pg_catalog" in sql.lower()


_TABLE_FUNCTIONS = {
    "unnest",
    "explode",
    "generate_series",
    "exploding_generate_series",
    "generate_subscripts",
    "range",
}


def _catalog_table(table: exp.Table) -> bool:
    if isinstance(table.this, exp.Func):  # a table function over catalog values: these only
        function = table.this
        name = (function.name if isinstance(function, exp.Anonymous) else function.sql_name()).lower()
        return name in _TABLE_FUNCTIONS
    db, name = table.db.lower(), table.name.lower()
    return (db == "pg_catalog" or (not db and name.startswith("pg_"))) and not table.catalog


def translate(sql: str, user: str) -> str:
    """A catalog query in PostgreSQL's SQL as DuckDB SQL over the emulated tables.

    Raises: GuardError for anything but a SELECT over them (or an unknown pg_catalog table)."""
    tree = _parse(sql)
    if tree is None or not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise GuardError("only queries are accepted on pg_catalog", code="guard.not_read_only")

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):  # pg_catalog.unnest(...) s
            alias = node.args.get("alias")
            named = alias is not None and alias.this is not None and not alias.columns
            if node.args.get("db") is None and not named:
                return node
            table = node.copy()
            table.set("db", None)
            if named and alias is not None:  # PostgreSQL: the alias names its one column too
                table.set("alias", exp.TableAlias(this=alias.this.copy(), columns=[alias.this.copy()]))
            return table
        if isinstance(node, exp.Table) and _catalog_table(node):
            name = node.name.lower()
            if name not in TABLES:
                raise GuardError(f'relation "pg_catalog.{name}" does not exist', code="guard.table_unknown",
                                 hint="lakegate answers the pg_catalog tables SQL clients use")  # fmt: skip
            return exp.Table(
                this=exp.to_identifier(name), db=exp.to_identifier(SCHEMA), alias=node.args.get("alias")
            )
        if (
            isinstance(node, exp.Dot)
            and isinstance(node.this, exp.Identifier)
            and node.this.name.lower() in ("pg_catalog", "information_schema")
            and isinstance(node.expression, exp.Func)
        ):
            return cast(exp.Expr, node.expression)
        if isinstance(node, exp.Column) and str(node.args.get("db") or "").lower() == "pg_catalog":
            column = node.copy()  # pg_catalog.pg_class.oid
            column.set("db", exp.to_identifier(SCHEMA))
            return column
        if isinstance(node, exp.Operator):
            operator = str(node.args.get("operator", "")).lower().removeprefix("pg_catalog.")
            build = _OPERATORS.get(operator)
            if build is not None:
                return build(*(_uncollated(side) for side in (node.this, node.expression)))
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _RENAMED:
            return exp.Anonymous(this=_RENAMED[str(node.this).lower()], expressions=node.expressions)
        if isinstance(node, exp.Collate):
            return cast(exp.Expr, node.this)
        if isinstance(node, exp.Cast):
            return _cast(node)
        is_user = isinstance(node, exp.Column) and not node.table and node.name.lower() in _USER_WORDS
        if isinstance(node, (exp.CurrentUser, exp.SessionUser)) or is_user:
            return exp.Literal.string(user)
        return node

    try:
        before, rewritten = "", cast(exp.Expr, tree)
        for _ in range(8):  # until nothing changes: a rewritten node's insides are rewritten next time
            rewritten = rewritten.transform(rewrite)
            text = rewritten.sql(dialect="duckdb")
            if text == before:
                break
            before = text
        return before
    except SqlglotError as exc:
        raise GuardError(f"this catalog query cannot be answered: {exc}", code="guard.syntax") from None


def _uncollated(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.Collate) else node


def _type_name(node: exp.Cast) -> str:
    to = node.to
    if isinstance(to, exp.DataType) and to.args.get("kind") is not None:
        return str(to.args["kind"].sql()).lower().removeprefix("pg_catalog.").strip('"')
    return str(to.sql(dialect="postgres")).lower().removeprefix("pg_catalog.").strip('"')


_USER_WORDS = ("current_user", "session_user", "user")
_RENAMED = {"json_build_object": "json_object", "jsonb_build_object": "json_object"}
_NAME_OF = {"regtype": "_pg_typname", "regclass": "_pg_relname", "regnamespace": "_pg_nspname"}


def _cast(node: exp.Cast) -> exp.Expr:
    name = _type_name(node)
    inner = node.this
    if name in _TEXT_TYPES and isinstance(inner, exp.Cast) and _type_name(inner) in _NAME_OF:
        # oid::regtype::text: PostgreSQL prints the name
        return exp.Anonymous(this=_NAME_OF[_type_name(inner)], expressions=[inner.this])
    if name in _OID_TYPES:
        value = node.this
        if isinstance(value, exp.Literal) and value.is_string and not value.this.isdigit():
            lookup = {
                "regclass": "_pg_regclass",
                "regtype": "_pg_regtype",
                "regnamespace": "_pg_regnamespace",
            }
            macro = lookup.get(name)
            if macro:
                return exp.Anonymous(this=macro, expressions=[value])
        if name in ("regclass", "regtype") and not isinstance(value, exp.Literal):  # a name or an oid
            return exp.Anonymous(this=f"_pg_as_{name}", expressions=[value])
        return exp.Cast(this=value, to=exp.DataType.build("BIGINT"))
    if name in _TEXT_TYPES:
        return exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR"))
    if "pg_catalog" in node.to.sql().lower():  # ::pg_catalog.int2[]: the type without its schema
        try:
            return exp.Cast(this=node.this, to=exp.DataType.build(name, dialect="postgres"))
        except (SqlglotError, ValueError):
            return node
    return node
