-- hnsw on sparsevec: every opclass, NULLs, inserts after build, TRUNCATE,
-- zero vectors under cosine, the non-zero limit, exhaustive-search order.
SET enable_seqscan = off;

-- L2
CREATE TABLE t (id int, val sparsevec(3));
INSERT INTO t VALUES (1, '{}/3'), (2, '{1:1,2:2,3:3}/3'), (3, '{1:1,2:1,3:1}/3'), (4, NULL);
CREATE INDEX ON t USING hnsw (val sparsevec_l2_ops);
INSERT INTO t VALUES (5, '{1:1,2:2,3:4}/3');
SELECT id, val, round((val <-> '{1:3,2:3,3:3}/3')::numeric, 4) AS d FROM t ORDER BY val <-> '{1:3,2:3,3:3}/3';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::sparsevec)) t2;
SELECT * FROM t ORDER BY val <-> '{1:1}/4' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '{1:3}/3' LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '{1:3,2:3,3:3}/3';
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val sparsevec(3));
INSERT INTO t VALUES (1, '{}/3'), (2, '{1:1,2:2,3:3}/3'), (3, '{1:1,2:1,3:1}/3'), (4, NULL);
CREATE INDEX ON t USING hnsw (val sparsevec_ip_ops);
INSERT INTO t VALUES (5, '{1:1,2:2,3:4}/3');
SELECT id, val, val <#> '{1:3,2:3,3:3}/3' AS d FROM t ORDER BY val <#> '{1:3,2:3,3:3}/3';
DROP TABLE t;

-- cosine: the zero vector is not indexed
CREATE TABLE t (id int, val sparsevec(3));
INSERT INTO t VALUES (1, '{}/3'), (2, '{1:1,2:2,3:3}/3'), (3, '{1:1,2:1,3:1}/3'), (4, NULL);
CREATE INDEX ON t USING hnsw (val sparsevec_cosine_ops);
INSERT INTO t VALUES (5, '{1:1,2:2,3:4}/3'), (6, '{}/3');
SELECT id, val, round((val <=> '{1:3,2:3,3:3}/3')::numeric, 4) AS d FROM t ORDER BY val <=> '{1:3,2:3,3:3}/3';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> '{}/3') t2;
DROP TABLE t;

-- L1
CREATE TABLE t (id int, val sparsevec(3));
INSERT INTO t VALUES (1, '{}/3'), (2, '{1:1,2:2,3:3}/3'), (3, '{1:1,2:1,3:1}/3'), (4, NULL);
CREATE INDEX ON t USING hnsw (val sparsevec_l1_ops);
INSERT INTO t VALUES (5, '{1:1,2:2,3:4}/3');
SELECT id, val, val <+> '{1:3,2:3,3:3}/3' AS d FROM t ORDER BY val <+> '{1:3,2:3,3:3}/3';
DROP TABLE t;

-- exhaustive search (ef_search >= rows) equals the exact order (all rows share
-- index 1, so distances rarely tie)
CREATE TABLE big (id int, val sparsevec(1000));
INSERT INTO big SELECT i, ('{1:' || sin(i) || ',' || (i % 997) + 2 || ':' || cos(i * 0.7) || ','
	|| ((i * 7) % 997) + 2 || ':' || sin(i * 1.3) || '}/1000')::sparsevec FROM generate_series(1, 300) i;
CREATE INDEX ON big USING hnsw (val sparsevec_l2_ops) WITH (m = 16, ef_construction = 64);
SET hnsw.ef_search = 1000;
CREATE TEMP TABLE idx AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <-> '{1:0.5,8:0.9,50:-0.3}/1000' LIMIT 10) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <-> '{1:0.5,8:0.9,50:-0.3}/1000', id LIMIT 10) s;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT i.ids = e.ids AS same_order FROM idx i, exact e;
RESET hnsw.ef_search;
DROP TABLE big, idx, exact;

-- at most 1000 non-zero elements per indexed value; queries have no such limit
CREATE TABLE t (val sparsevec(1001));
CREATE INDEX ON t USING hnsw (val sparsevec_l2_ops);
INSERT INTO t VALUES ((array_fill(1, ARRAY[1000]) || 0)::vector::sparsevec(1001));
INSERT INTO t VALUES (array_fill(1, ARRAY[1001])::vector::sparsevec(1001));
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> array_fill(1, ARRAY[1001])::vector::sparsevec(1001)) s;
DROP TABLE t;

-- errors
CREATE TABLE t (val sparsevec);
CREATE INDEX ON t USING hnsw (val sparsevec_l2_ops);
DROP TABLE t;
