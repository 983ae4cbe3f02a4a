-- diskann on vector and halfvec: every opclass, NULLs, zero vectors, inserts
-- after build, TRUNCATE, filters (the scan goes on while the executor asks),
-- vacuum and reuse of freed nodes, unlogged tables, plans, and exact answers
-- on small tables (the search is exhaustive and every candidate re-ranked).
SET enable_seqscan = off;

-- L2
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val vector_l2_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
-- a NULL query: every indexed row comes back
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::vector)) t2;
-- the query must have the index's dimensions
SELECT * FROM t ORDER BY val <-> '[1,2]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
-- ORDER BY argument known only at run time (InitPlan)
SELECT id FROM t ORDER BY val <-> (SELECT val FROM t WHERE id = 2) LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
INSERT INTO t VALUES (6, '[3,3,3]');
SELECT id FROM t ORDER BY val <-> '[3,3,3]';
SELECT * FROM vx_diskann_verify('t_val_idx');
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val vector_ip_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
DROP TABLE t;

-- cosine is the default opclass: the zero vector is not indexed
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val);
INSERT INTO t VALUES (5, '[1,2,4]'), (6, '[0,0,0]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <=> '[3,3,3]';
SELECT t.id, t2.id FROM t CROSS JOIN LATERAL (SELECT id FROM t t2 ORDER BY val <=> t.val LIMIT 1) t2
	WHERE t.val != '[0,0,0]' ORDER BY t.id;
DROP TABLE t;

-- halfvec, all three opclasses
CREATE TABLE h (id int, val halfvec(3));
INSERT INTO h VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL), (5, '[1,2,4]');
CREATE INDEX h_l2 ON h USING diskann (val halfvec_l2_ops);
SELECT id, round((val <-> '[3,3,3]')::numeric, 3) AS d FROM h ORDER BY val <-> '[3,3,3]';
DROP INDEX h_l2;
CREATE INDEX h_ip ON h USING diskann (val halfvec_ip_ops);
SELECT id, val <#> '[3,3,3]' AS d FROM h ORDER BY val <#> '[3,3,3]';
DROP INDEX h_ip;
CREATE INDEX h_cos ON h USING diskann (val);
SELECT id, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM h ORDER BY val <=> '[3,3,3]';
DROP TABLE h;

-- a few hundred rows: the index order equals the exact order of a sort without index
CREATE TABLE big (id int, val vector(4));
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(1, 600) i;
CREATE INDEX big_idx ON big USING diskann (val vector_l2_ops) WITH (num_neighbors = 16, search_list_size = 32);
SET diskann.query_search_list_size = 600;
SET diskann.query_rescore = 600;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 20) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY (val <-> '[0.1,0.2,0.3,0.4]') + 0 LIMIT 20) s) AS same;
-- a filter rejecting most rows: the scan goes on until the LIMIT is filled
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
SELECT COUNT(*) FROM (SELECT id FROM big WHERE id % 50 = 0 ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 10) s;
-- delete, vacuum, reinsert: freed nodes are reused, the index stays valid
DELETE FROM big WHERE id % 3 = 0;
VACUUM big;
SELECT * FROM vx_diskann_verify('big_idx');
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[0.1,0.2,0.3,0.4]') s;
SELECT pg_relation_size('big_idx') AS size_before \gset
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(1, 600) i WHERE i % 3 = 0;
SELECT pg_relation_size('big_idx') = :size_before AS same_size;
SELECT * FROM vx_diskann_verify('big_idx');
SET diskann.query_search_list_size = 600;
SET diskann.query_rescore = 600;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> '[0.5,0.2,-0.3,0.4]' LIMIT 20) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY (val <-> '[0.5,0.2,-0.3,0.4]') + 0 LIMIT 20) s) AS same;
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
DROP TABLE big;

-- unlogged table
CREATE UNLOGGED TABLE u (id int, val vector(3));
INSERT INTO u VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
CREATE INDEX ON u USING diskann (val vector_l2_ops);
SELECT id FROM u ORDER BY val <-> '[1,2,3]';
DROP TABLE u;

-- an expression index: re-ranking recomputes the expression from the row
CREATE TABLE e (id int, val vector(4));
INSERT INTO e VALUES (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, '[1,1,0,0]');
CREATE INDEX ON e USING diskann ((subvector(val, 1, 2)::vector(2)) vector_l2_ops);
SELECT id FROM e ORDER BY subvector(val, 1, 2)::vector(2) <-> '[1,0.9]';
DROP TABLE e;
RESET enable_seqscan;
