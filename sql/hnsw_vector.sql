-- hnsw on vector: every opclass, NULLs, inserts after build, TRUNCATE,
-- zero vectors under cosine, iterative scans, unlogged tables, vacuum,
-- plans, and the errors of the vector column.
SET enable_seqscan = off;

-- L2
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
-- a NULL query puts every row at the same distance: all indexed rows come back
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::vector)) t2;
SELECT COUNT(*) FROM t;
-- the query must have the index's dimensions
SELECT * FROM t ORDER BY val <-> '[1,2]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
-- ORDER BY argument known only at run time (InitPlan)
SELECT id FROM t ORDER BY val <-> (SELECT val FROM t WHERE id = 2) LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
INSERT INTO t VALUES (6, '[3,3,3]');
SELECT id FROM t ORDER BY val <-> '[3,3,3]';
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val vector_ip_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <#> (SELECT NULL::vector)) t2;
DROP TABLE t;

-- cosine: the zero vector is not indexed; a zero query returns every indexed row
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val vector_cosine_ops);
INSERT INTO t VALUES (5, '[1,2,4]'), (6, '[0,0,0]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <=> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> '[0,0,0]') t2;
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> (SELECT NULL::vector)) t2;
-- every indexed row is its own nearest neighbour
SELECT t.id, t2.id FROM t CROSS JOIN LATERAL (SELECT id FROM t t2 ORDER BY val <=> t.val LIMIT 1) t2
	WHERE t.val != '[0,0,0]' ORDER BY t.id;
DROP TABLE t;

-- L1
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val vector_l1_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <+> '[3,3,3]' AS d FROM t ORDER BY val <+> '[3,3,3]';
DROP TABLE t;

-- a few hundred rows: with ef_search >= rows the search is exhaustive, so the
-- index order must equal the exact order (checked against a sort without index)
CREATE TABLE big (id int, val vector(4));
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(1, 600) i;
CREATE INDEX big_l2 ON big USING hnsw (val vector_l2_ops) WITH (m = 16, ef_construction = 64);
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(601, 800) i;
SET hnsw.ef_search = 1000;
CREATE TEMP TABLE idx AS
	SELECT q, array_agg(id ORDER BY n) AS ids FROM generate_series(1, 5) q
	CROSS JOIN LATERAL (SELECT id, row_number() OVER () AS n FROM
		(SELECT id FROM big ORDER BY val <-> ARRAY[cos(q), sin(q), 0.5, -0.5]::vector LIMIT 20) s) s
	GROUP BY q;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS
	SELECT q, array_agg(id ORDER BY n) AS ids FROM generate_series(1, 5) q
	CROSS JOIN LATERAL (SELECT id, row_number() OVER () AS n FROM
		(SELECT id FROM big ORDER BY val <-> ARRAY[cos(q), sin(q), 0.5, -0.5]::vector, id LIMIT 20) s) s
	GROUP BY q;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT q, i.ids = e.ids AS same_order FROM idx i JOIN exact e USING (q) ORDER BY q;
DROP TABLE idx, exact;

-- vacuum: deleted rows are never returned, the graph is repaired around
-- them, and their space is reused by later inserts (the index does not grow)
DELETE FROM big WHERE id % 3 = 0;
VACUUM big;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]') s;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]') s WHERE id % 3 = 0;
SELECT pg_relation_size('big_l2') AS size_before \gset
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(801, 900) i;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]') s;
SELECT pg_relation_size('big_l2') = :size_before AS space_reused;
-- after repair and reuse the search is still exhaustive and exact
CREATE TEMP TABLE idx AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <-> '[0.5,-0.5,0.5,0]' LIMIT 25) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <-> '[0.5,-0.5,0.5,0]', id LIMIT 25) s;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT i.ids = e.ids AS same_order FROM idx i, exact e;
DROP TABLE idx, exact;
RESET hnsw.ef_search;

-- iterative scans return more than ef_search rows when asked
SET hnsw.ef_search = 1;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]' LIMIT 50) s;
SET hnsw.iterative_scan = strict_order;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]' LIMIT 50) s;
-- strict order: distances never decrease
SELECT bool_and(d >= prev) FROM (SELECT d, lag(d, 1, 0) OVER (ORDER BY n) AS prev FROM
	(SELECT val <-> '[1,0,0,0]' AS d, row_number() OVER () AS n FROM
		(SELECT val FROM big ORDER BY val <-> '[1,0,0,0]' LIMIT 100) s) s) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]' LIMIT 50) s;
-- a filter keeps the scan going until LIMIT rows passed it
SELECT COUNT(*) FROM (SELECT id FROM big WHERE id % 10 = 1 ORDER BY val <-> '[1,0,0,0]' LIMIT 30) s;
-- hnsw.max_scan_tuples bounds the continuation
SET hnsw.max_scan_tuples = 1;
SELECT COUNT(*) < 50 AS bounded FROM (SELECT id FROM big ORDER BY val <-> '[1,0,0,0]' LIMIT 50) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
DROP TABLE big;

-- every row deleted: vacuum frees everything, including the entry point
CREATE TABLE t (id int, val vector(3));
INSERT INTO t SELECT i, ARRAY[i, i % 5, 1] FROM generate_series(1, 100) i;
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
DELETE FROM t;
VACUUM t;
SELECT * FROM t ORDER BY val <-> '[1,1,1]';
INSERT INTO t VALUES (1, '[1,1,1]'), (2, '[2,2,2]');
SELECT id FROM t ORDER BY val <-> '[2,2,1]';
DROP TABLE t;

-- empty at build time, then filled by inserts
CREATE TABLE t (id int, val vector(3));
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
SELECT * FROM t ORDER BY val <-> '[1,1,1]';
INSERT INTO t SELECT i, ARRAY[i, i, i] FROM generate_series(1, 50) i;
SELECT id FROM t ORDER BY val <-> '[10,10,10]' LIMIT 3;
DROP TABLE t;

-- unlogged
CREATE UNLOGGED TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
SELECT id FROM t ORDER BY val <-> '[3,3,3]';
DROP TABLE t;

-- expression index
CREATE TABLE t (id int, val vector);
INSERT INTO t VALUES (1, '[1,2,3]'), (2, '[4,5,6]');
CREATE INDEX ON t USING hnsw ((val::vector(3)) vector_l2_ops);
SELECT id FROM t ORDER BY val::vector(3) <-> '[4,5,5]' LIMIT 1;

-- errors
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
CREATE INDEX ON t USING hnsw (val);
CREATE INDEX ON t USING hnsw ((val::vector(3)) halfvec_l2_ops);
CREATE INDEX ON t USING hnsw (val vector_l2_ops, id);
DROP TABLE t;
