-- halfvec: text and binary I/O, typmod, functions and operators

-- input rounds each number (read as float4) to the nearest half, ties to
-- even; output prints the half's value in float4's shortest exact form
SELECT '[1,2,3]'::halfvec, '[-1.5,+0.25,-0]'::halfvec;
SELECT '[0.1,1.1,3.14159265]'::halfvec;
SELECT '[2049,2051,2050,1.00048828125,1.00146484375]'::halfvec;
SELECT '[65504,65519,-65519]'::halfvec;
SELECT '[6.1035156e-05,6e-08,3e-08,2.9e-08,1e-05]'::halfvec;
SELECT '[1e-40,-1e-50]'::halfvec;
SELECT ' [ 1 ,2 ] '::halfvec, E'\t[\n1\r,\f2\013]\n'::halfvec;

-- beyond half's range: quoted as written
SELECT '[65520]'::halfvec;
SELECT '[1,-65520]'::halfvec;
SELECT '[1e5]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[70000,nan]'::halfvec;
SELECT '[nan,70000]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[inf]'::halfvec;
SELECT '[1,-Infinity]'::halfvec;

-- malformed literals
SELECT ''::halfvec;
SELECT '1,2'::halfvec;
SELECT '['::halfvec;
SELECT '[1,'::halfvec;
SELECT '[1,]'::halfvec;
SELECT '[,1]'::halfvec;
SELECT '[1 2]'::halfvec;
SELECT '[a]'::halfvec;
SELECT '[1,2]]'::halfvec;
SELECT '[1,2] x'::halfvec;
SELECT '[]'::halfvec;
SELECT '[ ]'::halfvec;

-- dimension limits and type modifiers
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::halfvec);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
SELECT '[1,2,3]'::halfvec(3);
SELECT '[1,2]'::halfvec(3);
SELECT '[1,2]'::halfvec::halfvec(3);
SELECT '[1,2]'::halfvec::halfvec(2);
SELECT NULL::halfvec(16000);
SELECT '[1]'::halfvec(0);
SELECT '[1]'::halfvec(16001);
SELECT '[1]'::halfvec(1, 2);
CREATE TABLE hinput (v halfvec(2));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'hinput'::regclass AND attname = 'v';
INSERT INTO hinput VALUES ('[1,2]'), (NULL);
INSERT INTO hinput VALUES ('[1,2,3]');
SELECT v FROM hinput ORDER BY v;
DROP TABLE hinput;

-- distances
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'), '[0,0]'::halfvec <-> '[3,4]', halfvec_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2]'::halfvec, '[3,4]'), '[1,2]'::halfvec <#> '[3,4]', halfvec_negative_inner_product('[1,2]', '[-3,4]');
SELECT cosine_distance('[1,2]'::halfvec, '[3,4]'), '[1,2]'::halfvec <=> '[2,4]', cosine_distance('[1,1]'::halfvec, '[-1,-1]');
SELECT cosine_distance('[0,0]'::halfvec, '[1,2]'), cosine_distance('[0,0]'::halfvec, '[0,0]');
SELECT l1_distance('[0,0]'::halfvec, '[3,4]'), '[1,-2,3]'::halfvec <+> '[-1,2,-3]';
SELECT halfvec_spherical_distance('[1,0]', '[0,1]'), halfvec_spherical_distance('[2,0]', '[1,0]'),
	halfvec_spherical_distance('[-2,0]', '[1,0]');
-- distances use the stored (rounded) values
SELECT l2_distance('[0.1]'::halfvec, '[0]'), inner_product('[1.1]'::halfvec, '[1]');
SELECT l2_distance('[1,2]'::halfvec, '[1,2,3]');
SELECT inner_product('[1,2]'::halfvec, '[1,2,3]');
SELECT cosine_distance('[1,2]'::halfvec, '[1,2,3]');
SELECT l1_distance('[1,2]'::halfvec, '[1,2,3]');
SELECT '[1,2]'::halfvec <#> '[3]';
SELECT halfvec_l2_squared_distance('[1,2]', '[3]');
SELECT halfvec_spherical_distance('[1,2]', '[3]');

