-- Statements the guard accepts. One per block, blocks separated by a line holding only "--".
-- The line after the statement names the catalog tables it reads ("tables:" then a list).
SELECT count(*) FROM sales.orders
tables: sales.orders
--
select o.id, sum(o.amount) from sales.orders o join sales.customers c on o.id = c.id group by 1
tables: sales.customers, sales.orders
--
WITH x AS (SELECT 1 AS a) SELECT * FROM x, sales.orders
tables: sales.orders
--
SELECT * FROM range(10)
tables:
--
SELECT unnest([1, 2, 3]) AS v
tables:
--
SELECT * FROM generate_series(1, 3)
tables:
--
FROM sales.orders
tables: sales.orders
--
SELECT 1 UNION ALL SELECT id FROM sales.orders
tables: sales.orders
--
SELECT list_transform([1, 2], x -> x + 1), {'a': 1}, row_number() OVER () FROM sales.orders
tables: sales.orders
--
SELECT * FROM (VALUES (1), (2)) v(a)
tables:
--
SELECT id FROM SALES.ORDERS WHERE note LIKE 'x%' ORDER BY 1 LIMIT 3
tables: sales.orders
--
SELECT date_trunc('month', current_date), regexp_replace('ab', 'a', 'b'), strftime(now(), '%Y')
tables:
--
SELECT * FROM sales.orders;
tables: sales.orders
--
SELECT * FROM sales.orders WHERE id = ?
tables: sales.orders
