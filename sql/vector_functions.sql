-- vector functions and operators

-- distances
SELECT l2_distance('[0,0]'::vector, '[3,4]'), '[0,0]'::vector <-> '[3,4]', '[1,2,3]'::vector <-> '[1,2,3]';
SELECT vector_l2_squared_distance('[0,0]', '[3,4]'), l2_distance('[1,1]'::vector, '[0,0]');
SELECT inner_product('[1,2]'::vector, '[3,4]'), '[1,2]'::vector <#> '[3,4]', vector_negative_inner_product('[1,2]', '[-3,4]');
SELECT cosine_distance('[1,2]'::vector, '[2,4]'), cosine_distance('[1,2]'::vector, '[3,4]'), cosine_distance('[1,0]'::vector, '[0,1]'), cosine_distance('[1,1]'::vector, '[-1,-1]');
SELECT '[1,2]'::vector <=> '[3,4]';
-- zero vectors have no direction: NaN
SELECT cosine_distance('[0,0]'::vector, '[1,2]'), cosine_distance('[0,0]'::vector, '[0,0]');
SELECT l1_distance('[0,0]'::vector, '[3,4]'), '[1,-2,3]'::vector <+> '[-1,2,-3]';
-- spherical distance clamps the inner product to [-1, 1]
SELECT vector_spherical_distance('[1,0]', '[1,0]'), vector_spherical_distance('[1,0]', '[0,1]'),
	vector_spherical_distance('[1,0]', '[-1,0]'), vector_spherical_distance('[2,0]', '[1,0]'),
	vector_spherical_distance('[-2,0]', '[1,0]');

-- dimension mismatch
SELECT l2_distance('[1,2]'::vector, '[1,2,3]');
SELECT '[1,2]'::vector <-> '[3]';
SELECT inner_product('[1,2]'::vector, '[1,2,3]');
SELECT '[1,2]'::vector <#> '[3]';
SELECT cosine_distance('[1,2]'::vector, '[1,2,3]');
SELECT l1_distance('[1,2]'::vector, '[1,2,3]');
SELECT vector_l2_squared_distance('[1,2]', '[1,2,3]');
SELECT vector_negative_inner_product('[1,2]', '[1,2,3]');
SELECT vector_spherical_distance('[1,2]', '[1,2,3]');

-- NULL in, NULL out (strict functions)
SELECT l2_distance(NULL, '[1]'::vector) IS NULL AS a, inner_product('[1]'::vector, NULL) IS NULL AS b,
	cosine_distance(NULL::vector, NULL) IS NULL AS c, vector_dims(NULL::vector) IS NULL AS d,
	subvector('[1,2]'::vector, NULL, 1) IS NULL AS e, (NULL::vector + '[1]') IS NULL AS f;

-- every vector length up to 40 (kernel main loops and tails): exact integer
-- sums, compared with the same sums done in SQL
WITH v AS (
	SELECT n, array_agg((i * 7 % 11) - 5)::int[] AS a, array_agg((i * 5 % 13) - 6)::int[] AS b
	FROM generate_series(1, 40) n, generate_series(1, n) i GROUP BY n
), s AS (
	SELECT n, a::vector AS va, b::vector AS vb,
		(SELECT sum((x - y) ^ 2) FROM unnest(a, b) u(x, y)) AS l2sq,
		(SELECT sum(x * y) FROM unnest(a, b) u(x, y)) AS ip,
		(SELECT sum(abs(x - y)) FROM unnest(a, b) u(x, y)) AS l1,
		(SELECT sum(x * x) FROM unnest(a, b) u(x, y)) AS na,
		(SELECT sum(y * y) FROM unnest(a, b) u(x, y)) AS nb
	FROM v
)
SELECT count(*) AS lengths,
	count(*) FILTER (WHERE vector_l2_squared_distance(va, vb) = l2sq AND va <-> vb = sqrt(l2sq)) AS l2_ok,
	count(*) FILTER (WHERE inner_product(va, vb) = ip AND va <#> vb = -ip) AS ip_ok,
	count(*) FILTER (WHERE va <+> vb = l1) AS l1_ok,
	count(*) FILTER (WHERE abs((va <=> vb) - (1 - ip / sqrt(na * nb))) < 1e-12) AS cosine_ok
FROM s;

-- 16000 dimensions
SELECT l2_distance(array_fill(1, ARRAY[16000])::vector, array_fill(0, ARRAY[16000])::vector),
	inner_product(array_fill(2, ARRAY[16000])::vector, array_fill(3, ARRAY[16000])::vector),
	l1_distance(array_fill(-1, ARRAY[16000])::vector, array_fill(1, ARRAY[16000])::vector),
	cosine_distance(array_fill(1, ARRAY[16000])::vector, array_fill(5, ARRAY[16000])::vector);

-- dims and norms (vector_norm sums squares in double precision, like pgvector)
SELECT vector_dims('[1,2,3]'::vector), vector_dims(array_fill(0, ARRAY[16000])::vector);
SELECT vector_norm('[3,4]'), vector_norm('[0,0]'), vector_norm('[1,1]'), vector_norm('[0.1,0.2]'), vector_norm('[-3e38,3e38]');

-- l2_normalize
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[1,1]'::vector), l2_normalize('[0,-2,0]'::vector);
SELECT l2_normalize('[0,0]'::vector), l2_normalize('[3e38,3e38,3e38]'::vector), l2_normalize('[1e-45]'::vector);
SELECT vector_norm(l2_normalize('[1,2,3,4,5]'::vector)) BETWEEN 0.9999999 AND 1.0000001 AS unit;

-- binary_quantize: bit i is 1 iff element i > 0
SELECT binary_quantize('[1,0,-1]'::vector), binary_quantize('[0.1,-0.2,0,3,-0,5,6,7,8]'::vector);
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector)), bit_count(binary_quantize(array_fill(1, ARRAY[16000])::vector));