-- every length up to 40 (f16 kernel main loops and tails), exact integer sums
WITH v AS (
	SELECT n, array_agg((i * 7 % 11) - 5)::int[] AS a, array_agg((i * 5 % 13) - 6)::int[] AS b
	FROM generate_series(1, 40) n, generate_series(1, n) i GROUP BY n
), s AS (
	SELECT n, a::halfvec AS va, b::halfvec AS vb,
		(SELECT sum((x - y) ^ 2) FROM unnest(a, b) u(x, y)) AS l2sq,
		(SELECT sum(x * y) FROM unnest(a, b) u(x, y)) AS ip,
		(SELECT sum(abs(x - y)) FROM unnest(a, b) u(x, y)) AS l1,
		(SELECT sum(x * x) FROM unnest(a, b) u(x, y)) AS na,
		(SELECT sum(y * y) FROM unnest(a, b) u(x, y)) AS nb
	FROM v
)
SELECT count(*) AS lengths,
	count(*) FILTER (WHERE halfvec_l2_squared_distance(va, vb) = l2sq AND va <-> vb = sqrt(l2sq)) AS l2_ok,
	count(*) FILTER (WHERE inner_product(va, vb) = ip AND va <#> vb = -ip) AS ip_ok,
	count(*) FILTER (WHERE va <+> vb = l1) AS l1_ok,
	count(*) FILTER (WHERE abs((va <=> vb) - (1 - ip / sqrt(na * nb))) < 1e-12) AS cosine_ok
FROM s;

SELECT l2_distance(array_fill(1, ARRAY[16000])::halfvec, array_fill(0, ARRAY[16000])::halfvec),
	inner_product(array_fill(2, ARRAY[16000])::halfvec, array_fill(3, ARRAY[16000])::halfvec),
	l1_distance(array_fill(-1, ARRAY[16000])::halfvec, array_fill(1, ARRAY[16000])::halfvec);

-- dims, norm, normalize
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_norm('[0,0]'::halfvec), l2_norm('[0.1,0.2]'::halfvec),
	l2_norm('[65504,65504]'::halfvec);
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[1,1]'::halfvec), l2_normalize('[0,0]'::halfvec),
	l2_normalize('[0,-65504,0]'::halfvec), l2_normalize('[6e-08]'::halfvec);

-- binary_quantize
SELECT binary_quantize('[1,0,-1]'::halfvec), binary_quantize('[0.1,-0.2,0,3,-0,5,6,7,8,1e-8]'::halfvec);

-- subvector
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 3), subvector('[1,2,3,4,5]'::halfvec, 4, 3),
	subvector('[1,2,3,4,5]'::halfvec, -1, 3), subvector('[1,2,3,4,5]'::halfvec, -10, 2147483647);
SELECT subvector('[1,2,3,4,5]'::halfvec, 3, 0);
SELECT subvector('[1,2,3,4,5]'::halfvec, 6, 1);
SELECT subvector('[1,2,3,4,5]'::halfvec, -1, 2);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2147483647, 10);

-- arithmetic: computed in float, rounded once to half
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,-6]';
SELECT '[1]'::halfvec + '[0.0004]', '[0.1]'::halfvec + '[0.2]', '[60000]'::halfvec + '[5504]', '[0.001]'::halfvec * '[0.0001]';
-- 5519 would round to 5520 on input
SELECT '[60000]'::halfvec + '[5520]';
SELECT '[-60000]'::halfvec - '[60000]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[0.0001]'::halfvec * '[0.0001]';
SELECT '[0]'::halfvec * '[0.0001]';
SELECT '[1,2]'::halfvec + '[3]';
SELECT '[1,2]'::halfvec - '[3]';
SELECT '[1,2]'::halfvec * '[3]';

-- concatenation
SELECT '[1,2]'::halfvec || '[3]';
SELECT array_fill(1, ARRAY[16000])::halfvec || '[2]';

-- comparisons
SELECT '[1,2,3]'::halfvec < '[1,2,4]' AS lt, '[1,2,3]'::halfvec <= '[1,2,3]' AS le, '[1,2,3]'::halfvec = '[1,2,3]' AS eq,
	'[1,2,3]'::halfvec <> '[1,2,3]' AS ne, '[1,2,4]'::halfvec >= '[1,2,3]' AS ge, '[1,2,4]'::halfvec > '[1,2,3]' AS gt;
