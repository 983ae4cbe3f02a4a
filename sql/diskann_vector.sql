-- diskann on vector and halfvec: every opclass, NULLs, zero vectors, inserts
-- after build, TRUNCATE, filters (the scan goes on while the executor asks),
-- vacuum and reuse of freed nodes, unlogged tables, plans, and exact answers
-- on small tables (the search is exhaustive and every candidate re-ranked).
SET enable_seqscan = off;

-- L2
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val vector_l2_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, round((val <-> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <-> '[3,3,3]';
-- a NULL query: every indexed row comes back
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::vector)) t2;
-- the query must have the index's dimensions
SELECT * FROM t ORDER BY val <-> '[1,2]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2;
-- ORDER BY argument known only at run time (InitPlan)
SELECT id FROM t ORDER BY val <-> (SELECT val FROM t WHERE id = 2) LIMIT 2;
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
INSERT INTO t VALUES (6, '[3,3,3]');
SELECT id FROM t ORDER BY val <-> '[3,3,3]';
SELECT * FROM vx_diskann_verify('t_val_idx');
DROP TABLE t;

-- inner product
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val vector_ip_ops);
INSERT INTO t VALUES (5, '[1,2,4]');
SELECT id, val, val <#> '[3,3,3]' AS d FROM t ORDER BY val <#> '[3,3,3]';
DROP TABLE t;

-- cosine is the default opclass: the zero vector is not indexed
CREATE TABLE t (id int, val vector(3));
INSERT INTO t VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL);
CREATE INDEX ON t USING diskann (val);
INSERT INTO t VALUES (5, '[1,2,4]'), (6, '[0,0,0]');
SELECT id, val, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM t ORDER BY val <=> '[3,3,3]';
SELECT t.id, t2.id FROM t CROSS JOIN LATERAL (SELECT id FROM t t2 ORDER BY val <=> t.val LIMIT 1) t2
	WHERE t.val != '[0,0,0]' ORDER BY t.id;
DROP TABLE t;

-- halfvec, all three opclasses
CREATE TABLE h (id int, val halfvec(3));
INSERT INTO h VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL), (5, '[1,2,4]');
CREATE INDEX h_l2 ON h USING diskann (val halfvec_l2_ops);
SELECT id, round((val <-> '[3,3,3]')::numeric, 3) AS d FROM h ORDER BY val <-> '[3,3,3]';
DROP INDEX h_l2;
CREATE INDEX h_ip ON h USING diskann (val halfvec_ip_ops);
SELECT id, val <#> '[3,3,3]' AS d FROM h ORDER BY val <#> '[3,3,3]';
DROP INDEX h_ip;
CREATE INDEX h_cos ON h USING diskann (val);
SELECT id, round((val <=> '[3,3,3]')::numeric, 4) AS d FROM h ORDER BY val <=> '[3,3,3]';
DROP TABLE h;

-- a few hundred rows: the index order equals the exact order of a sort without index
CREATE TABLE big (id int, val vector(4));
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(1, 600) i;
CREATE INDEX big_idx ON big USING diskann (val vector_l2_ops) WITH (num_neighbors = 16, search_list_size = 32);
SET diskann.query_search_list_size = 600;
SET diskann.query_rescore = 600;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 20) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY (val <-> '[0.1,0.2,0.3,0.4]') + 0 LIMIT 20) s) AS same;
-- a filter rejecting most rows: the scan goes on until the LIMIT is filled
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
SELECT COUNT(*) FROM (SELECT id FROM big WHERE id % 50 = 0 ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 10) s;
-- delete, vacuum, reinsert: freed nodes are reused, the index stays valid
DELETE FROM big WHERE id % 3 = 0;
VACUUM big;
SELECT * FROM vx_diskann_verify('big_idx');
SELECT COUNT(*) FROM (SELECT id FROM big ORDER BY val <-> '[0.1,0.2,0.3,0.4]') s;
SELECT pg_relation_size('big_idx') AS size_before \gset
INSERT INTO big SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)] FROM generate_series(1, 600) i WHERE i % 3 = 0;
SELECT pg_relation_size('big_idx') = :size_before AS same_size;
SELECT * FROM vx_diskann_verify('big_idx');
SET diskann.query_search_list_size = 600;
SET diskann.query_rescore = 600;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY val <-> '[0.5,0.2,-0.3,0.4]' LIMIT 20) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM big ORDER BY (val <-> '[0.5,0.2,-0.3,0.4]') + 0 LIMIT 20) s) AS same;
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
DROP TABLE big;

