-- Escape attempts by a tenant (ann, granted the database acme; globex belongs to another tenant).
-- One per block, blocks separated by a line holding only "--". The block's first comment line
-- names its category; the last line says which layer stopped it and with which code (or, for a
-- catalog probe, that it is answered without any foreign name). CANARY
-- stands for a folder no query may write into; the test checks it stays empty.
-- category: statements
COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.not_read_only
--
COPY (SELECT * FROM acme.orders) TO 'CANARY/out.parquet' (FORMAT parquet)
stopped: guard guard.not_read_only
--
EXPORT DATABASE 'CANARY/db'
stopped: guard guard.not_read_only
--
ATTACH 'CANARY/x.db' AS x
stopped: guard guard.not_read_only
--
INSTALL httpfs
stopped: guard guard.not_read_only
--
LOAD httpfs
stopped: guard guard.not_read_only
--
SET threads = 64
stopped: guard guard.not_read_only
--
SET enable_external_access = true
stopped: guard guard.not_read_only
--
RESET allowed_paths
stopped: guard guard.not_read_only
--
PRAGMA enable_profiling
stopped: guard guard.not_read_only
--
CALL pragma_version()
stopped: guard guard.not_read_only
--
CREATE TABLE x AS SELECT * FROM acme.orders
stopped: guard guard.not_read_only
--
INSERT INTO acme.orders VALUES (9, 'EU', 1)
stopped: guard guard.not_read_only
--
DELETE FROM acme.orders
stopped: guard guard.not_read_only
--
DROP VIEW acme.orders
stopped: guard guard.not_read_only
--
CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')
stopped: guard guard.not_read_only
--
USE globex
stopped: guard guard.not_read_only
--
DETACH memory
stopped: guard guard.not_read_only
--
-- category: file and URL functions
SELECT * FROM read_csv('/etc/passwd')
stopped: guard guard.function
--
SELECT * FROM read_csv_auto('CANARY/../../etc/hosts')
stopped: guard guard.function
--
SELECT * FROM read_text('/etc/shadow')
stopped: guard guard.function
--
SELECT * FROM read_blob('/proc/self/environ')
stopped: guard guard.function
--
SELECT * FROM read_parquet('s3://other-bucket/secret.parquet')
stopped: guard guard.function
--
SELECT * FROM read_json('https://example.com/x.json')
stopped: guard guard.function
--
SELECT * FROM glob('/*')
stopped: guard guard.function
--
SELECT * FROM query_table('globex.orders')
stopped: guard guard.function
--
SELECT * FROM query('SELECT * FROM globex.orders')
stopped: guard guard.function
--
SELECT * FROM sqlite_scan('CANARY/x.db', 't')
stopped: guard guard.function
--
SELECT * FROM '/etc/passwd'
stopped: guard guard.table_unknown
--
SELECT * FROM 'https://example.com/data.csv'
stopped: guard guard.table_unknown
--
SELECT * FROM parquet_metadata('/tmp/x.parquet')
stopped: guard guard.function
--
SELECT * FROM sniff_csv('/etc/passwd')
stopped: guard guard.function
--
-- category: environment and settings
SELECT getenv('HOME')
stopped: guard guard.function
--
SELECT getenv('AWS_SECRET_ACCESS_KEY')
stopped: guard guard.function
--
SELECT current_setting('s3_secret_access_key')
stopped: guard guard.function
--
SELECT current_setting('home_directory')
stopped: guard guard.function
--
SELECT * FROM duckdb_settings()
stopped: guard guard.function
--
SELECT * FROM duckdb_secrets()
stopped: guard guard.function
--
SELECT * FROM duckdb_extensions()
stopped: guard guard.function
--
-- category: catalog probes
SELECT * FROM duckdb_tables()
stopped: guard guard.function
--
SELECT * FROM duckdb_views()
stopped: guard guard.function
--
SELECT * FROM duckdb_columns()
stopped: guard guard.function
--
SELECT * FROM duckdb_databases()
stopped: guard guard.function
--
SELECT * FROM duckdb_schemas()
stopped: guard guard.function
--
SELECT * FROM information_schema.tables
answered: without a foreign name
--
SELECT table_name FROM information_schema.columns WHERE table_schema = 'globex'
answered: without a foreign name
--
SELECT * FROM pg_catalog.pg_tables
stopped: guard guard.table_unknown
--
SELECT * FROM sqlite_master
stopped: guard guard.table_unknown
--
SELECT view_definition FROM information_schema.views
stopped: guard guard.table_unknown
--
SELECT schema_name FROM information_schema.schemata
answered: without a foreign name
--
SHOW TABLES
answered: without a foreign name
--
SHOW TABLES FROM globex
answered: without a foreign name
--
SHOW DATABASES
answered: without a foreign name
--
SHOW ALL TABLES
stopped: guard guard.not_read_only
--
DESCRIBE globex.orders
stopped: guard guard.table_unknown
--
SHOW COLUMNS FROM globex.orders
stopped: guard guard.table_unknown
--
DESCRIBE SELECT * FROM globex.orders
stopped: guard guard.not_read_only
--
SHOW TABLES; COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.multiple_statements
--
SUMMARIZE globex.orders
stopped: guard guard.not_read_only
--
-- category: multiple statements
SELECT 1; COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.multiple_statements
--
SELECT * FROM acme.orders; SELECT * FROM globex.orders
stopped: guard guard.multiple_statements
--
SELECT 1;; DROP VIEW acme.orders
stopped: guard guard.multiple_statements
--
SELECT 1; SET threads = 1
stopped: guard guard.multiple_statements
--
SELECT 1;
ATTACH 'CANARY/x.db'
stopped: guard guard.multiple_statements
--
-- category: comments and unicode
/* harmless */ COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.not_read_only
--
SELECT 1 /* ; */ ; COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.multiple_statements
--
ＣＯＰＹ acme.orders TO 'CANARY/out.csv'
stopped: guard guard.syntax
--
CO​PY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.syntax
--
SELECT * FROM GLOBEX.ORDERS
stopped: guard guard.table_unknown
--
SELECT * FROM "GloBex"."Orders"
stopped: guard guard.table_unknown
--
SELECT * FROM glоbex.orders
stopped: guard guard.table_unknown
--
SELECT * FROM read_csv /* x */ ('/etc/passwd')
stopped: guard guard.function
--
-- category: CTE shadowing
WITH acme AS (SELECT * FROM globex.orders) SELECT * FROM acme
stopped: guard guard.table_unknown
--
WITH orders AS (SELECT * FROM globex.orders) SELECT * FROM acme.orders, orders
stopped: guard guard.table_unknown
--
WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x
stopped: guard guard.function
--
WITH RECURSIVE r AS (SELECT * FROM globex.orders UNION ALL SELECT * FROM r) SELECT * FROM r
stopped: guard guard.table_unknown
--
WITH t AS MATERIALIZED (SELECT getenv('HOME')) SELECT * FROM t
stopped: guard guard.function
--
-- category: prepared statements
PREPARE p AS SELECT * FROM globex.orders
stopped: guard guard.not_read_only
--
PREPARE p AS COPY acme.orders TO 'CANARY/out.csv'
stopped: guard guard.not_read_only
--
EXECUTE p
stopped: guard guard.not_read_only
--
DEALLOCATE p
stopped: guard guard.not_read_only
--
PREPARE q AS SELECT getenv('HOME'); EXECUTE q
stopped: guard guard.multiple_statements
--
-- category: another tenant's tables
SELECT * FROM globex.orders
stopped: guard guard.table_unknown
--
SELECT count(*) FROM globex.orders
stopped: guard guard.table_unknown
--
SELECT * FROM acme.orders UNION ALL SELECT * FROM globex.orders
stopped: guard guard.table_unknown
--
SELECT (SELECT max(id) FROM globex.orders)
stopped: guard guard.table_unknown
--
SELECT * FROM acme.orders WHERE id IN (SELECT id FROM globex.orders)
stopped: guard guard.table_unknown
--
SELECT * FROM acme.orders JOIN globex.orders USING (id)
stopped: guard guard.table_unknown
--
FROM globex.orders
stopped: guard guard.table_unknown
--
SELECT * FROM memory.globex.orders
stopped: guard guard.table_unknown
--
SELECT * FROM globex.nothing_here
stopped: guard guard.table_unknown
