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
from lakegate.duck.sql import sql_literal
from lakegate.errors import GuardError
from lakegate.query.permissions import AccessFor, filtered
from lakegate.query.pg_types import BY_NAME, pg_type

SCHEMA = "pgc"  # where the emulated pg_catalog tables live (DuckDB keeps the name pg_catalog)
_PUBLIC, _CATALOG_NS, _INFO_NS, _FIRST_DB, _FIRST_TABLE = 2200, 11, 13000, 16384, 20000

# the pg_catalog tables clients read, with the columns they use; those lakegate has nothing for
# stay empty (no indexes, constraints, triggers, policies...)
TABLES: dict[str, str] = {
    "pg_namespace": "oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]",
    "pg_class": (
        "oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT, reloftype BIGINT, "
        "relowner BIGINT, "
        "relam BIGINT, relfilenode BIGINT, reltablespace BIGINT, relpages INTEGER, reltuples REAL, "
        "relallvisible INTEGER, reltoastrelid BIGINT, relhasindex BOOLEAN, relisshared BOOLEAN, "
        "relpersistence VARCHAR, relkind VARCHAR, relnatts SMALLINT, relchecks SMALLINT, "
        "relhasrules BOOLEAN, "
        "relhastriggers BOOLEAN, relhassubclass BOOLEAN, relrowsecurity BOOLEAN, "
        "relforcerowsecurity BOOLEAN, "
        "relispopulated BOOLEAN, relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT, "
        "relfrozenxid BIGINT, relminmxid BIGINT, relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR"
    ),
    "pg_attribute": (
        "attrelid BIGINT, attname VARCHAR, atttypid BIGINT, attstattarget INTEGER, attlen SMALLINT, "
        "attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN, "
        "attalign VARCHAR, attstorage VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, "
        "atthasdef BOOLEAN, "
        "atthasmissing BOOLEAN, attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, "
        "attislocal BOOLEAN, attinhcount INTEGER, attcollation BIGINT, attacl VARCHAR[], "
        "attoptions VARCHAR[], "
        "attfdwoptions VARCHAR[], attmissingval VARCHAR"
    ),
    "pg_type": (
        "oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT, typlen SMALLINT, "
        "typbyval BOOLEAN, "
        "typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN, "
        "typdelim VARCHAR, "
        "typrelid BIGINT, typsubscript VARCHAR, typelem BIGINT, typarray BIGINT, typinput VARCHAR, "
        "typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR, "
        "typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype BIGINT, "
        "typtypmod INTEGER, typndims INTEGER, typcollation BIGINT, typdefaultbin VARCHAR, "
        "typdefault VARCHAR, "
        "typacl VARCHAR[]"
    ),
    "pg_database": (
        "oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, datlocprovider VARCHAR, "
        "datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid BIGINT, "
        "datminmxid BIGINT, dattablespace BIGINT, datcollate VARCHAR, datctype VARCHAR, "
        "daticulocale VARCHAR, "
        "daticurules VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]"
    ),
    "pg_description": "objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR",
    "pg_am": "oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR",
    "pg_roles": (
        "oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, "
        "rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, "
        "rolpassword VARCHAR, rolvaliduntil TIMESTAMP, rolbypassrls BOOLEAN, rolconfig VARCHAR[]"
    ),
    "pg_user": "usename VARCHAR, usesysid BIGINT, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN",
    "pg_settings": "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR",
    "pg_tables": (
        "schemaname VARCHAR, tablename VARCHAR, tableowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, "
        "hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN"
    ),
    "pg_views": "schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR",
    "pg_matviews": "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, definition VARCHAR",
    "pg_index": (
        "indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN, "
        "indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, "
        "indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, "
        "indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation BIGINT[], "
        "indclass BIGINT[], indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR"
    ),
    "pg_constraint": (
        "oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR, condeferrable BOOLEAN, "
        "condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT, conindid BIGINT, "
        "conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR, "
        "confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, "
        "conkey SMALLINT[], confkey SMALLINT[], conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], "
        "confdelsetcols SMALLINT[], conexclop BIGINT[], conbin VARCHAR"
    ),
    "pg_attrdef": "oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR",
    "pg_inherits": "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN",
    "pg_trigger": "oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, "
    "tgtype SMALLINT, "
    "tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid BIGINT, tgconstrindid BIGINT, "
    "tgconstraint BIGINT",
    "pg_policy": "oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, "
    "polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR",
    "pg_rewrite": "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR, "
    "is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR",
    "pg_statistic_ext": "oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, stxowner BIGINT, "
    "stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR",
    "pg_publication": "oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, "
    "pubinsert BOOLEAN, "
    "pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN",
    "pg_publication_rel": "oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]",
    "pg_publication_namespace": "oid BIGINT, pnpubid BIGINT, pnnspid BIGINT",
    "pg_partitioned_table": "partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT, "
    "partattrs SMALLINT[], partclass BIGINT[], partcollation BIGINT[], partexprs VARCHAR",
    "pg_foreign_table": "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]",
    "pg_foreign_server": "oid BIGINT, srvname VARCHAR, srvowner BIGINT, srvfdw BIGINT",
    "pg_collation": "oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT, "
    "collprovider VARCHAR, "
    "collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR",
    "pg_enum": "oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR",
    "pg_range": "rngtypid BIGINT, rngsubtype BIGINT, rngmultitypid BIGINT, rngcollation BIGINT",
    "pg_proc": "oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT, prokind VARCHAR, "
    "prorettype BIGINT, proargtypes BIGINT[], proretset BOOLEAN",
    "pg_depend": "classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, "
    "refobjsubid INTEGER, deptype VARCHAR",
    "pg_sequence": "seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, "
    "seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN",
    "pg_extension": "oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, extversion VARCHAR",
    "pg_tablespace": "oid BIGINT, spcname VARCHAR, spcowner BIGINT",
    "pg_opclass": "oid BIGINT, opcmethod BIGINT, opcname VARCHAR, opcnamespace BIGINT, opcdefault BOOLEAN",
    "pg_event_trigger": "oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtenabled VARCHAR",
    "pg_stat_activity": "datid BIGINT, datname VARCHAR, pid INTEGER, usename VARCHAR, "
    "application_name VARCHAR, "
    "state VARCHAR, query VARCHAR",
    "pg_locks": "locktype VARCHAR, relation BIGINT, pid INTEGER, mode VARCHAR, granted BOOLEAN",
    "pg_shdescription": "objoid BIGINT, classoid BIGINT, description VARCHAR",
    "pg_auth_members": "roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN",
    "pg_cast": "oid BIGINT, castsource BIGINT, casttarget BIGINT, castfunc BIGINT, castcontext VARCHAR",
    "pg_operator": "oid BIGINT, oprname VARCHAR, oprnamespace BIGINT, oprleft BIGINT, oprright BIGINT",
}
_CATEGORY = {
    "bool": "B", "int2": "N", "int4": "N", "int8": "N", "float4": "N", "float8": "N", "numeric": "N",
    "oid": "N", "text": "S", "varchar": "S", "name": "S", "char": "S", "date": "D", "time": "D",
    "timestamp": "D", "timestamptz": "D", "timetz": "D", "interval": "T", "bytea": "U", "json": "U",
    "jsonb": "U", "uuid": "U", "unknown": "X",
}  # fmt: skip