-- subvector(v, start, count): 1-based, clipped like substring, at least one element
SELECT subvector('[1,2,3,4,5]'::vector, 1, 3), subvector('[1,2,3,4,5]'::vector, 3, 2),
	subvector('[1,2,3,4,5]'::vector, 4, 3), subvector('[1,2,3,4,5]'::vector, 5, 1),
	subvector('[1,2,3,4,5]'::vector, -1, 3), subvector('[1,2,3,4,5]'::vector, -10, 2147483647),
	subvector('[1,2,3,4,5]'::vector, 1, 2147483647);
SELECT subvector('[1,2,3,4,5]'::vector, 3, 0);
SELECT subvector('[1,2,3,4,5]'::vector, 3, -1);
SELECT subvector('[1,2,3,4,5]'::vector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::vector, -1, 2);
SELECT subvector('[1,2,3,4,5]'::vector, 2147483647, 10);
SELECT subvector('[1,2,3,4,5]'::vector, -2147483648, 2147483647);

-- arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,-6]';
SELECT '[0.1]'::vector + '[0.2]', '[1e-30]'::vector * '[0]', '[-0]'::vector + '[0]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e20]'::vector * '[1e20]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[1,2]'::vector + '[3]';
SELECT '[1,2]'::vector - '[3]';
SELECT '[1,2]'::vector * '[3]';

-- concatenation
SELECT '[1,2]'::vector || '[3]', '[1]'::vector || '[2]' || '[3,4]';
SELECT vector_dims(array_fill(1, ARRAY[15999])::vector || '[2]');
SELECT array_fill(1, ARRAY[16000])::vector || '[2]';

-- comparisons: element by element, then the shorter vector first
SELECT '[1,2,3]'::vector < '[1,2,4]' AS lt, '[1,2,3]'::vector <= '[1,2,3]' AS le, '[1,2,3]'::vector = '[1,2,3]' AS eq,
	'[1,2,3]'::vector <> '[1,2,3]' AS ne, '[1,2,4]'::vector >= '[1,2,3]' AS ge, '[1,2,4]'::vector > '[1,2,3]' AS gt;
SELECT '[1,2]'::vector < '[1,2,3]' AS shorter_first, '[2]'::vector > '[1,5]' AS elements_first,
	'[1,2,3]'::vector = '[1,2]' AS eq_dims, '[-0]'::vector = '[0]' AS zeros;
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,3]', '[1,2]'), vector_cmp('[1,2]', '[1,2]'),
	vector_cmp('[1,2]', '[1,2,0]'), vector_cmp('[1,2,0]', '[1,2]'), vector_cmp('[0,9]', '[1]');
SELECT vector_lt('[1]', '[2]'), vector_le('[2]', '[1]'), vector_eq('[1]', '[1]'), vector_ne('[1]', '[1]'),
	vector_ge('[1]', '[1]'), vector_gt('[1]', '[1,0]');
