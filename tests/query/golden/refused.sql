-- Statements the guard refuses. One per block, blocks separated by a line holding only "--".
-- The line after the statement gives the stable error code.
SELECT * FROM '/etc/passwd'
code: guard.table_unknown
--
SELECT * FROM "/etc/passwd"
code: guard.table_unknown
--
SELECT * FROM read_csv('/etc/passwd')
code: guard.function
--
SELECT * FROM read_text('/etc/passwd')
code: guard.function
--
SELECT * FROM read_parquet('lake/sales/orders/a.parquet')
code: guard.function
--
SELECT * FROM glob('/*')
code: guard.function
--
SELECT current_setting('threads')
code: guard.function
--
SELECT * FROM duckdb_settings()
code: guard.function
--
SELECT * FROM duckdb_secrets()
code: guard.function
--
SELECT getenv('HOME')
code: guard.function
--
SELECT * FROM query('SELECT 1')
code: guard.function
--
SELECT * FROM query_table('sales.orders')
code: guard.function
--
SELECT * FROM sniff_csv('/etc/passwd')
code: guard.function
--
SELECT * FROM parquet_metadata('x.parquet')
code: guard.function
--
SELECT * FROM system.main.duckdb_settings()
code: guard.function
--
SELECT json_execute_serialized_sql('x')
code: guard.function
--
SELECT * FROM sales.nope
code: guard.table_unknown
--
SELECT * FROM orders
code: guard.table_unknown
--
SELECT * FROM memory.sales.orders
code: guard.table_unknown
--
COPY sales.orders TO '/tmp/out.csv'
code: guard.not_read_only
--
COPY (SELECT 1) TO 'lake/sales/orders/a.csv'
code: guard.not_read_only
--
EXPORT DATABASE '/tmp/x'
code: guard.not_read_only
--
ATTACH '/tmp/x.db' AS x
code: guard.not_read_only
--
DETACH x
code: guard.not_read_only
--
INSTALL httpfs
code: guard.not_read_only
--
LOAD httpfs
code: guard.not_read_only
--
SET threads = 64
code: guard.not_read_only
--
RESET threads
code: guard.not_read_only
--
PRAGMA version
code: guard.not_read_only
--
CALL pragma_version()
code: guard.not_read_only
--
CREATE TABLE t AS SELECT 1
code: guard.not_read_only
--
CREATE VIEW sales.v AS SELECT 1
code: guard.not_read_only
--
INSERT INTO sales.orders VALUES (1)
code: guard.not_read_only
--
UPDATE sales.orders SET id = 1
code: guard.not_read_only
--
DELETE FROM sales.orders
code: guard.not_read_only
--
DROP TABLE sales.orders
code: guard.not_read_only
--
USE sales
code: guard.not_read_only
--
CHECKPOINT
code: guard.not_read_only
--
DESCRIBE sales.orders
code: guard.not_read_only
--
SELECT 1; SELECT 2
code: guard.multiple_statements
--
SELECT 1; DROP TABLE sales.orders
code: guard.multiple_statements
--
SELEC 1
code: guard.syntax
--
SELECT * FROM sales.orders WHERE
code: guard.syntax
--

code: guard.empty