SELECT '[1,2]'::halfvec < '[1,2,3]' AS shorter_first, '[2]'::halfvec > '[1,5]' AS elements_first,
	'[-0]'::halfvec = '[0]' AS zeros, '[1.0001]'::halfvec = '[1]' AS rounded, '[-1]'::halfvec < '[-0.5]' AS negative;
SELECT halfvec_cmp('[1,2]', '[1,3]'), halfvec_cmp('[1,3]', '[1,2]'), halfvec_cmp('[1,2]', '[1,2]'),
	halfvec_cmp('[1,2]', '[1,2,0]'), halfvec_cmp('[1,2,0]', '[1,2]'), halfvec_cmp('[-2]', '[-1]');

-- NULL in, NULL out
SELECT l2_distance(NULL, '[1]'::halfvec) IS NULL AS a, l2_norm(NULL::halfvec) IS NULL AS b,
	('[1]'::halfvec + NULL) IS NULL AS c, halfvec_cmp(NULL, '[1]') IS NULL AS d;

-- binary: int16 dim, int16 unused (0), dim x IEEE half bits, big-endian
SELECT halfvec_send('[1,2,-0,65504]'), halfvec_send('[0.1,6e-08]');

CREATE TABLE hbin_raw (b bytea);
CREATE FUNCTION recv_as(target regclass, hex text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('data_directory') || '/halfvec_recv.bin';
	result text;
BEGIN
	DELETE FROM hbin_raw;
	INSERT INTO hbin_raw VALUES (decode(hex, 'hex'));
	EXECUTE format('COPY hbin_raw TO %L (FORMAT binary)', path);
	EXECUTE format('DELETE FROM %s', target);
	EXECUTE format('COPY %s FROM %L (FORMAT binary)', target, path);
	EXECUTE format('SELECT v::text FROM %s', target) INTO result;
	RETURN result;
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TABLE hrecv (v halfvec);
CREATE TABLE hrecv3 (v halfvec(3));
SELECT recv_as('hrecv', '000200003c004000');
SELECT recv_as('hrecv', '0002000080000001');
SELECT recv_as('hrecv3', '000300003c0040004200');
SELECT recv_as('hrecv3', '000200003c004000');
SELECT recv_as('hrecv', '00000000');
SELECT recv_as('hrecv', 'ffff0000');
SELECT recv_as('hrecv', '3e810000');
SELECT recv_as('hrecv', '000100013c00');
SELECT recv_as('hrecv', '0001');
SELECT recv_as('hrecv', '000200003c00');
SELECT recv_as('hrecv', '000100003c0000');
SELECT recv_as('hrecv', '000100007e00');
SELECT recv_as('hrecv', '00010000fc01');
SELECT recv_as('hrecv', '000100007c00');
SELECT recv_as('hrecv', '00020000fc007e00');
SELECT recv_as('hrecv', '000200007e00');

-- binary COPY round trip
CREATE TABLE hbin_src (id int, v halfvec);
INSERT INTO hbin_src VALUES (1, '[1,2,3]'), (2, NULL), (3, '[-0,0.1,65504,6e-08,-1.1]'), (4, array_fill(0.5, ARRAY[16000])::halfvec);
CREATE TABLE hbin_dst (LIKE hbin_src);
DO $$
DECLARE
	path text := current_setting('data_directory') || '/halfvec_roundtrip.bin';
BEGIN
	EXECUTE format('COPY hbin_src TO %L (FORMAT binary)', path);
	EXECUTE format('COPY hbin_dst FROM %L (FORMAT binary)', path);
END
$$;
SELECT id, s.v IS NOT DISTINCT FROM d.v AS same, s.v::text IS NOT DISTINCT FROM d.v::text AS same_text, vector_dims(d.v)
FROM hbin_src s JOIN hbin_dst d USING (id) ORDER BY id;

DROP FUNCTION recv_as(regclass, text);
DROP TABLE hbin_raw, hrecv, hrecv3, hbin_src, hbin_dst;
