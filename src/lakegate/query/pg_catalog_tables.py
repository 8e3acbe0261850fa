"""The emulated ``pg_catalog``: the tables PostgreSQL clients read (with the columns they use)
and the PostgreSQL functions they call, as DuckDB macros (``pg_catalog.py`` fills and answers)."""

from __future__ import annotations

from lakegate.duck.sql import sql_literal

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
CATEGORY = {
    "bool": "B", "int2": "N", "int4": "N", "int8": "N", "float4": "N", "float8": "N", "numeric": "N",
    "oid": "N", "text": "S", "varchar": "S", "name": "S", "char": "S", "date": "D", "time": "D",
    "timestamp": "D", "timestamptz": "D", "timetz": "D", "interval": "T", "bytea": "U", "json": "U",
    "jsonb": "U", "uuid": "U", "unknown": "X",
}  # fmt: skip


# long: the PostgreSQL functions clients call, one macro a line
def macros(user: str, process_id: int) -> list[str]:
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
