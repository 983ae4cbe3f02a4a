-- hnsw on halfvec: every opclass, NULLs, inserts after build, TRUNCATE,
-- zero vectors under cosine, exhaustive-search order against an exact sort.
SET enable_seqscan = off;

-- L2
CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val halfvec_l2_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::halfvec)) t2;
SELECT * FROM t ORDER BY val <-> '[1,2]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val halfvec_ip_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
DROP TABLE t;

-- cosine
CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val halfvec_cosine_ops);
INSERT INTO t VALUES (5, '[1,2,4]'), (6, '[0,0,0]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 3) AS d FROM t ORDER BY val <=> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> '[0,0,0]') t2;
DROP TABLE t;

-- L1
CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING hnsw (val halfvec_l1_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <+> '[3,3,3]' AS d FROM t ORDER BY val <+> '[3,3,3]';
DROP TABLE t;

-- exhaustive search (ef_search >= rows) equals the exact order
CREATE TABLE big (id int, val halfvec(5));
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3), sin(i * 2.1)] FROM generate_series(1, 400) i;
CREATE INDEX ON big USING hnsw (val halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3), sin(i * 2.1)] FROM generate_series(401, 500) i;
SET hnsw.ef_search = 1000;
CREATE TEMP TABLE idx AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <=> '[1,0.5,0,-0.5,0.25]' LIMIT 15) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <=> '[1,0.5,0,-0.5,0.25]', id LIMIT 15) s;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT i.ids = e.ids AS same_order FROM idx i, exact e;
RESET hnsw.ef_search;
DROP TABLE big, idx, exact;

-- errors
CREATE TABLE t (val halfvec);
CREATE INDEX ON t USING hnsw (val halfvec_l2_ops);
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
DROP TABLE t;
