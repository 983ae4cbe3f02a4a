-- hnsw index DDL: REINDEX (INDEX, TABLE, CONCURRENTLY, rolled back), DROP and
-- CREATE (also CONCURRENTLY, here without concurrent writers: TAP test
-- 019_hnsw_concurrent_build.pl has those), TRUNCATE rolled back, ALTER INDEX
-- SET, ALTER COLUMN TYPE, partial and expression indexes, the planner's use
-- of the index, and the DDL PostgreSQL refuses for the access method.
--
-- Data: the 500 points of a 10 x 10 x 5 grid, id = x + 10 y + 100 z. The
-- query [2.13,3.27,1.41] has distinct distances to all of them; by hand,
-- squared: 132: 0.2579, 232: 0.4379, 142: 0.7179, 242: 0.8979, 133: 0.9979;
-- among odd ids 133, 233: 1.1779, 143: 1.4579, 131: 1.5179, 243: 1.6379.
-- ef_search 1000 makes every search exhaustive (inserts draw random levels,
-- so only an exhaustive search has one right answer).
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;

-- (no autovacuum: an ANALYZE's snapshot would keep deleted rows in REINDEX)
CREATE TABLE t (id int PRIMARY KEY, val vector(3)) WITH (autovacuum_enabled = off);
INSERT INTO t SELECT i, ARRAY[i % 10, i / 10 % 10, i / 100] FROM generate_series(0, 499) i;
CREATE INDEX t_idx ON t USING hnsw (val vector_l2_ops);
-- functions rather than views: ALTER COLUMN TYPE below must not meet a view
CREATE FUNCTION top5() RETURNS TABLE (id int, d numeric) LANGUAGE sql STABLE AS $$
	SELECT id, round((val <-> '[2.13,3.27,1.41]')::numeric, 4) FROM t ORDER BY val <-> '[2.13,3.27,1.41]' LIMIT 5 $$;
-- every indexed row, through the index: rows and distinct ids
CREATE FUNCTION indexed() RETURNS TABLE (n bigint, ids bigint) LANGUAGE sql STABLE AS $$
	SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM t ORDER BY val <-> '[0,0,0]') s $$;
EXPLAIN (COSTS OFF) SELECT * FROM top5();
SELECT * FROM top5();
SELECT relfilenode AS node0 FROM pg_class WHERE relname = 't_idx' \gset
SELECT pg_relation_size('t_idx') AS size0 \gset

-- REINDEX INDEX: a new relfilenode, built from the live rows only (the
-- deleted ones are gone without VACUUM), the same size as a fresh build
DELETE FROM t WHERE id % 2 = 0;
REINDEX INDEX t_idx;
SELECT relfilenode <> :node0 AS new_file FROM pg_class WHERE relname = 't_idx';
SELECT * FROM top5();
SELECT * FROM indexed();
SELECT * FROM vx_hnsw_verify('t_idx');
CREATE INDEX t_idx_fresh ON t USING hnsw (val vector_l2_ops);
SELECT pg_relation_size('t_idx') = pg_relation_size('t_idx_fresh') AS same_size,
	pg_relation_size('t_idx') < :size0 AS smaller;
DROP INDEX t_idx_fresh;
INSERT INTO t SELECT i, ARRAY[i % 10, i / 10 % 10, i / 100] FROM generate_series(0, 499, 2) i;
SELECT * FROM top5();
SELECT * FROM indexed();

-- REINDEX INDEX CONCURRENTLY: the index keeps its name, is valid, and no
-- _ccnew/_ccold index is left behind
SELECT relfilenode AS node1 FROM pg_class WHERE relname = 't_idx' \gset
REINDEX INDEX CONCURRENTLY t_idx;
SELECT c.relfilenode <> :node1 AS new_file, i.indisvalid, i.indisready, i.indislive
	FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = 't_idx';
SELECT relname FROM pg_class WHERE relname LIKE 't_idx%' ORDER BY 1;
SELECT * FROM top5();
SELECT * FROM indexed();
SELECT * FROM vx_hnsw_verify('t_idx');

-- REINDEX TABLE rebuilds the hnsw index with the others, also CONCURRENTLY
SELECT relfilenode AS node2 FROM pg_class WHERE relname = 't_idx' \gset
REINDEX TABLE t;
SELECT relfilenode <> :node2 AS new_file FROM pg_class WHERE relname = 't_idx';
SELECT * FROM top5();
SELECT relfilenode AS node3 FROM pg_class WHERE relname = 't_idx' \gset
REINDEX TABLE CONCURRENTLY t;
SELECT c.relfilenode <> :node3 AS new_file, i.indisvalid
	FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = 't_idx';
SELECT * FROM top5();
SELECT * FROM indexed();