def _macros(user: str, process_id: int) -> list[str]:
    name = sql_literal(user)
    return [
        f"CREATE MACRO pg_get_userbyid(o) AS {name}",
        "CREATE MACRO pg_encoding_to_char(e) AS 'UTF8'",
        "CREATE MACRO pg_char_to_encoding(e) AS 6",
        "CREATE MACRO pg_table_is_visible(o) AS true",
        "CREATE MACRO pg_type_is_visible(o) AS true",
        "CREATE MACRO pg_function_is_visible(o) AS true",
        "CREATE MACRO pg_collation_is_visible(o) AS true",
        "CREATE MACRO pg_get_expr(e, r) AS CAST(NULL AS VARCHAR), (e, r, p) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_constraintdef(o) AS CAST(NULL AS VARCHAR), (o, p) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_indexdef(o) AS CAST(NULL AS VARCHAR), (o, c, p) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_viewdef(o) AS CAST(NULL AS VARCHAR), (o, p) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_partkeydef(o) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_triggerdef(o) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_statisticsobjdef_columns(o) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_relation_is_publishable(o) AS false",
        "CREATE MACRO current_setting(n) AS "
        "(SELECT first(setting) FROM pgc.pg_settings WHERE name = lower(n)), "
        "(n, m) AS (SELECT first(setting) FROM pgc.pg_settings WHERE name = lower(n))",
        "CREATE MACRO pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO _pg_expandarray(a) AS {'x': CAST(NULL AS BIGINT), 'n': CAST(NULL AS BIGINT)}",
        "CREATE MACRO pg_get_function_identity_arguments(o) AS ''",
        "CREATE MACRO pg_get_function_result(o) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO pg_get_ruledef(o) AS CAST(NULL AS VARCHAR), (o, p) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO array_upper(a, d) AS len(a)",
        "CREATE MACRO array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
        "CREATE MACRO pg_postmaster_start_time() AS TIMESTAMP '2026-01-01'",
        "CREATE MACRO pg_is_other_temp_schema(o) AS false",
        "CREATE MACRO pg_is_in_recovery() AS false",
        "CREATE MACRO pg_backend_pid() AS " + str(process_id),
        "CREATE MACRO txid_current() AS 1",
        # The privilege functions answer from the grants: SELECT on what this session may read
        # (its pg_class holds nothing else), USAGE on its schemas, CONNECT; nothing that writes.
        f"CREATE MACRO _pg_me(u) AS lower(CAST(u AS VARCHAR)) IN (lower({name}), '10')",
        "CREATE MACRO _pg_may(p, allowed) AS "
        "list_has_any(list_transform(string_split(lower(CAST(p AS VARCHAR)), ','), x -> trim(x)), allowed)",
        "CREATE MACRO _pg_table(t) AS (SELECT count(*) > 0 FROM pgc.pg_class c "
        "JOIN pgc.pg_namespace n ON n.oid = c.relnamespace WHERE CAST(c.oid AS VARCHAR) = CAST(t AS VARCHAR) "
        "OR lower(replace(CAST(t AS VARCHAR), '\"', '')) "
        "IN (lower(c.relname), lower(n.nspname || '.' || c.relname)))",
        "CREATE MACRO _pg_schema(s) AS (SELECT count(*) > 0 FROM pgc.pg_namespace "
        "WHERE CAST(oid AS VARCHAR) = CAST(s AS VARCHAR) OR lower(nspname) = lower(CAST(s AS VARCHAR)))",
        "CREATE MACRO has_table_privilege(a, b) AS _pg_table(a) AND _pg_may(b, ['select']), "
        "(a, b, c) AS _pg_me(a) AND _pg_table(b) AND _pg_may(c, ['select'])",
        "CREATE MACRO has_any_column_privilege(a, b) AS _pg_table(a) AND _pg_may(b, ['select']), "
        "(a, b, c) AS _pg_me(a) AND _pg_table(b) AND _pg_may(c, ['select'])",
        "CREATE MACRO has_column_privilege(a, b, c) AS _pg_table(a) AND _pg_may(c, ['select']), "
        "(a, b, c, d) AS _pg_me(a) AND _pg_table(b) AND _pg_may(d, ['select'])",
        "CREATE MACRO has_schema_privilege(a, b) AS _pg_schema(a) AND _pg_may(b, ['usage']), "
        "(a, b, c) AS _pg_me(a) AND _pg_schema(b) AND _pg_may(c, ['usage'])",
        "CREATE MACRO has_database_privilege(a, b) AS lower(CAST(a AS VARCHAR)) = 'lakegate' "
        "AND _pg_may(b, ['connect']), (a, b, c) AS _pg_me(a) AND lower(CAST(b AS VARCHAR)) = 'lakegate' "
        "AND _pg_may(c, ['connect'])",
        "CREATE MACRO pg_has_role(a, b) AS false, (a, b, c) AS false",
        "CREATE MACRO current_database() AS 'lakegate'",
        "CREATE MACRO current_schema() AS 'public'",
        "CREATE MACRO current_schemas(b) AS ['public']",
        "CREATE MACRO version() AS 'PostgreSQL 16.0 (lakegate, read-only SQL over a data lake)'",
        "CREATE MACRO inet_server_addr() AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO inet_server_port() AS CAST(NULL AS INTEGER)",
        "CREATE MACRO quote_ident(t) AS CASE WHEN regexp_full_match(t, '[a-z_][a-z0-9_$]*') THEN t "
        "ELSE '\"' || replace(t, '\"', '\"\"') || '\"' END",
        "CREATE MACRO pg_relation_size(o) AS (SELECT relpages * 8192 FROM pgc.pg_class WHERE oid = o)",
        "CREATE MACRO pg_total_relation_size(o) AS (SELECT relpages * 8192 FROM pgc.pg_class WHERE oid = o)",
        "CREATE MACRO pg_table_size(o) AS (SELECT relpages * 8192 FROM pgc.pg_class WHERE oid = o)",
        "CREATE MACRO obj_description(o) AS "
        "(SELECT first(description) FROM pgc.pg_description WHERE objoid = o AND objsubid = 0), "
        "(o, c) AS (SELECT first(description) FROM pgc.pg_description WHERE objoid = o AND objsubid = 0)",
        "CREATE MACRO col_description(o, n) AS "
        "(SELECT first(description) FROM pgc.pg_description WHERE objoid = o AND objsubid = n)",
        "CREATE MACRO shobj_description(o, c) AS CAST(NULL AS VARCHAR)",
        "CREATE MACRO format_type(o, m) AS (SELECT first(CASE WHEN typname = 'numeric' AND m > 4 "
        "THEN 'numeric(' || ((m - 4) // 65536) || ',' || ((m - 4) % 65536) || ')' "
        "WHEN typname LIKE '\\_%' ESCAPE '\\' THEN substr(typname, 2) || '[]' ELSE _pg_display(typname) END) "
        "FROM pgc.pg_type WHERE oid = o)",
        "CREATE MACRO _pg_display(n) AS CASE n WHEN 'int2' THEN 'smallint' WHEN 'int4' THEN 'integer' "
        "WHEN 'int8' THEN 'bigint' WHEN 'float4' THEN 'real' WHEN 'float8' THEN 'double precision' "
        "WHEN 'bool' THEN 'boolean' WHEN 'varchar' THEN 'character varying' "
        "WHEN 'timestamp' THEN 'timestamp without time zone' "
        "WHEN 'timestamptz' THEN 'timestamp with time zone' "
        "WHEN 'time' THEN 'time without time zone' WHEN 'timetz' THEN 'time with time zone' ELSE n END",
        "CREATE MACRO _pg_regclass(t) AS coalesce(CASE regexp_replace(t, '^pg_catalog[.]', '') "
        "WHEN 'pg_class' THEN 1259 WHEN 'pg_attribute' THEN 1249 WHEN 'pg_type' THEN 1247 "
        "WHEN 'pg_proc' THEN 1255 WHEN 'pg_namespace' THEN 2615 WHEN 'pg_constraint' THEN 2606 "
        "WHEN 'pg_database' THEN 1262 WHEN 'pg_index' THEN 2610 END, "
        "(SELECT first(c.oid) FROM pgc.pg_class c JOIN pgc.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relname = split_part(t, '.', -1) "
        "AND (NOT contains(t, '.') OR n.nspname = split_part(t, '.', 1))))",
        "CREATE MACRO _pg_as_regclass(x) AS "
        "coalesce(TRY_CAST(x AS BIGINT), _pg_regclass(CAST(x AS VARCHAR)))",
        "CREATE MACRO _pg_as_regtype(x) AS coalesce(TRY_CAST(x AS BIGINT), _pg_regtype(CAST(x AS VARCHAR)))",
        "CREATE MACRO _pg_regtype(t) AS (SELECT first(oid) FROM pgc.pg_type WHERE typname = t)",
        "CREATE MACRO _pg_typname(o) AS (SELECT first(typname) FROM pgc.pg_type WHERE oid = o)",
        "CREATE MACRO _pg_relname(o) AS (SELECT first(n.nspname || '.' || c.relname) FROM pgc.pg_class c "
        "JOIN pgc.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = o)",
        "CREATE MACRO _pg_nspname(o) AS (SELECT first(nspname) FROM pgc.pg_namespace WHERE oid = o)",
        "CREATE MACRO _pg_regnamespace(t) AS (SELECT first(oid) FROM pgc.pg_namespace WHERE nspname = t)",
        "CREATE MACRO to_regtype(t) AS _pg_regtype(t)",
        "CREATE MACRO to_regclass(t) AS _pg_regclass(t)",
        "CREATE MACRO to_regnamespace(t) AS _pg_regnamespace(t)",
    ]


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
        pending = _macros(self.user, self.process_id)
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
                    "typcategory": _CATEGORY.get(t.name, "U"), "typelem": 0, "typarray": t.array_oid,
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
