-- hnsw on bit: hamming and jaccard, NULLs, inserts after build, TRUNCATE,
-- exhaustive-search order, and the bit length limits.
SET enable_seqscan = off;

-- hamming
CREATE TABLE t (id int, val bit(4));
INSERT INTO t VALUES (1, B'0000'), (2, B'1100'), (3, B'1111'), (4, NULL);
CREATE INDEX ON t USING hnsw (val bit_hamming_ops);
INSERT INTO t VALUES (5, B'1110');
SELECT id, val, val <~> B'1111' AS d FROM t ORDER BY val <~> B'1111';
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <~> (SELECT NULL::bit)) t2;
SELECT * FROM t ORDER BY val <~> B'101' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <~> B'1111' LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <~> B'1111';
DROP TABLE t;

-- jaccard (all-zero strings are at distance 1 from everything, and indexed)
CREATE TABLE t (id int, val bit(4));
INSERT INTO t VALUES (1, B'0000'), (2, B'1100'), (3, B'1111'), (4, NULL);
CREATE INDEX ON t USING hnsw (val bit_jaccard_ops);
INSERT INTO t VALUES (5, B'1110');
SELECT id, val, round((val <%> B'1111')::numeric, 4) AS d FROM t ORDER BY val <%> B'1111';
DROP TABLE t;

-- exhaustive search (ef_search >= rows) equals the exact order
CREATE TABLE big (id int, val bit(64));
INSERT INTO big SELECT i, hashint4(i)::bit(32) || hashint4(i + 1000)::bit(32) FROM generate_series(1, 500) i;
CREATE INDEX ON big USING hnsw (val bit_hamming_ops) WITH (m = 16, ef_construction = 64);
SET hnsw.ef_search = 1000;
CREATE TEMP TABLE idx AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <~> (12345678901234::bit(64)) LIMIT 10) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact AS SELECT array_agg(id) AS ids FROM
	(SELECT id FROM big ORDER BY val <~> (12345678901234::bit(64)), id LIMIT 10) s;
RESET enable_indexscan;
SET enable_seqscan = off;
-- ties are broken by id in the exact order; compare the distance sequences
SELECT (SELECT array_agg(val <~> (12345678901234::bit(64)) ORDER BY n) FROM unnest(i.ids) WITH ORDINALITY u(id, n)
		JOIN big USING (id)) =
	   (SELECT array_agg(val <~> (12345678901234::bit(64)) ORDER BY n) FROM unnest(e.ids) WITH ORDINALITY u(id, n)
		JOIN big USING (id)) AS same_distances
	FROM idx i, exact e;
RESET hnsw.ef_search;
DROP TABLE big, idx, exact;

-- limits: bit varying has no fixed length; at most 64000 bits
CREATE TABLE t (val varbit(4));
CREATE INDEX ON t USING hnsw (val bit_hamming_ops);
DROP TABLE t;
CREATE TABLE t (val bit(64000));
CREATE INDEX ON t USING hnsw (val bit_hamming_ops);
DROP TABLE t;
CREATE TABLE t (val bit(64001));
CREATE INDEX ON t USING hnsw (val bit_hamming_ops);
DROP TABLE t;
