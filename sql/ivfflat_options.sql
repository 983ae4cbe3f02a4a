-- ivfflat options, settings, operator classes, errors, progress phases and
-- iterative scans.

-- reloptions: pgvector's bounds and messages
CREATE TABLE t (id int, val vector(3));
CREATE INDEX ON t USING ivfflat (val vector_l2_ops) WITH (lists = 0);
CREATE INDEX ON t USING ivfflat (val vector_l2_ops) WITH (lists = 32769);
CREATE INDEX ON t USING ivfflat (val vector_l2_ops) WITH (m = 16);
CREATE INDEX t_idx ON t USING ivfflat (val vector_l2_ops) WITH (lists = 32768);
SELECT reloptions FROM pg_class WHERE relname = 't_idx';
DROP INDEX t_idx;
CREATE INDEX t_idx ON t USING ivfflat (val) WITH (lists = 1);
SELECT opcname FROM pg_opclass WHERE oid = (SELECT indclass[0] FROM pg_index WHERE indexrelid = 't_idx'::regclass);
DROP TABLE t;

-- settings: defaults, ranges, values
SHOW ivfflat.probes;
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SET ivfflat.probes = 32768;
RESET ivfflat.probes;
SHOW ivfflat.iterative_scan;
SET ivfflat.iterative_scan = on;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.iterative_scan = relaxed_order;
RESET ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
SET ivfflat.max_probes = 0;
SET ivfflat.max_probes = 32769;
SET ivfflat.unknown_setting = 1;
SELECT name, setting, min_val, max_val, enumvals, short_desc, extra_desc FROM pg_settings
	WHERE name LIKE 'ivfflat.%' ORDER BY name;

-- operator classes: names, strategy and support numbers, the default
SELECT opc.opcname, t.typname, opc.opcdefault,
	(SELECT string_agg(amopstrategy || ':' || amopopr::regoperator || ':' || amoppurpose::text, ', ')
		FROM pg_amop WHERE amopfamily = opc.opcfamily) AS operators,
	(SELECT string_agg(amprocnum || ':' || amproc::regprocedure, ', ' ORDER BY amprocnum)
		FROM pg_amproc WHERE amprocfamily = opc.opcfamily) AS support
	FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod JOIN pg_type t ON t.oid = opc.opcintype
	WHERE am.amname = 'ivfflat' ORDER BY opc.opcname, t.typname;
SELECT amname, amtype, obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'ivfflat';

-- build errors
CREATE TABLE t (val vector);
CREATE INDEX ON t USING ivfflat (val);
DROP TABLE t;
CREATE TABLE t (val vector(2001));
CREATE INDEX ON t USING ivfflat (val);
DROP TABLE t;
CREATE TABLE t (val vector(1));
CREATE INDEX ON t USING ivfflat (val vector_ip_ops);
CREATE INDEX ON t USING ivfflat (val vector_cosine_ops);
CREATE INDEX ON t USING ivfflat (val vector_l2_ops) WITH (lists = 1);
DROP TABLE t;
CREATE TABLE t (id int, val vector(3));
CREATE INDEX ON t USING ivfflat (id);
CREATE INDEX ON t USING ivfflat (id, val);
CREATE INDEX ON t USING ivfflat (val vector_l1_ops);
DROP TABLE t;

-- k-means memory must fit maintenance_work_mem (pgvector's message)
CREATE TABLE t (val vector(2000));
INSERT INTO t VALUES (array_fill(1, ARRAY[2000]));
SET maintenance_work_mem = '1MB';
CREATE INDEX ON t USING ivfflat (val) WITH (lists = 1000);
RESET maintenance_work_mem;
DROP TABLE t;

-- fewer rows than lists: pgvector's notice
CREATE TABLE t (val vector(3));
INSERT INTO t VALUES ('[1,2,3]'), ('[4,5,6]');
CREATE INDEX ON t USING ivfflat (val) WITH (lists = 3);
CREATE INDEX ON t USING ivfflat (val) WITH (lists = 2);
DROP TABLE t;

-- wrong dimensions
CREATE TABLE t (val vector(3));
CREATE INDEX ON t USING ivfflat (val) WITH (lists = 1);
INSERT INTO t VALUES ('[1,2]');
SET enable_seqscan = off;
SELECT * FROM t ORDER BY val <-> '[1,2]';
RESET enable_seqscan;
DROP TABLE t;

-- the index is used only for ORDER BY ... LIMIT; costs grow with probes
CREATE TABLE t (id int, val vector(3));
INSERT INTO t SELECT i, ARRAY[i % 17, i % 31, i % 7] FROM generate_series(1, 10000) i;
CREATE INDEX t_idx ON t USING ivfflat (val) WITH (lists = 100);
ANALYZE t;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE val <-> '[1,2,3]' < 1;
SET ivfflat.probes = 100;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[1,2,3]' LIMIT 5;
RESET ivfflat.probes;

-- iterative scans: a filter that one probe cannot satisfy
SET enable_seqscan = off;
SELECT count(*) < 50 AS short FROM (SELECT id FROM t WHERE id % 100 = 0 ORDER BY val <-> '[1,2,3]' LIMIT 50) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM t WHERE id % 100 = 0 ORDER BY val <-> '[1,2,3]' LIMIT 50) s;
SET ivfflat.max_probes = 2;
SELECT count(*) <= 2 * 400 AS bounded FROM (SELECT id FROM t ORDER BY val <-> '[1,2,3]') s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;
RESET enable_seqscan;

-- progress phase names
SELECT amname, pg_indexam_progress_phasename(oid, 1), pg_indexam_progress_phasename(oid, 2),
	pg_indexam_progress_phasename(oid, 3), pg_indexam_progress_phasename(oid, 4),
	pg_indexam_progress_phasename(oid, 5) IS NULL FROM pg_am WHERE amname = 'ivfflat';

-- verify: not an ivfflat index, healthy index
CREATE INDEX t_btree ON t (id);
SELECT * FROM vx_ivfflat_verify('t_btree');
SELECT * FROM vx_ivfflat_verify('t_idx');
DROP TABLE t;

-- unlogged tables
CREATE UNLOGGED TABLE u (id int, val vector(3));
INSERT INTO u SELECT i, ARRAY[i, i % 5, i % 3] FROM generate_series(1, 100) i;
CREATE INDEX u_idx ON u USING ivfflat (val) WITH (lists = 5);
SET enable_seqscan = off;
SET ivfflat.probes = 5;
SELECT id FROM u ORDER BY val <-> '[50,1,1]' LIMIT 3;
SELECT * FROM vx_ivfflat_verify('u_idx');
DROP TABLE u;
