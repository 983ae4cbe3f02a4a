-- ivfflat on bit: hamming; NULLs, inserts after the build, TRUNCATE,
-- length limits, and probes = lists exact.
SET enable_seqscan = off;

CREATE TABLE t (id int, val bit(4));
INSERT INTO t VALUES (1, B'0000'), (2, B'1100'), (3, B'1111'), (4, NULL);
CREATE INDEX ON t USING ivfflat (val bit_hamming_ops) WITH (lists = 1);
INSERT INTO t VALUES (5, B'1110');
SELECT id, val, val <~> B'1111' AS d FROM t ORDER BY val <~> B'1111';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <~> (SELECT NULL::bit)) t2;
SELECT * FROM t ORDER BY val <~> B'101' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <~> B'1111' LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <~> B'1111';
DROP TABLE t;

-- jaccard has no ivfflat opclass (as in pgvector)
CREATE TABLE t (val bit(4));
CREATE INDEX ON t USING ivfflat (val bit_jaccard_ops);
DROP TABLE t;

-- length limits: 64000 bits (pgvector's)
CREATE TABLE t (val bit(64001));
CREATE INDEX ON t USING ivfflat (val bit_hamming_ops);
DROP TABLE t;
CREATE TABLE t (val varbit(8));
CREATE INDEX ON t USING ivfflat (val bit_hamming_ops);
DROP TABLE t;

-- probes = lists: exact distance sequence
CREATE TABLE big (id int, val bit(64));
INSERT INTO big SELECT i, hashint4(i)::bit(32) || hashint4(i + 1000)::bit(32) FROM generate_series(1, 1000) i;
CREATE INDEX big_idx ON big USING ivfflat (val bit_hamming_ops) WITH (lists = 10);
SELECT * FROM vx_ivfflat_verify('big_idx');
SET ivfflat.probes = 10;
CREATE TEMP TABLE idx AS SELECT array_agg(d) AS ds FROM
	(SELECT val <~> (12345678901234::bit(64)) AS d FROM big ORDER BY val <~> (12345678901234::bit(64)) LIMIT 30) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS SELECT array_agg(d) AS ds FROM
	(SELECT val <~> (12345678901234::bit(64)) AS d FROM big ORDER BY val <~> (12345678901234::bit(64)) LIMIT 30) s;
SELECT i.ds = e.ds AS same, cardinality(i.ds) AS n FROM idx i, exact e;
DROP TABLE big;