-- unlogged table
CREATE UNLOGGED TABLE u (id int, val vector(3));
INSERT INTO u VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
CREATE INDEX ON u USING diskann (val vector_l2_ops);
SELECT id FROM u ORDER BY val <-> '[1,2,3]';
DROP TABLE u;

-- an expression index: re-ranking recomputes the expression from the row
CREATE TABLE e (id int, val vector(4));
INSERT INTO e VALUES (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, '[1,1,0,0]');
CREATE INDEX ON e USING diskann ((subvector(val, 1, 2)::vector(2)) vector_l2_ops);
SELECT id FROM e ORDER BY subvector(val, 1, 2)::vector(2) <-> '[1,0.9]';
-- plain: the index stores the expression's value, the re-rank reads it there
DROP INDEX e_subvector_idx;
CREATE INDEX ON e USING diskann ((subvector(val, 1, 2)::vector(2)) vector_l2_ops) WITH (storage_layout = 'plain');
SELECT id FROM e ORDER BY subvector(val, 1, 2)::vector(2) <-> '[1,0.9]';
DROP TABLE e;

-- storage_layout plain: the index keeps every vector (as the column stores it) on vector pages after each node
-- page, and the re-rank reads them there instead of the heap: the same exact order as a sort without index
CREATE TABLE p (id int, val vector(4), hv halfvec(4));
INSERT INTO p SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)],
	ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)]::halfvec FROM generate_series(1, 300) i;
INSERT INTO p VALUES (0, '[0,0,0,0]', '[0,0,0,0]'), (-1, NULL, NULL);
CREATE INDEX p_l2 ON p USING diskann (val vector_l2_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
CREATE INDEX p_ip ON p USING diskann (val vector_ip_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
CREATE INDEX p_cos ON p USING diskann (val vector_cosine_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
CREATE INDEX p_hl2 ON p USING diskann (hv halfvec_l2_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
CREATE INDEX p_hip ON p USING diskann (hv halfvec_ip_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
CREATE INDEX p_hcos ON p USING diskann (hv halfvec_cosine_ops) WITH (storage_layout = 'plain', num_neighbors = 16);
-- the 20 nearest by the index equal the 20 nearest of an exact sort, for each operator and column
CREATE FUNCTION plain_same(q text) RETURNS TABLE (col text, op text, same bool) LANGUAGE plpgsql AS $$
DECLARE
	a int[];
	b int[];
BEGIN
	FOREACH col IN ARRAY ARRAY['val', 'hv'] LOOP
		FOREACH op IN ARRAY ARRAY['<->', '<#>', '<=>'] LOOP
			EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM p ORDER BY %s %s %L LIMIT 20) s', col, op, q)
				INTO a;
			EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM p ORDER BY (%s %s %L) + 0, id LIMIT 20) s',
				col, op, q) INTO b;
			same := a = b;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;
SET diskann.query_search_list_size = 1000;
SET diskann.query_rescore = 1000;
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY hv <=> '[0.1,0.2,0.3,0.4]' LIMIT 5;
SELECT * FROM plain_same('[0.1,0.2,0.3,0.4]');
-- the distances come out exact, nearest first
SELECT id, round((val <-> '[0.1,0.2,0.3,0.4]')::numeric, 6) AS d FROM p ORDER BY val <-> '[0.1,0.2,0.3,0.4]' LIMIT 3;
SELECT id, round((hv <=> '[0.1,0.2,0.3,0.4]')::numeric, 6) AS d FROM p ORDER BY hv <=> '[0.1,0.2,0.3,0.4]' LIMIT 3;
-- inserts after the build (new node pages extend their vector pages)
INSERT INTO p SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)],
	ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 1.3)]::halfvec FROM generate_series(301, 500) i;
SELECT * FROM plain_same('[0.5,-0.2,0.3,0.1]');
SELECT * FROM vx_diskann_verify('p_l2');
SELECT * FROM vx_diskann_verify('p_hcos');
-- delete, vacuum, reinsert: freed ids are reused and their vectors overwritten
DELETE FROM p WHERE id % 3 = 0;
VACUUM p;
SELECT pg_relation_size('p_l2') AS size_before \gset
INSERT INTO p SELECT -i, ARRAY[cos(i), sin(i), cos(i * 0.37), sin(i * 1.3)],
	ARRAY[cos(i), sin(i), cos(i * 0.37), sin(i * 1.3)]::halfvec FROM generate_series(1, 500) i WHERE i % 3 = 0;
