-- diskann with a label column: smallint[] labels matched with && and @>
-- inside the traversal, start points per label, NULLs, rows with more labels
-- than a node holds (rechecked), vacuum, and the errors of the DDL.
SET enable_seqscan = off;
CREATE TABLE lt (id int, v vector(4), labels smallint[]);
INSERT INTO lt SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)], ARRAY[i % 10, 100 + i % 7]::smallint[]
	FROM generate_series(1, 2000) i;
INSERT INTO lt VALUES (2001, '[0.1,0.2,0.3,0.4]', NULL), (2002, '[0.1,0.2,0.3,0.41]', '{}'),
	(2003, '[0.1,0.2,0.3,0.42]', '{3,NULL}');
-- a row with 70 labels: more than a node holds, so the executor rechecks it
INSERT INTO lt SELECT 2004, '[0.1,0.2,0.3,0.43]', array_agg(l::smallint) FROM generate_series(1000, 1069) l;
CREATE INDEX lt_idx ON lt USING diskann (v vector_l2_ops, labels);
SELECT * FROM vx_diskann_verify('lt_idx');
EXPLAIN (COSTS OFF) SELECT id FROM lt WHERE labels && ARRAY[3]::smallint[] ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5;
-- the index's answers against an exact sort (enable_indexscan off), for both operators
CREATE FUNCTION knn(cond text, k int, exact bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
	PERFORM set_config('enable_indexscan', CASE WHEN exact THEN 'off' ELSE 'on' END, true);
	PERFORM set_config('enable_seqscan', CASE WHEN exact THEN 'on' ELSE 'off' END, true);
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM lt WHERE %s ORDER BY v <-> %L LIMIT %s) s',
		cond, '[0.1,0.2,0.3,0.4]', k) INTO r;
	RETURN r;
END $$;
SET diskann.query_rescore = 1000;
SELECT cond, knn(cond, 8, false) = knn(cond, 8, true) AS same, cardinality(knn(cond, 8, false)) AS n FROM (VALUES
	('labels && ''{3}''::smallint[]'), ('labels && ''{3,7}''::smallint[]'), ('labels @> ''{3,103}''::smallint[]'),
	('labels @> ''{}''::smallint[]'), ('labels && ''{}''::smallint[]'), ('labels && ''{1005}''::smallint[]'),
	('labels @> ''{1000,1069}''::smallint[]'), ('labels @> ''{3,NULL}''::smallint[]'),
	('labels && NULL::smallint[]'), ('''{3}''::smallint[] && labels'), ('''{3}''::smallint[] <@ labels'),
	('labels && ''{3}''::smallint[] AND labels && ''{103}''::smallint[]')) c(cond);
-- new labels after the build get start points; a rare label is found whole
INSERT INTO lt SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)], ARRAY[500]::smallint[]
	FROM generate_series(3001, 3020) i;
SELECT cardinality(knn('labels && ''{500}''::smallint[]', 100, false)) AS rare;
-- delete, vacuum (start points of deleted nodes move), reinsert
DELETE FROM lt WHERE id % 2 = 0;
VACUUM lt;
SELECT * FROM vx_diskann_verify('lt_idx');
SELECT cond, knn(cond, 8, false) = knn(cond, 8, true) AS same FROM (VALUES
	('labels && ''{3}''::smallint[]'), ('labels @> ''{5,105}''::smallint[]'), ('labels && ''{500}''::smallint[]')) c(cond);
-- the same index with storage_layout plain (the label table and the vector tier share the metapage)
DROP INDEX lt_idx;
CREATE INDEX lt_idx ON lt USING diskann (v vector_l2_ops, labels) WITH (storage_layout = 'plain');
SELECT * FROM vx_diskann_verify('lt_idx');
INSERT INTO lt SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)], ARRAY[600, i % 5]::smallint[]
	FROM generate_series(4001, 4100) i;
SELECT cond, knn(cond, 8, false) = knn(cond, 8, true) AS same FROM (VALUES
	('labels && ''{3}''::smallint[]'), ('labels @> ''{600,2}''::smallint[]'), ('labels && ''{500}''::smallint[]')) c(cond);
SELECT * FROM vx_diskann_verify('lt_idx');
RESET diskann.query_rescore;
DROP FUNCTION knn;
DROP TABLE lt;
-- DDL errors
CREATE TABLE e (v vector(3), labels smallint[], other smallint[], l2 int[]);
CREATE INDEX ON e USING diskann (labels, v);
CREATE INDEX ON e USING diskann (v, labels, other);
CREATE INDEX ON e USING diskann (v, l2);
CREATE INDEX ON e USING diskann (v, v);
CREATE INDEX e_ok ON e USING diskann (v, labels);
SELECT * FROM vx_diskann_verify('e_ok');
DROP TABLE e;
RESET enable_seqscan;
