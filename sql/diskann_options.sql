-- diskann options, settings, errors.
CREATE TABLE t (id int, val vector(3));
CREATE INDEX ON t USING diskann (val) WITH (num_neighbors = 9);
CREATE INDEX ON t USING diskann (val) WITH (num_neighbors = 1001);
CREATE INDEX ON t USING diskann (val) WITH (search_list_size = 9);
CREATE INDEX ON t USING diskann (val) WITH (search_list_size = 1001);
CREATE INDEX ON t USING diskann (val) WITH (max_alpha = 0.9);
CREATE INDEX ON t USING diskann (val) WITH (max_alpha = 5.1);
CREATE INDEX ON t USING diskann (val) WITH (storage_layout = 'compressed');
CREATE INDEX t_plain ON t USING diskann (val) WITH (storage_layout = 'plain');
DROP INDEX t_plain;
CREATE INDEX ON t USING diskann (val) WITH (num_dimensions = 4);
CREATE INDEX ON t USING diskann (val) WITH (num_dimensions = -1);
CREATE INDEX ON t USING diskann (val) WITH (num_bits_per_dimension = 9);
CREATE INDEX ON t USING diskann (val) WITH (m = 16);
CREATE INDEX t_idx ON t USING diskann (val) WITH (num_neighbors = 10, search_list_size = 10, max_alpha = 1.0,
	storage_layout = 'memory_optimized', num_dimensions = 2, num_bits_per_dimension = 8);
SELECT reloptions FROM pg_class WHERE relname = 't_idx';
INSERT INTO t SELECT i, ARRAY[sin(i), cos(i * 0.7), sin(i * 1.3)] FROM generate_series(1, 300) i;
SET enable_seqscan = off;
SET diskann.query_search_list_size = 300;
SET diskann.query_rescore = 300;
-- num_dimensions = 2: the graph knows the first two dimensions only, the re-rank uses all three
SELECT (SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY val <=> '[0.5,-0.5,0.2]' LIMIT 5) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY (val <=> '[0.5,-0.5,0.2]') + 0 LIMIT 5) s) AS same;
SELECT * FROM vx_diskann_verify('t_idx');
-- the same with plain: the stored vectors have all three dimensions
DROP INDEX t_idx;
CREATE INDEX t_idx ON t USING diskann (val) WITH (storage_layout = 'plain', num_dimensions = 2, num_bits_per_dimension = 8);
SELECT (SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY val <=> '[0.5,-0.5,0.2]' LIMIT 5) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY (val <=> '[0.5,-0.5,0.2]') + 0 LIMIT 5) s) AS same;
SELECT * FROM vx_diskann_verify('t_idx');
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
RESET enable_seqscan;
DROP TABLE t;

-- types and dimensions
CREATE TABLE t (val vector);
CREATE INDEX ON t USING diskann (val);
DROP TABLE t;
CREATE TABLE t (val vector(16001));
CREATE TABLE t (val halfvec(16001));
CREATE TABLE t (val sparsevec(3));
CREATE INDEX ON t USING diskann (val);
CREATE INDEX ON t USING diskann (val sparsevec_l2_ops);
DROP TABLE t;
CREATE TABLE t (val vector(3));
CREATE INDEX ON t USING diskann (val vector_l1_ops);
CREATE INDEX ON t USING diskann (val, val);
DROP TABLE t;
-- 16,000 dimensions at 1 bit: fits; at 8 bits the node does not fit a page
CREATE TABLE t (val vector(16000));
CREATE INDEX ON t USING diskann (val) WITH (num_bits_per_dimension = 8);
CREATE INDEX t_big ON t USING diskann (val);
INSERT INTO t SELECT array_fill(i::real, ARRAY[16000]) FROM generate_series(1, 3) i;
SELECT round((val <=> array_fill(1::real, ARRAY[16000])::vector)::numeric, 2) FROM t
	ORDER BY val <=> array_fill(1::real, ARRAY[16000])::vector LIMIT 1;
SELECT * FROM vx_diskann_verify('t_big');
-- plain at 16,000 dimensions: a vector spans 8 vector pages (halfvec: 4); built on 3 rows, 2 inserted
CREATE INDEX t_big_plain ON t USING diskann (val vector_l2_ops) WITH (storage_layout = 'plain');
INSERT INTO t SELECT array_fill(i::real, ARRAY[16000]) FROM generate_series(4, 5) i;
SET enable_seqscan = off;
SELECT round((val <-> array_fill(4.2::real, ARRAY[16000])::vector)::numeric, 2) FROM t
	ORDER BY val <-> array_fill(4.2::real, ARRAY[16000])::vector LIMIT 2;
SELECT * FROM vx_diskann_verify('t_big_plain');
CREATE TABLE th (val halfvec(16000));
INSERT INTO th SELECT val::halfvec FROM t WHERE val <-> array_fill(4::real, ARRAY[16000])::vector > 1;
CREATE INDEX th_plain ON th USING diskann (val halfvec_l2_ops) WITH (storage_layout = 'plain');
INSERT INTO th SELECT val::halfvec FROM t WHERE val <-> array_fill(4::real, ARRAY[16000])::vector < 1;
SELECT round((val <-> array_fill(4.2::real, ARRAY[16000])::halfvec)::numeric, 2) FROM th
	ORDER BY val <-> array_fill(4.2::real, ARRAY[16000])::halfvec LIMIT 2;
SELECT * FROM vx_diskann_verify('th_plain');
RESET enable_seqscan;
DROP TABLE th;
DROP TABLE t;

-- settings
SHOW diskann.query_search_list_size;
SET diskann.query_search_list_size = 0;
SET diskann.query_search_list_size = 10001;
SHOW diskann.query_rescore;
SET diskann.query_rescore = -1;
SET diskann.query_rescore = 0;
RESET diskann.query_rescore;
SET diskann.unknown_setting = 1;

-- verify: not a diskann index, bad tolerance
CREATE TABLE t (val vector(3));
CREATE INDEX t_hnsw ON t USING hnsw (val vector_l2_ops);
CREATE INDEX t_disk ON t USING diskann (val);
SELECT * FROM vx_diskann_verify('t_hnsw');
SELECT * FROM vx_diskann_verify('t_disk', 2);
SELECT * FROM vx_diskann_verify('t_disk');
DROP TABLE t;