SELECT pg_relation_size('p_l2') = :size_before AS same_size;
SELECT * FROM plain_same('[-0.3,0.2,0.6,0.1]');
SELECT * FROM vx_diskann_verify('p_l2');
SELECT * FROM vx_diskann_verify('p_ip');
SELECT * FROM vx_diskann_verify('p_cos');
SELECT * FROM vx_diskann_verify('p_hl2');
SELECT * FROM vx_diskann_verify('p_hip');
SELECT * FROM vx_diskann_verify('p_hcos');
-- the re-rank from the index gives what the re-rank from the heap gives (a memory_optimized index)
SELECT array_agg(id) AS plain FROM (SELECT id FROM p ORDER BY val <=> '[1,2,3,4]' LIMIT 10) s \gset
DROP INDEX p_cos;
CREATE INDEX p_mo ON p USING diskann (val vector_cosine_ops) WITH (num_neighbors = 16);
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY val <=> '[1,2,3,4]' LIMIT 10;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM p ORDER BY val <=> '[1,2,3,4]' LIMIT 10) s) = :'plain' AS same;
-- TRUNCATE empties the vector tier too
TRUNCATE p;
SELECT id FROM p ORDER BY val <-> '[1,1,1,1]';
INSERT INTO p VALUES (1, '[1,1,1,1]', '[1,1,1,1]'), (2, '[2,2,2,2]', '[2,2,2,2]');
SELECT id, val <-> '[2,2,2,1]' AS d FROM p ORDER BY val <-> '[2,2,2,1]';
SELECT id, hv <#> '[2,2,2,1]' AS d FROM p ORDER BY hv <#> '[2,2,2,1]';
SELECT * FROM vx_diskann_verify('p_l2');
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
DROP FUNCTION plain_same;
DROP TABLE p;

-- plain on an unlogged table (the init fork is an empty plain index)
CREATE UNLOGGED TABLE u (id int, val vector(3));
INSERT INTO u VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
CREATE INDEX ON u USING diskann (val vector_l2_ops) WITH (storage_layout = 'plain');
SELECT id FROM u ORDER BY val <-> '[3,2,1]';
DROP TABLE u;

-- plain: rows deleted and not yet vacuumed (dead to every transaction) do not use up the re-rank window
-- (the executor reports them, kill_prior_tuple): a query whose whole neighbourhood was deleted still gets
-- the next rows in exact order. 217 rows near the queries, deleted; 300 far rows stay.
CREATE TABLE dz (id int, v vector(64));
INSERT INTO dz SELECT i, ARRAY(SELECT 10 + 0.1 * sin(i * 7.1 + j * 1.3) FROM generate_series(1, 64) j)
	FROM generate_series(1, 217) i;
INSERT INTO dz SELECT i, ARRAY(SELECT sin(i * 3.7 + j * 0.9) FROM generate_series(1, 64) j)
	FROM generate_series(1001, 1300) i;
CREATE INDEX dz_idx ON dz USING diskann (v vector_l2_ops) WITH (storage_layout = 'plain', num_bits_per_dimension = 1);
DELETE FROM dz WHERE id <= 217;
SET diskann.query_search_list_size = 600;
SET diskann.query_rescore = 20;
SELECT count(*) FILTER (WHERE NOT ok) AS out_of_order, count(*) AS queries FROM (
	SELECT (SELECT count(*) = 5 AND bool_and(d >= prev) FROM (
		SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev FROM (
			SELECT v <-> qv AS d, row_number() OVER () AS n FROM (SELECT v FROM dz ORDER BY v <-> qv LIMIT 5) x) y) z) AS ok
	FROM (SELECT ARRAY(SELECT 10 + 0.1 * sin(q * 5.3 + j) FROM generate_series(1, 64) j)::vector(64) AS qv
		FROM generate_series(1, 20) q) qq) t;
EXPLAIN (COSTS OFF) SELECT id FROM dz ORDER BY v <-> (SELECT v FROM dz LIMIT 1) LIMIT 5;
RESET diskann.query_search_list_size;
RESET diskann.query_rescore;
DROP TABLE dz;
RESET enable_seqscan;
