-- vx_hnsw_verify: a healthy index of every opclass returns no rows after a
-- build, inserts into it, deletes with VACUUM and more inserts; also empty,
-- truncated, spanning-vector and many-extent indexes; errors for relations
-- that are not hnsw indexes and for a bad tolerance.
SET enable_seqscan = off;

-- one table per type, filled by deterministic expressions
CREATE TABLE tv (id int, v vector(8));
CREATE TABLE th (id int, v halfvec(8));
CREATE TABLE ts (id int, v sparsevec(20));
CREATE TABLE tb (id int, v bit(40));
CREATE FUNCTION fill(lo int, hi int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO tv SELECT i, ARRAY(SELECT sin(i * j) FROM generate_series(1, 8) j) FROM generate_series(lo, hi) i;
	INSERT INTO th SELECT i, ARRAY(SELECT cos(i * j) FROM generate_series(1, 8) j)::halfvec FROM generate_series(lo, hi) i;
	INSERT INTO ts SELECT i, ARRAY(SELECT CASE WHEN (i + j) % 4 = 0 THEN sin(i + j) ELSE 0 END
		FROM generate_series(1, 20) j)::vector::sparsevec FROM generate_series(lo, hi) i;
	INSERT INTO tb SELECT i, (hashint4(i)::bit(32) || hashint4(-i)::bit(8)) FROM generate_series(lo, hi) i;
$$;
SELECT fill(1, 300);
-- a few NULLs and a zero vector (not indexed under cosine)
INSERT INTO tv VALUES (0, '[0,0,0,0,0,0,0,0]'), (-1, NULL);
INSERT INTO th VALUES (-1, NULL);

CREATE INDEX tv_l2 ON tv USING hnsw (v vector_l2_ops);
CREATE INDEX tv_ip ON tv USING hnsw (v vector_ip_ops);
CREATE INDEX tv_cos ON tv USING hnsw (v vector_cosine_ops);
CREATE INDEX tv_l1 ON tv USING hnsw (v vector_l1_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX th_l2 ON th USING hnsw (v halfvec_l2_ops);
CREATE INDEX th_ip ON th USING hnsw (v halfvec_ip_ops);
CREATE INDEX th_cos ON th USING hnsw (v halfvec_cosine_ops);
CREATE INDEX th_l1 ON th USING hnsw (v halfvec_l1_ops);
CREATE INDEX ts_l2 ON ts USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ts_ip ON ts USING hnsw (v sparsevec_ip_ops);
CREATE INDEX ts_cos ON ts USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX ts_l1 ON ts USING hnsw (v sparsevec_l1_ops);
CREATE INDEX tb_ham ON tb USING hnsw (v bit_hamming_ops);
CREATE INDEX tb_jac ON tb USING hnsw (v bit_jaccard_ops) WITH (m = 4, ef_construction = 10);

-- every hnsw index of the database, checked in one query: no rows is healthy.
-- Structure only (tolerance = 1): inserts draw random levels, and with
-- m = 2 or 4 some elements lose every incoming level-0 link, so the count of
-- unreachable elements is not deterministic; it is checked separately below.
CREATE VIEW problems AS
	SELECT c.relname, p FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	CROSS JOIN LATERAL vx_hnsw_verify(c.oid, 1) p
	WHERE a.amname = 'hnsw' ORDER BY 1, 2;
-- reachability of the m = 16 indexes at the default threshold (1% of live elements)
CREATE VIEW unreachable AS
	SELECT c.relname, p FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	CROSS JOIN LATERAL vx_hnsw_verify(c.oid) p
	WHERE a.amname = 'hnsw' AND c.reloptions IS NULL ORDER BY 1, 2;
SELECT count(*) AS hnsw_indexes FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'hnsw';

-- after the build
SELECT * FROM problems;
SELECT * FROM unreachable;
-- the deterministic build with m = 2 leaves elements without incoming links:
-- reported when no unreachable element is allowed, not when all are
SELECT count(*) FROM vx_hnsw_verify('tv_l1', 0) p WHERE p LIKE 'reachability: % of 301 live elements are not reachable%';
SELECT count(*) FROM vx_hnsw_verify('tv_l1', 1);
-- after inserts into the built indexes
SELECT fill(301, 600);
SELECT * FROM problems;
-- after deletes and VACUUM, then inserts again
DELETE FROM tv WHERE id % 3 = 0;
DELETE FROM th WHERE id % 3 = 0;
DELETE FROM ts WHERE id % 3 = 0;
DELETE FROM tb WHERE id % 3 = 0;
VACUUM tv, th, ts, tb;
SELECT * FROM problems;
SELECT fill(601, 700);
SELECT * FROM problems;
SELECT * FROM unreachable;
-- every live element reachable, counted strictly, on the deterministic build of a fresh index
CREATE INDEX tv_l2_fresh ON tv USING hnsw (v vector_l2_ops);
SELECT * FROM vx_hnsw_verify('tv_l2_fresh', 0);
DROP INDEX tv_l2_fresh;
-- TRUNCATE leaves empty indexes, then refilled
TRUNCATE tv, th, ts, tb;
SELECT * FROM problems;
SELECT fill(1, 50);
SELECT * FROM problems;

-- empty at build time
CREATE TABLE te (v vector(3));
CREATE INDEX te_idx ON te USING hnsw (v vector_l2_ops);
SELECT * FROM vx_hnsw_verify('te_idx');
INSERT INTO te VALUES ('[1,2,3]');
SELECT * FROM vx_hnsw_verify('te_idx');
DROP TABLE te;

-- vectors spanning several pages (3000 floats: 12 kB a vector)
CREATE TABLE tw (id int, v vector(3000));
INSERT INTO tw SELECT i, ARRAY(SELECT sin(i + j) FROM generate_series(1, 3000) j) FROM generate_series(1, 20) i;
CREATE INDEX tw_idx ON tw USING hnsw (v vector_l2_ops);
INSERT INTO tw SELECT i, ARRAY(SELECT sin(i + j) FROM generate_series(1, 3000) j) FROM generate_series(21, 30) i;
SELECT * FROM vx_hnsw_verify('tw_idx');
DELETE FROM tw WHERE id % 2 = 0;
VACUUM tw;
SELECT * FROM vx_hnsw_verify('tw_idx');
DROP TABLE tw;

-- m = 2: extents of about 200 elements, many upper levels, so many upper pages
CREATE TABLE tm (id int, v vector(2));
INSERT INTO tm SELECT i, ARRAY[sin(i), cos(i * 0.7)] FROM generate_series(1, 1000) i;
CREATE INDEX tm_idx ON tm USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
INSERT INTO tm SELECT i, ARRAY[sin(i), cos(i * 0.7)] FROM generate_series(1001, 1500) i;
SELECT * FROM vx_hnsw_verify('tm_idx', 1);
DROP TABLE tm;

-- unlogged
CREATE UNLOGGED TABLE tu (v vector(3));
INSERT INTO tu SELECT ARRAY[i, i % 7, 1] FROM generate_series(1, 100) i;
CREATE INDEX tu_idx ON tu USING hnsw (v vector_l2_ops);
SELECT * FROM vx_hnsw_verify('tu_idx');
DROP TABLE tu;

-- errors: not an hnsw index, bad tolerance; NULL gives no rows (STRICT)
CREATE INDEX tv_btree ON tv (id);
SELECT * FROM vx_hnsw_verify('tv_btree');
SELECT * FROM vx_hnsw_verify('tv');
SELECT * FROM vx_hnsw_verify('problems');
SELECT * FROM vx_hnsw_verify('no_such_index');
SELECT * FROM vx_hnsw_verify('tv_l2', -0.5);
SELECT * FROM vx_hnsw_verify('tv_l2', 2);
SELECT * FROM vx_hnsw_verify('tv_l2', 'NaN');
SELECT * FROM vx_hnsw_verify(NULL);
SELECT * FROM vx_hnsw_verify('tv_l2', NULL);
-- only the owner may check an index
CREATE ROLE vx_verify_other;
SET ROLE vx_verify_other;
SELECT * FROM vx_hnsw_verify('tv_l2');
RESET ROLE;
DROP ROLE vx_verify_other;

DROP VIEW problems, unreachable;
DROP TABLE tv, th, ts, tb;
DROP FUNCTION fill(int, int);