-- rolled back: REINDEX and TRUNCATE (new relfilenodes) leave the old index in use
SELECT relfilenode AS node4 FROM pg_class WHERE relname = 't_idx' \gset
BEGIN;
REINDEX INDEX t_idx;
SELECT * FROM top5();
ROLLBACK;
SELECT relfilenode = :node4 AS old_file FROM pg_class WHERE relname = 't_idx';
SELECT * FROM top5();
BEGIN;
TRUNCATE t;
SELECT * FROM top5();
INSERT INTO t VALUES (1000, '[2,3,2]');
SELECT * FROM top5();
ROLLBACK;
SELECT * FROM top5();
SELECT * FROM indexed();
SELECT * FROM vx_hnsw_verify('t_idx');
-- TRUNCATE committed, then inserts
TRUNCATE t;
SELECT * FROM indexed();
INSERT INTO t SELECT i, ARRAY[i % 10, i / 10 % 10, i / 100] FROM generate_series(0, 499) i;
SELECT * FROM top5();
SELECT * FROM indexed();
SELECT * FROM vx_hnsw_verify('t_idx');

-- DROP and CREATE again, also CONCURRENTLY
DROP INDEX t_idx;
EXPLAIN (COSTS OFF) SELECT * FROM top5();
CREATE INDEX t_idx ON t USING hnsw (val vector_l2_ops);
SELECT * FROM top5();
DROP INDEX CONCURRENTLY t_idx;
CREATE INDEX CONCURRENTLY t_idx ON t USING hnsw (val vector_l2_ops);
SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_idx';
SELECT * FROM top5();
SELECT * FROM indexed();
SELECT * FROM vx_hnsw_verify('t_idx');

-- ALTER INDEX SET: stored at once, used by the next build (the metapage keeps
-- the values the index was built with: inserts and vx_hnsw_verify are fine);
-- m = 4 makes smaller records, so a smaller index
SELECT pg_relation_size('t_idx') AS size16 \gset
ALTER INDEX t_idx SET (m = 4, ef_construction = 8);
SELECT reloptions FROM pg_class WHERE relname = 't_idx';
INSERT INTO t VALUES (1000, '[2,3,1.5]');
SELECT * FROM top5();
SELECT * FROM vx_hnsw_verify('t_idx');
REINDEX INDEX t_idx;
SELECT pg_relation_size('t_idx') < :size16 AS smaller;
SELECT * FROM top5();
SELECT * FROM vx_hnsw_verify('t_idx', 1);
DELETE FROM t WHERE id = 1000;
-- bounds are checked at once, ef_construction >= 2 * m at the next build
ALTER INDEX t_idx SET (m = 1);
ALTER INDEX t_idx SET (ef_construction = 1001);
ALTER INDEX t_idx SET (m = 16, ef_construction = 16);
REINDEX INDEX t_idx;
ALTER INDEX t_idx RESET (m, ef_construction);
REINDEX INDEX t_idx;
SELECT reloptions FROM pg_class WHERE relname = 't_idx';
SELECT pg_relation_size('t_idx') = :size16 AS same_size;

-- ALTER COLUMN TYPE: dropping the typmod keeps the index (binary coercible,
-- no rewrite); values of the index's dimensions still go in, but it cannot be
-- rebuilt without dimensions; giving the typmod back rebuilds it
SELECT relfilenode AS node5 FROM pg_class WHERE relname = 't_idx' \gset
ALTER TABLE t ALTER COLUMN val TYPE vector;
SELECT relfilenode = :node5 AS kept FROM pg_class WHERE relname = 't_idx';
INSERT INTO t VALUES (1001, '[2,3,1.5]');
SELECT * FROM top5();
SELECT * FROM vx_hnsw_verify('t_idx');
REINDEX INDEX t_idx;
DELETE FROM t WHERE id = 1001;
ALTER TABLE t ALTER COLUMN val TYPE vector(3);
SELECT relfilenode <> :node5 AS rebuilt FROM pg_class WHERE relname = 't_idx';
SELECT * FROM top5();
-- to another type: the opclass no longer fits
ALTER TABLE t ALTER COLUMN val TYPE halfvec(3);

-- planning: ORDER BY ... LIMIT uses the index, also with a parameter (generic
-- plan) and with the query on the left (<-> is its own commutator); not for
-- descending order, nor for another operator than the opclass's
PREPARE knn(vector) AS SELECT id FROM t ORDER BY val <-> $1 LIMIT 3;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE knn('[2.13,3.27,1.41]');
EXECUTE knn('[2.13,3.27,1.41]');
RESET plan_cache_mode;
DEALLOCATE knn;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[2.13,3.27,1.41]' DESC LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY '[2.13,3.27,1.41]' <-> val LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <#> '[2.13,3.27,1.41]' LIMIT 3;
-- the distance in the select list comes from the index order value
EXPLAIN (COSTS OFF, VERBOSE) SELECT val <-> '[2.13,3.27,1.41]' FROM t ORDER BY val <-> '[2.13,3.27,1.41]' LIMIT 1;

