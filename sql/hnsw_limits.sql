-- hnsw at the limits: the largest vector, halfvec, bit and sparsevec values
-- an index takes (built over rows, then inserted into; vectors spanning
-- pages), the first ones refused, values the types cannot store, and extreme
-- values that can be stored (infinite distances, subnormal vectors under
-- cosine). Tables are small; ef_search 1000 makes every search exhaustive.
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;

-- vector(16000): 64 kB a value, 8 pages an element. Rows 1..8 are constant
-- (c = id / 10, compressed inline by TOAST), rows 11..14 sin(id + j) (stored
-- out of line). To the constant query 0.33 a constant row is at
-- sqrt(16000) * |c - 0.33|: 3: 3.7947, 4: 8.8544, 2: 16.4438, 5: 21.5035;
-- a sin row at about sqrt(16000 * (0.5 + 0.33^2)) = 98.7. Distances are shown
-- to 2 decimals: float sums over 16000 elements differ between SIMD levels
-- in the 5th digit.
CREATE TABLE v16k (id int, val vector(16000));
INSERT INTO v16k SELECT i, array_fill(i / 10.0, ARRAY[16000])::vector FROM generate_series(1, 8) i;
INSERT INTO v16k SELECT i, ARRAY(SELECT sin(i + j) FROM generate_series(1, 16000) j)::vector FROM generate_series(11, 14) i;
CREATE INDEX v16k_idx ON v16k USING hnsw (val vector_l2_ops);
-- (EXPLAIN through a subquery: a 16000-element constant would fill the plan)
EXPLAIN (COSTS OFF) SELECT id FROM v16k ORDER BY val <-> (SELECT array_fill(0.33, ARRAY[16000])::vector) LIMIT 4;
SELECT id, round((val <-> array_fill(0.33, ARRAY[16000])::vector)::numeric, 2) AS d
	FROM v16k ORDER BY val <-> array_fill(0.33, ARRAY[16000])::vector LIMIT 4;
SELECT id FROM v16k ORDER BY val <-> (SELECT val FROM v16k WHERE id = 12) LIMIT 1;
-- inserts after the build: an exact match of the query, another sin row
INSERT INTO v16k VALUES (9, array_fill(0.33, ARRAY[16000])::vector);
INSERT INTO v16k SELECT 15, ARRAY(SELECT sin(15 + j) FROM generate_series(1, 16000) j);
SELECT id, round((val <-> array_fill(0.33, ARRAY[16000])::vector)::numeric, 2) AS d
	FROM v16k ORDER BY val <-> array_fill(0.33, ARRAY[16000])::vector LIMIT 3;
SELECT id FROM v16k ORDER BY val <-> (SELECT val FROM v16k WHERE id = 15) LIMIT 1;
SELECT count(*) FROM (SELECT id FROM v16k ORDER BY val <-> array_fill(0, ARRAY[16000])::vector) s;
SELECT * FROM vx_hnsw_verify('v16k_idx', 0);
-- cosine over the same rows: the 9 constant rows all point the same way (their
-- distances to a constant query are 0 up to float rounding, about 1e-6)
CREATE INDEX v16k_cos ON v16k USING hnsw (val vector_cosine_ops);
SELECT count(*) FROM (SELECT val FROM v16k ORDER BY val <=> array_fill(1, ARRAY[16000])::vector LIMIT 9) s
	WHERE val <=> array_fill(1, ARRAY[16000])::vector < 1e-5;
SELECT id FROM v16k ORDER BY val <=> (SELECT val FROM v16k WHERE id = 13) LIMIT 1;
SELECT * FROM vx_hnsw_verify('v16k_cos', 0);
DROP TABLE v16k;

