-- hnsw options, settings, operator classes and planning.

-- reloptions: pgvector's bounds and messages
CREATE TABLE t (id int, val vector(3));
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (m = 1);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (m = 101);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON t USING hnsw (val vector_l2_ops) WITH (lists = 10);
CREATE INDEX t_idx ON t USING hnsw (val vector_l2_ops) WITH (m = 16, ef_construction = 32);
SELECT reloptions FROM pg_class WHERE relname = 't_idx';
CREATE INDEX t_idx2 ON t USING hnsw (val vector_l2_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX t_idx3 ON t USING hnsw (val vector_l2_ops) WITH (m = 100, ef_construction = 1000);
INSERT INTO t SELECT i, ARRAY[i, i % 7, i % 11] FROM generate_series(1, 300) i;
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
SELECT id FROM t ORDER BY val <-> '[150,3,5]' LIMIT 3;
DROP INDEX t_idx, t_idx3;
SELECT id FROM t ORDER BY val <-> '[150,3,5]' LIMIT 3;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP TABLE t;

-- settings: defaults, ranges, values
SHOW hnsw.ef_search;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 10001;
SET hnsw.ef_search = 10000;
RESET hnsw.ef_search;
SHOW hnsw.iterative_scan;
SET hnsw.iterative_scan = on;
SET hnsw.iterative_scan = strict_order;
RESET hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SET hnsw.max_scan_tuples = 0;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.scan_mem_multiplier = 0;
SET hnsw.scan_mem_multiplier = 1001;
SET hnsw.unknown_setting = 1;
SELECT name, setting, min_val, max_val, enumvals, short_desc FROM pg_settings WHERE name LIKE 'hnsw.%' ORDER BY name;

-- operator classes: names, strategy and support numbers, no default
SELECT opc.opcname, t.typname, opc.opcdefault,
	(SELECT string_agg(amopstrategy || ':' || amopopr::regoperator || ':' || amoppurpose::text, ', ')
		FROM pg_amop WHERE amopfamily = opc.opcfamily) AS operators,
	(SELECT string_agg(amprocnum || ':' || amproc::regproc, ', ' ORDER BY amprocnum)
		FROM pg_amproc WHERE amprocfamily = opc.opcfamily) AS support
	FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod JOIN pg_type t ON t.oid = opc.opcintype
	WHERE am.amname = 'hnsw' ORDER BY opc.opcname;
SELECT opcname FROM pg_opclass WHERE NOT amvalidate(oid);
SELECT amname, amtype, amhandler FROM pg_am WHERE amname = 'hnsw';
SELECT obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'hnsw';
-- index properties: ordered by operator only, no backward scans, no unique
SELECT p.name, pg_indexam_has_property(a.oid, p.name)
	FROM pg_am a, unnest(ARRAY['can_order', 'can_unique', 'can_multi_col', 'can_include']) p(name)
	WHERE a.amname = 'hnsw';

-- planning: the index serves ORDER BY ... LIMIT, a selective B-tree wins with a
-- filter, and nothing without ORDER BY
CREATE TABLE p (id int PRIMARY KEY, cat int, val vector(3));
INSERT INTO p SELECT i, i % 100, ARRAY[sin(i), cos(i), sin(i * 0.37)] FROM generate_series(1, 5000) i;
CREATE INDEX ON p USING hnsw (val vector_l2_ops);
ANALYZE p;
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <-> '[1,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE id = 7 ORDER BY val <-> '[1,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <-> '[1,0,0]';
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE val <-> '[1,0,0]' < 0.1;
EXPLAIN (COSTS OFF) SELECT count(*) FROM p;
-- a different operator than the opclass's cannot use the index
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <=> '[1,0,0]' LIMIT 5;
-- a LIMIT above ef_search without a filter still uses the index (pgvector's behaviour)
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <-> '[1,0,0]' LIMIT 100;
-- a selective filter: the index would return too few rows, so a B-tree and a sort
-- answer; a broad filter keeps the index
CREATE INDEX ON p (cat);
ANALYZE p;
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE cat = 7 ORDER BY val <-> '[1,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE cat < 95 ORDER BY val <-> '[1,0,0]' LIMIT 5;
-- with iterative scans the index widens its search: a 1% filter still prefers
-- the B-tree, a 60% one the index
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE cat = 7 ORDER BY val <-> '[1,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM p WHERE cat < 60 ORDER BY val <-> '[1,0,0]' LIMIT 5;
SELECT COUNT(*) FROM (SELECT id FROM p WHERE cat < 60 ORDER BY val <-> '[1,0,0]' LIMIT 5) s;
RESET hnsw.iterative_scan;
DROP TABLE p;
