-- Athena (Trino) SQL and the DuckDB SQL it becomes, over sales.orders(id BIGINT, qty BIGINT,
-- amount DOUBLE, name VARCHAR, at TIMESTAMP). One pair per block, blocks separated by a line
-- holding only "--": the Athena statement, then "=> " and the DuckDB one, or "=> refused: CODE".
SELECT id / qty, amount / qty, 7 / 2 FROM sales.orders
=> SELECT id // qty, amount / qty, 7 // 2 FROM sales.orders
--
SELECT regexp_replace(name, '(\w+) (\w+)', '$2 $1') FROM sales.orders
=> SELECT REGEXP_REPLACE(name, '(\w+) (\w+)', '\2 \1', 'g') FROM sales.orders
--
SELECT format_datetime(at, 'yyyy-MM-dd HH:mm:ss') FROM sales.orders
=> SELECT STRFTIME("at", '%Y-%m-%d %H:%M:%S') FROM sales.orders
--
SELECT parse_datetime('2026-11-27 10:11', 'yyyy-MM-dd HH:mm')
=> SELECT STRPTIME('2026-11-27 10:11', '%Y-%m-%d %H:%M')
--
SELECT date_parse('27/11/2026 10:11:12', '%d/%m/%Y %H:%i:%s')
=> SELECT STRPTIME('27/11/2026 10:11:12', '%d/%m/%Y %H:%M:%S')
--
SELECT date_format(at, '%Y-%m-%d %H:%i') FROM sales.orders
=> SELECT STRFTIME("at", '%Y-%m-%d %H:%M') FROM sales.orders
--
SELECT approx_distinct(id), element_at(ARRAY[1, 2], 1) FROM sales.orders
=> SELECT APPROX_COUNT_DISTINCT(id), [1, 2][1] FROM sales.orders
--
SELECT "$path" FROM sales.orders
=> refused: guard.dialect
--
SELECT id / missing FROM sales.orders
=> refused: guard.dialect
--
SELECT format_datetime(at, 'qqq') FROM sales.orders
=> refused: guard.dialect
--
SELECT 1; SELECT 2
=> refused: guard.multiple_statements
