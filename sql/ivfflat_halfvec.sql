-- ivfflat on halfvec: l2, inner product and cosine; NULLs, inserts after
-- the build, TRUNCATE, dimension limits, and probes = lists exact.
SET enable_seqscan = off;

CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val halfvec_l2_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::halfvec)) t2;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
DROP TABLE t;

CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val halfvec_ip_ops) WITH (lists = 1);
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
DROP TABLE t;

CREATE TABLE t (id int, val halfvec(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val halfvec_cosine_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <=> '[3,3,3]';
DROP TABLE t;

-- dimension limits: 4000 for halfvec (pgvector's)
CREATE TABLE t (val halfvec(4001));
CREATE INDEX ON t USING ivfflat (val halfvec_l2_ops);
DROP TABLE t;
CREATE TABLE t (val halfvec);
CREATE INDEX ON t USING ivfflat (val halfvec_l2_ops);
DROP TABLE t;
CREATE TABLE t (val halfvec(4000));
CREATE INDEX t_idx ON t USING ivfflat (val halfvec_l2_ops) WITH (lists = 1);
INSERT INTO t SELECT array_fill(i::real, ARRAY[4000])::halfvec FROM generate_series(1, 3) i;
SELECT * FROM vx_ivfflat_verify('t_idx');
DROP TABLE t;

-- probes = lists: exact
CREATE TABLE big (id int, val halfvec(8));
INSERT INTO big SELECT i, ARRAY(SELECT sin(i * 0.37 + j * 1.91) * (1 + (i % 13)) FROM generate_series(1, 8) j)
	FROM generate_series(1, 1000) i;
CREATE INDEX big_l2 ON big USING ivfflat (val halfvec_l2_ops) WITH (lists = 20);
CREATE INDEX big_cos ON big USING ivfflat (val halfvec_cosine_ops) WITH (lists = 20);
SELECT * FROM vx_ivfflat_verify('big_l2') UNION ALL SELECT * FROM vx_ivfflat_verify('big_cos');
SET ivfflat.probes = 20;
CREATE TEMP TABLE idx AS
	SELECT (SELECT array_agg(round((val <-> '[1,-1,0.5,2,-0.3,0.7,0,1.5]')::numeric, 3)) FROM
			(SELECT val FROM big ORDER BY val <-> '[1,-1,0.5,2,-0.3,0.7,0,1.5]' LIMIT 20) s) AS l2,
		(SELECT array_agg(round((val <=> '[1,-1,0.5,2,-0.3,0.7,0,1.5]')::numeric, 3)) FROM
			(SELECT val FROM big ORDER BY val <=> '[1,-1,0.5,2,-0.3,0.7,0,1.5]' LIMIT 20) s) AS cos;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS
	SELECT (SELECT array_agg(round((val <-> '[1,-1,0.5,2,-0.3,0.7,0,1.5]')::numeric, 3)) FROM
			(SELECT val FROM big ORDER BY val <-> '[1,-1,0.5,2,-0.3,0.7,0,1.5]' LIMIT 20) s) AS l2,
		(SELECT array_agg(round((val <=> '[1,-1,0.5,2,-0.3,0.7,0,1.5]')::numeric, 3)) FROM
			(SELECT val FROM big ORDER BY val <=> '[1,-1,0.5,2,-0.3,0.7,0,1.5]' LIMIT 20) s) AS cos;
SELECT i.l2 = e.l2 AS l2, i.cos = e.cos AS cos FROM idx i, exact e;
DROP TABLE big;
