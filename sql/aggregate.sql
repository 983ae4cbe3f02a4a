-- avg() and sum() over vector and halfvec

CREATE TABLE agg_v (g int, v vector);
INSERT INTO agg_v VALUES (1, '[1,2,3]'), (1, '[4,5,6]'), (1, NULL), (2, '[1,1,1]'), (2, '[2,2,2]'), (2, '[2,2,2]'), (3, NULL);

SELECT avg(v), sum(v) FROM agg_v;
SELECT g, avg(v), sum(v), count(v) FROM agg_v GROUP BY g ORDER BY g;
-- no rows, or only NULLs: NULL
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg_v WHERE false;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg_v WHERE g = 3;
-- avg divides double sums and rounds to float4: 5/3
SELECT avg(v) FROM (VALUES ('[1]'::vector), ('[2]'), ('[2]')) t(v);
-- sums are kept in double precision: no overflow for avg, overflow for sum
SELECT avg(v) FROM (VALUES ('[3e38,-3e38]'::vector), ('[3e38,-3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- different dimensions
SELECT avg(v) FROM (VALUES ('[1,2,3]'::vector), ('[1,2]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[1,2]')) t(v);
-- 16000 dimensions
SELECT vector_dims(avg(v)), avg(v) = array_fill(1.5, ARRAY[16000])::vector AS ok
FROM (VALUES (array_fill(1, ARRAY[16000])::vector), (array_fill(2, ARRAY[16000])::vector)) t(v);
-- as a window function
SELECT g, v, avg(v) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
FROM agg_v WHERE v IS NOT NULL ORDER BY v;

-- halfvec
CREATE TABLE agg_h (g int, v halfvec);
INSERT INTO agg_h VALUES (1, '[1,2,3]'), (1, '[4,5,6]'), (1, NULL), (2, '[1,1,1]'), (2, '[2,2,2]'), (2, '[2,2,2]');
SELECT avg(v), sum(v) FROM agg_h;
SELECT g, avg(v), sum(v) FROM agg_h GROUP BY g ORDER BY g;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg_h WHERE false;
-- the average is rounded to half: 5/3
SELECT avg(v) FROM (VALUES ('[1]'::halfvec), ('[2]'), ('[2]')) t(v);
SELECT avg(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT avg(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[1,2]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[1,2]')) t(v);

-- the transition, combine and final functions called directly
-- (state: {count, sum_1, ..., sum_dim}; the initial state is {0})
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,2}', '[3,4]'), halfvec_accum('{0}', '[1.1]');
SELECT vector_accum('{1,1,2}', '[3]');
SELECT halfvec_accum('{1,1,2}', '[3,4,5]');
SELECT vector_accum('{1,1e308}', '[3e38]');
SELECT vector_combine('{0}', '{2,4,6}'), vector_combine('{2,4,6}', '{0}'), vector_combine('{1,1,2}', '{2,4,6}'),
	vector_combine('{0}', '{0}'), halfvec_combine('{1,1,2}', '{2,4,6}');
SELECT vector_combine('{1,1,2}', '{1,1}');
SELECT vector_combine('{1,1e308}', '{1,1e308}');
SELECT vector_avg('{2,4,6}'), vector_avg('{0}') IS NULL AS empty, halfvec_avg('{3,5,4}'), halfvec_avg('{0}') IS NULL AS empty;
SELECT halfvec_avg('{1,70000}');
-- direct calls leave their arguments alone
SELECT s, vector_accum(s, '[1,1]'), vector_combine(s, s), s FROM (VALUES ('{1,1,2}'::float8[])) t(s);
-- malformed states are internal errors
SELECT vector_avg('{}');
SELECT vector_accum('{{1,2}}', '[1]');
SELECT vector_combine('{1,NULL}', '{0}');
SELECT halfvec_avg('{}');
SELECT halfvec_accum('{}', '[1]');

-- parallel aggregation: partial states combined by vector_combine / vector_add.
-- All partial sums are exact (small integers), so the result cannot depend on
-- how rows are split between processes and must equal the serial result.
CREATE TABLE agg_par (v vector(3), h halfvec(3)) WITH (parallel_workers = 2);
INSERT INTO agg_par SELECT ARRAY[i % 10, i % 7 - 3, 1],
	ARRAY[(i % 100 = 0)::int, (i % 250 = 0)::int * 2, -(i % 500 = 0)::int] FROM generate_series(1, 30000) i;
INSERT INTO agg_par VALUES (NULL, NULL);
ANALYZE agg_par;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE agg_serial AS SELECT avg(v) AS av, sum(v) AS sv, avg(h) AS ah, sum(h) AS sh FROM agg_par;
SELECT * FROM agg_serial;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT avg(v), sum(v), avg(h), sum(h) FROM agg_par;
SELECT avg(v) = av AS avg_v, sum(v) = sv AS sum_v, avg(h) = ah AS avg_h, sum(h) = sh AS sum_h
FROM agg_par, agg_serial GROUP BY av, sv, ah, sh;
-- mixed dimensions fail in a worker or in the combine step; report only the SQLSTATE
CREATE TABLE agg_mixed (v vector) WITH (parallel_workers = 2);
INSERT INTO agg_mixed SELECT CASE WHEN i % 2 = 0 THEN '[1,2]'::vector ELSE '[1,2,3]'::vector END FROM generate_series(1, 20000) i;
CREATE FUNCTION agg_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE;
END
$$;
SELECT agg_error('SELECT avg(v) FROM agg_mixed'), agg_error('SELECT sum(v) FROM agg_mixed');
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

DROP FUNCTION agg_error(text);
DROP TABLE agg_v, agg_h, agg_par, agg_serial, agg_mixed;

-- the support functions called from SQL with hand-made states: an empty or
-- malformed state, or one with more than 16000 sums, is an error
CREATE FUNCTION agg_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE q INTO result;
	RETURN result;
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT agg_try($q$SELECT (vector_combine('{0}', '{}'))::text$q$);
SELECT agg_try($q$SELECT (vector_combine('{0}', '{0}'))::text$q$);
SELECT agg_try($q$SELECT (vector_combine('{1,2}', '{0}'))::text$q$);
SELECT agg_try($q$SELECT (vector_combine('{0}', '{2,4,6}'))::text$q$);
SELECT agg_try($q$SELECT (vector_combine('{1,2}', '{2,4,6}'))::text$q$);
SELECT agg_try($q$SELECT (vector_combine('{0}', array_fill(1::float8, ARRAY[16002])))::text$q$);
SELECT agg_try($q$SELECT (vector_combine(array_fill(1::float8, ARRAY[16002]), '{0}'))::text$q$);
SELECT agg_try($q$SELECT (halfvec_combine('{0}', array_fill(1::float8, ARRAY[16002])))::text$q$);
SELECT agg_try($q$SELECT (vector_avg('{5}'))::text$q$);
SELECT agg_try($q$SELECT (vector_avg('{0}'))::text$q$);
SELECT agg_try($q$SELECT (vector_avg('{}'))::text$q$);
SELECT agg_try($q$SELECT (vector_avg(array_fill(1::float8, ARRAY[16002])))::text$q$);
SELECT vector_avg(array_fill(1::float8, ARRAY[16001]))::text = array_fill(1::real, ARRAY[16000])::vector::text;
SELECT agg_try($q$SELECT (halfvec_avg(array_fill(1::float8, ARRAY[16002])))::text$q$);
SELECT agg_try($q$SELECT (halfvec_avg('{3}'))::text$q$);
SELECT agg_try($q$SELECT (vector_accum('{}', '[1,2]'))::text$q$);
SELECT agg_try($q$SELECT (vector_accum('{0}', '[1,2]'))::text$q$);
SELECT agg_try($q$SELECT (vector_accum('{1,2,3,4}', '[1,2]'))::text$q$);
SELECT agg_try($q$SELECT (halfvec_accum('{1,2}', '[1,2]'))::text$q$);

DROP FUNCTION agg_try(text);