-- partial index: used when the query implies its predicate, holds only its rows
CREATE INDEX t_part ON t USING hnsw (val vector_l2_ops) WHERE id % 2 = 1;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE id % 2 = 1 ORDER BY val <-> '[2.13,3.27,1.41]' LIMIT 5;
SELECT id, round((val <-> '[2.13,3.27,1.41]')::numeric, 4) AS d FROM t WHERE id % 2 = 1
	ORDER BY val <-> '[2.13,3.27,1.41]' LIMIT 5;
SELECT * FROM vx_hnsw_verify('t_part');
DROP INDEX t_part;

-- expression indexes: a binary quantization (pgvector's documented use; its
-- recall on so few distinct values is a TAP test's, 022_hnsw_edge_cases.pl)
-- and a cast to halfvec
CREATE INDEX t_bq ON t USING hnsw ((binary_quantize(val)::bit(3)) bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY binary_quantize(val)::bit(3) <~> binary_quantize('[2.13,3.27,1.41]'::vector) LIMIT 5;
SELECT * FROM vx_hnsw_verify('t_bq', 1);
CREATE INDEX t_half ON t USING hnsw ((val::halfvec(3)) halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val::halfvec(3) <-> '[2.13,3.27,1.41]' LIMIT 3;
SELECT id FROM t ORDER BY val::halfvec(3) <-> '[2.13,3.27,1.41]' LIMIT 3;
SELECT * FROM vx_hnsw_verify('t_half');
DROP INDEX t_bq, t_half;

-- a CREATE INDEX CONCURRENTLY that fails (here: ef_construction < 2 * m,
-- checked by the build) leaves an invalid index: not used, not maintained;
-- REINDEX rebuilds it once the options are fixed
CREATE TABLE sp (id int, val sparsevec(2000));
INSERT INTO sp VALUES (1, '{1:1}/2000'), (2, '{1:1,2:1}/2000');
CREATE INDEX CONCURRENTLY sp_idx ON sp USING hnsw (val sparsevec_l2_ops) WITH (m = 8, ef_construction = 15);
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'sp_idx'::regclass;
EXPLAIN (COSTS OFF) SELECT id FROM sp ORDER BY val <-> '{2:1}/2000' LIMIT 1;
INSERT INTO sp VALUES (3, '{2:1}/2000');
ALTER INDEX sp_idx SET (ef_construction = 16);
REINDEX INDEX sp_idx;
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'sp_idx'::regclass;
EXPLAIN (COSTS OFF) SELECT id FROM sp ORDER BY val <-> '{2:1}/2000' LIMIT 1;
SELECT id FROM sp ORDER BY val <-> '{2:1}/2000';
SELECT * FROM vx_hnsw_verify('sp_idx');
DROP TABLE sp;

-- what PostgreSQL refuses for the access method (pgvector's behaviour)
CREATE UNIQUE INDEX ON t USING hnsw (val vector_l2_ops);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) INCLUDE (id);
CREATE INDEX ON t USING hnsw (val vector_l2_ops DESC);
CREATE INDEX ON t USING hnsw (val vector_l2_ops NULLS FIRST);
CREATE INDEX ON t USING hnsw (val vector_l2_ops, val vector_ip_ops);
ALTER TABLE t ADD CONSTRAINT t_excl EXCLUDE USING hnsw (val vector_l2_ops WITH <->);
CLUSTER t USING t_idx;
-- the operator class must be one of the column's type
CREATE TABLE w (v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
CREATE INDEX ON w USING hnsw (v halfvec_l2_ops);
CREATE INDEX ON w USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ON w USING hnsw (v bit_hamming_ops);
CREATE INDEX ON w USING hnsw (h vector_l2_ops);
CREATE INDEX ON w USING hnsw (h sparsevec_cosine_ops);
CREATE INDEX ON w USING hnsw (s vector_l2_ops);
CREATE INDEX ON w USING hnsw (s halfvec_ip_ops);
CREATE INDEX ON w USING hnsw (b vector_l2_ops);
CREATE INDEX ON w USING hnsw (b bit_hamming_ops) WITH (m = 'many');
-- no default operator class for any type
CREATE INDEX ON w USING hnsw (h);
CREATE INDEX ON w USING hnsw (s);
CREATE INDEX ON w USING hnsw (b);
-- a type hnsw has no operator class for
CREATE TABLE x (f float4[]);
CREATE INDEX ON x USING hnsw (f);
CREATE INDEX ON x USING hnsw (f vector_l2_ops);
DROP TABLE w, x;

DROP FUNCTION top5(), indexed();
DROP TABLE t;
RESET hnsw.ef_search;