-- halfvec(16000): 32 kB a value, 4 pages an element; the same rows, rounded
-- to half precision (0.33: 0.3300781, 0.3: 0.3000488, 0.4: 0.3999023,
-- 0.2: 0.1999512, 0.5 exact), so the distances are 3: 3.7985, 4: 8.8321,
-- 2: 16.4599, 5: 21.4935
CREATE TABLE h16k (id int, val halfvec(16000));
INSERT INTO h16k SELECT i, array_fill(i / 10.0, ARRAY[16000])::halfvec FROM generate_series(1, 8) i;
INSERT INTO h16k SELECT i, ARRAY(SELECT sin(i + j) FROM generate_series(1, 16000) j)::halfvec FROM generate_series(11, 14) i;
CREATE INDEX h16k_idx ON h16k USING hnsw (val halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM h16k ORDER BY val <-> (SELECT array_fill(0.33, ARRAY[16000])::halfvec) LIMIT 4;
SELECT id, round((val <-> array_fill(0.33, ARRAY[16000])::halfvec)::numeric, 2) AS d
	FROM h16k ORDER BY val <-> array_fill(0.33, ARRAY[16000])::halfvec LIMIT 4;
SELECT id FROM h16k ORDER BY val <-> (SELECT val FROM h16k WHERE id = 12) LIMIT 1;
INSERT INTO h16k VALUES (9, array_fill(0.33, ARRAY[16000])::halfvec);
INSERT INTO h16k SELECT 15, ARRAY(SELECT sin(15 + j) FROM generate_series(1, 16000) j)::halfvec;
SELECT id, round((val <-> array_fill(0.33, ARRAY[16000])::halfvec)::numeric, 2) AS d
	FROM h16k ORDER BY val <-> array_fill(0.33, ARRAY[16000])::halfvec LIMIT 3;
SELECT id FROM h16k ORDER BY val <-> (SELECT val FROM h16k WHERE id = 15) LIMIT 1;
SELECT * FROM vx_hnsw_verify('h16k_idx', 0);
DROP TABLE h16k;

-- one dimension more is refused by the types themselves
CREATE TABLE v16k (val vector(16001));
CREATE TABLE h16k (val halfvec(16001));
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT array_fill(1, ARRAY[16001])::halfvec;
CREATE TABLE v (val vector);
CREATE INDEX ON v USING hnsw ((val::vector(16001)) vector_l2_ops);
DROP TABLE v;

-- bit(64000): 8 kB a value. Row i has its first 1000 i bits set; the query
-- its first 3300: Hamming distances |1000 i - 3300|, so 3: 300, 4: 700,
-- 2: 1300, 5: 1700. Jaccard: 1 - min / max of the set bits.
CREATE TABLE b64k (id int, val bit(64000));
INSERT INTO b64k SELECT i, (repeat('1', 1000 * i) || repeat('0', 64000 - 1000 * i))::bit(64000)
	FROM generate_series(0, 10) i;
CREATE INDEX b64k_ham ON b64k USING hnsw (val bit_hamming_ops);
CREATE INDEX b64k_jac ON b64k USING hnsw (val bit_jaccard_ops);
EXPLAIN (COSTS OFF) SELECT id FROM b64k ORDER BY val <~> (SELECT (repeat('1', 3300) || repeat('0', 60700))::bit(64000)) LIMIT 4;
SELECT id, val <~> (repeat('1', 3300) || repeat('0', 60700))::bit(64000) AS d
	FROM b64k ORDER BY val <~> (repeat('1', 3300) || repeat('0', 60700))::bit(64000) LIMIT 4;
SELECT id, round((val <%> (repeat('1', 3300) || repeat('0', 60700))::bit(64000))::numeric, 4) AS d
	FROM b64k ORDER BY val <%> (repeat('1', 3300) || repeat('0', 60700))::bit(64000) LIMIT 4;
INSERT INTO b64k VALUES (33, (repeat('1', 3300) || repeat('0', 60700))::bit(64000));
SELECT id, val <~> (repeat('1', 3300) || repeat('0', 60700))::bit(64000) AS d
	FROM b64k ORDER BY val <~> (repeat('1', 3300) || repeat('0', 60700))::bit(64000) LIMIT 3;
SELECT * FROM vx_hnsw_verify('b64k_ham', 0);
SELECT * FROM vx_hnsw_verify('b64k_jac', 0);
DROP TABLE b64k;

-- sparsevec: 1000 non-zeros an indexed value (any number of dimensions up to
-- the type's 1,000,000,000); row i has the value i at indices i, i + 1000,
-- ..., so every pair of rows is disjoint; the query is row 3
CREATE FUNCTION spread(i int, n int, dims int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
	SELECT ('{' || string_agg((i + 1000 * k) || ':' || i, ',' ORDER BY k) || '}/' || dims)::sparsevec
	FROM generate_series(0, n - 1) k $$;
CREATE TABLE s (id int, val sparsevec(1000000000));
INSERT INTO s SELECT i, spread(i, 1000, 1000000000) FROM generate_series(1, 5) i;
CREATE INDEX s_idx ON s USING hnsw (val sparsevec_l2_ops);
-- distances: sqrt(1000 (i^2 + 9)) for i <> 3
SELECT id, round((val <-> spread(3, 1000, 1000000000))::numeric, 4) AS d
	FROM s ORDER BY val <-> spread(3, 1000, 1000000000) LIMIT 3;
INSERT INTO s SELECT 6, spread(6, 1000, 1000000000);
INSERT INTO s VALUES (7, '{1000000000:1}/1000000000');
SELECT id FROM s ORDER BY val <-> spread(6, 1000, 1000000000) LIMIT 1;
SELECT id FROM s ORDER BY val <-> '{1000000000:1.5}/1000000000' LIMIT 1;
SELECT * FROM vx_hnsw_verify('s_idx', 0);
-- 1001 non-zeros: refused by an insert and by a build, with pgvector's error
INSERT INTO s SELECT 8, spread(8, 1001, 1000000000);
DROP INDEX s_idx;
INSERT INTO s SELECT 8, spread(8, 1001, 1000000000);
CREATE INDEX s_idx ON s USING hnsw (val sparsevec_l2_ops);
DELETE FROM s WHERE id = 8;
CREATE INDEX s_idx ON s USING hnsw (val sparsevec_cosine_ops);
SELECT id FROM s ORDER BY val <=> spread(2, 1000, 1000000000) LIMIT 1;
DROP TABLE s;
DROP FUNCTION spread(int, int, int);

-- values the types cannot store never reach an index
CREATE TABLE t (id int, v vector(3), h halfvec(3), s sparsevec(3));
CREATE INDEX ON t USING hnsw (v vector_l2_ops);
CREATE INDEX ON t USING hnsw (h halfvec_l2_ops);
CREATE INDEX ON t USING hnsw (s sparsevec_l2_ops);
INSERT INTO t (v) VALUES ('[NaN,1,1]');
INSERT INTO t (v) VALUES ('[1,Infinity,1]');
INSERT INTO t (v) VALUES ('[1,1,-inf]');
INSERT INTO t (v) VALUES ('[1e39,1,1]');
INSERT INTO t (v) VALUES (ARRAY['NaN'::real, 1, 1]);
INSERT INTO t (v) VALUES (ARRAY[1e39, 1, 1]);
INSERT INTO t (v) VALUES ('[3e38,1,1]'::vector + '[3e38,1,1]');
INSERT INTO t (v) VALUES ('[3e38,1,1]'::vector * '[10,1,1]');
INSERT INTO t (h) VALUES ('[NaN,1,1]');
INSERT INTO t (h) VALUES ('[70000,1,1]');
INSERT INTO t (h) VALUES ('[1e38,1,1]'::vector);
INSERT INTO t (h) VALUES ('[60000,1,1]'::halfvec + '[60000,1,1]');
INSERT INTO t (s) VALUES ('{1:NaN}/3');
INSERT INTO t (s) VALUES ('{2:Infinity}/3');
INSERT INTO t (s) VALUES ('{3:1e39}/3');
SELECT count(*) FROM t;
DROP TABLE t;

-- extreme values that can be stored: a squared L2 distance above the float
-- range is infinite; those rows still come back, last, as with pgvector
CREATE TABLE t (id int, v vector(3));
INSERT INTO t SELECT i, ARRAY[i, 0, 0] FROM generate_series(1, 20) i;
INSERT INTO t VALUES (21, '[1e20,0,0]'), (22, '[0,-1e20,0]'), (23, '[3e38,3e38,3e38]');
CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops);
-- (rows at an infinite distance tie: shown as "far")
SELECT CASE WHEN d < 'Infinity' THEN id::text ELSE 'far' END AS id, d
	FROM (SELECT id, v <-> '[0,0,0]' AS d FROM t ORDER BY v <-> '[0,0,0]' OFFSET 18) s;
SELECT id, v <-> '[3e38,3e38,3e38]' AS d FROM t ORDER BY v <-> '[3e38,3e38,3e38]' LIMIT 1;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[-3e38,3e38,-3e38]') s;
INSERT INTO t VALUES (24, '[-1e20,0,0]');
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0]') s;
SELECT * FROM vx_hnsw_verify('t_l2', 0);
-- with iterative scans too
SET hnsw.iterative_scan = strict_order;
SET hnsw.ef_search = 5;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0]' LIMIT 30) s;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 1000;
-- under cosine the smallest subnormal float is a direction like any other
-- (indexed, found) and only the zero vector is left out
CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops);
INSERT INTO t VALUES (25, '[0,1e-45,0]'), (26, '[0,0,0]');
SELECT id, v <=> '[0,1,0]' AS d FROM t ORDER BY v <=> '[0,1,0]' LIMIT 1;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[1,1,1]') s;
DROP TABLE t;
CREATE TABLE t (id int, h halfvec(3));
INSERT INTO t VALUES (1, '[0,0.00000006,0]'), (2, '[1,0,0]'), (3, '[0,0,0]'), (4, '[65504,-65504,0]');
CREATE INDEX t_cos ON t USING hnsw (h halfvec_cosine_ops);
SELECT id, h <=> '[0,1,0]' AS d FROM t ORDER BY h <=> '[0,1,0]';
-- the largest halfvec values: distances stay finite (sqrt(65503^2 + 65504^2))
CREATE INDEX t_l2 ON t USING hnsw (h halfvec_l2_ops);
SELECT id, h <-> '[65504,-65504,0]' AS d FROM t ORDER BY h <-> '[65504,-65504,0]' LIMIT 2;
DROP TABLE t;

RESET hnsw.ef_search;
