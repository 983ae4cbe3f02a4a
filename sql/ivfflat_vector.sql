-- ivfflat on vector: l2, inner product and cosine; NULLs, inserts after the
-- build, TRUNCATE, an empty table, NULL and wrong-dimension queries, and
-- probes = lists giving the exact order.
SET enable_seqscan = off;

-- l2
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val vector_l2_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::vector)) t2;
SELECT COUNT(*) FROM t;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
SELECT * FROM t ORDER BY val <-> '[3,3]' LIMIT 1;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
INSERT INTO t VALUES (6, '[2,2,2]');
SELECT id FROM t ORDER BY val <-> '[3,3,3]';
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val vector_ip_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
DROP TABLE t;

-- cosine (the zero vector is not indexed, as in pgvector)
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val vector_cosine_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <=> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> '[0,0,0]') t2;
DROP TABLE t;

-- an empty table: the little-data notice, then inserts go to the (random) lists
CREATE TABLE t (id int, val vector(3));
CREATE INDEX t_idx ON t USING ivfflat (val) WITH (lists = 4);
INSERT INTO t SELECT i, ARRAY[i, i % 5, i % 3] FROM generate_series(1, 20) i;
SET ivfflat.probes = 4;
SELECT id FROM t ORDER BY val <-> '[10,2,1]' LIMIT 3;
SELECT * FROM vx_ivfflat_verify('t_idx');
RESET ivfflat.probes;
DROP TABLE t;

-- probes = lists: the exact order for each metric (1000 rows, 20 lists)
CREATE TABLE big (id int, val vector(8));
INSERT INTO big SELECT i, ARRAY(SELECT sin(i * 0.37 + j * 1.91) * (1 + (i % 13)) FROM generate_series(1, 8) j)
	FROM generate_series(1, 1000) i;
CREATE INDEX big_l2 ON big USING ivfflat (val vector_l2_ops) WITH (lists = 20);
CREATE INDEX big_ip ON big USING ivfflat (val vector_ip_ops) WITH (lists = 20);
CREATE INDEX big_cos ON big USING ivfflat (val vector_cosine_ops) WITH (lists = 20);
SELECT * FROM vx_ivfflat_verify('big_l2') UNION ALL SELECT * FROM vx_ivfflat_verify('big_ip')
	UNION ALL SELECT * FROM vx_ivfflat_verify('big_cos');
CREATE TEMP TABLE q AS SELECT '[1,-1,0.5,2,-0.3,0.7,0,1.5]'::vector AS q;
SET ivfflat.probes = 20;
CREATE TEMP TABLE idx AS
	SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> (SELECT q FROM q) LIMIT 20) s) AS l2,
		(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <#> (SELECT q FROM q) LIMIT 20) s) AS ip,
		(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <=> (SELECT q FROM q) LIMIT 20) s) AS cos;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS
	SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> (SELECT q FROM q) LIMIT 20) s) AS l2,
		(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <#> (SELECT q FROM q) LIMIT 20) s) AS ip,
		(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <=> (SELECT q FROM q) LIMIT 20) s) AS cos;
SELECT i.l2 = e.l2 AS l2, i.ip = e.ip AS ip, i.cos = e.cos AS cos, cardinality(i.l2) AS n FROM idx i, exact e;
RESET enable_indexscan;
SET enable_seqscan = off;
-- one probe still returns rows in distance order, from fewer lists
SET ivfflat.probes = 1;
SELECT count(*) < 1000 AS fewer FROM (SELECT id FROM big ORDER BY val <-> (SELECT q FROM q)) s;
RESET ivfflat.probes;
DROP TABLE big;
