-- casts between vector, halfvec and arrays

-- arrays to vector: int4[], real[], double precision[], numeric[]
SELECT '{1,2,3}'::int[]::vector, ARRAY[1,2,3]::vector;
SELECT '{1.5,-2.5,0.1}'::real[]::vector, '{1.5,-2.5,0.1}'::float8[]::vector, '{1.5,-2.5,0.1}'::numeric[]::vector;
-- every value goes through float4
SELECT '{16777217,-2147483648}'::int[]::vector, '{1.00000001,1e-46,3.4028235e38}'::float8[]::vector,
	'{0.333333333333333333333}'::numeric[]::vector;
-- lower bounds other than 1 are ignored
SELECT '[0:2]={7,8,9}'::int[]::vector;
-- typmod
SELECT '{1,2,3}'::int[]::vector(3), '{1,2}'::real[]::vector(2), '{1,2}'::float8[]::vector(2), '{1,2}'::numeric[]::vector(2);
SELECT '{1,2}'::int[]::vector(3);
SELECT '{1,2}'::real[]::vector(3);
SELECT '{1,2}'::float8[]::vector(3);
SELECT '{1,2}'::numeric[]::vector(3);
-- shape and content errors
SELECT '{}'::int[]::vector;
SELECT '{{1,2},{3,4}}'::int[]::vector;
SELECT '{{1}}'::real[]::vector;
SELECT '{1,NULL,3}'::int[]::vector;
SELECT '{NULL}'::float8[]::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{1,-Infinity}'::real[]::vector;
SELECT '{Infinity}'::float8[]::vector;
SELECT '{1e39}'::float8[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::numeric[]::vector;
SELECT '{1e39}'::numeric[]::vector;
-- all elements are converted before any is checked (as in pgvector)
SELECT '{NaN,1e39}'::numeric[]::vector;
-- dimension limits
SELECT vector_dims(array_fill(1.5::numeric, ARRAY[16000])::vector), vector_dims(array_fill(1.5::float8, ARRAY[16000])::vector);
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT array_fill(1::real, ARRAY[16001])::vector;
-- assignment casts into a column
CREATE TABLE cast_vector (v vector(3));
INSERT INTO cast_vector VALUES (ARRAY[1,2,3]), ('{4,5,6}'::real[]), ('{7,8,9}'::float8[]), ('{1.5,2.5,3.5}'::numeric[]), (NULL);
INSERT INTO cast_vector VALUES (ARRAY[1,2]);
SELECT v FROM cast_vector ORDER BY v;
DROP TABLE cast_vector;

-- vector to real[] (implicit)
SELECT '[1,2,3]'::vector::real[], '[-0,0.1,3.4028235e38]'::vector::real[];
SELECT array_length('[1,2,3]'::vector::real[], 1), array_lower('[1,2,3]'::vector::real[], 1);
SELECT ('[1,2,3]'::vector::real[])[2];
SELECT array_to_vector('{1,2}'::int[], -1, false), vector_to_float4('[1,2]', -1, false);
SELECT vector_dims(v) = array_length(v::real[], 1) AS same, v::real[]::vector = v AS roundtrip
FROM (VALUES (array_fill(0.25::real, ARRAY[16000])::vector)) t(v);

-- arrays to halfvec
SELECT '{1,2,3}'::int[]::halfvec, '{1.1,-2.5}'::real[]::halfvec, '{1.1,-2.5}'::float8[]::halfvec, '{1.1,-2.5}'::numeric[]::halfvec;
SELECT '{2049,65519}'::int[]::halfvec, '{1e-8,6e-8}'::float8[]::halfvec;
SELECT '{1,2}'::int[]::halfvec(2);
SELECT '{1,2}'::int[]::halfvec(3);
SELECT '{1,2}'::numeric[]::halfvec(3);
SELECT '{}'::real[]::halfvec;
SELECT '{{1,2}}'::real[]::halfvec;
SELECT '{1,NULL}'::real[]::halfvec;
-- beyond half's range: the float value in its shortest form
SELECT '{65520}'::int[]::halfvec;
SELECT '{1,-70000}'::real[]::halfvec;
SELECT '{1e5}'::float8[]::halfvec;
SELECT '{123456.789}'::numeric[]::halfvec;
-- overflowing float4 first gives infinity, which is not a range error
SELECT '{1e300}'::float8[]::halfvec;
SELECT '{NaN}'::real[]::halfvec;
SELECT '{-Infinity}'::float8[]::halfvec;
SELECT '{1e39}'::numeric[]::halfvec;
SELECT '{NaN,70000}'::real[]::halfvec;
SELECT array_fill(1, ARRAY[16001])::halfvec;
CREATE TABLE cast_halfvec (v halfvec(2));
INSERT INTO cast_halfvec VALUES (ARRAY[1,2]), ('{0.1,0.2}'::real[]), ('{3,4}'::float8[]), ('{5,6}'::numeric[]);
SELECT v FROM cast_halfvec ORDER BY v;
DROP TABLE cast_halfvec;

-- halfvec to real[] (exact)
SELECT '[1.1,-0,65504,6e-08]'::halfvec::real[];
SELECT array_length(array_fill(1, ARRAY[16000])::halfvec::real[], 1);

-- vector <-> halfvec
SELECT '[1.1,2,-3]'::vector::halfvec, '[1.1,2,-3]'::halfvec::vector;
SELECT '[65519,-65519,1e-8]'::vector::halfvec;
SELECT '[1,65520]'::vector::halfvec;
SELECT '[3e38]'::vector::halfvec;
SELECT '[1,2]'::vector::halfvec(2), '[1,2]'::halfvec::vector(2);
SELECT '[1,2]'::vector::halfvec(3);
SELECT '[1,2]'::halfvec::vector(3);
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector::halfvec), vector_dims(array_fill(1, ARRAY[16000])::halfvec::vector);
SELECT v::halfvec::vector = v AS exact FROM (VALUES ('[1,0.5,-0.25,65504,2048]'::vector)) t(v);
-- vector -> halfvec is implicit, halfvec -> vector is assignment
CREATE TABLE cast_mixed (h halfvec(2), v vector(2));
INSERT INTO cast_mixed VALUES ('[1.1,2]'::vector, '[1.1,2]'::halfvec);
SELECT h, v FROM cast_mixed;
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'::vector);
SELECT '[1,2]'::halfvec + '[3,4]'::vector;
DROP TABLE cast_mixed;

-- NULL
SELECT NULL::int[]::vector IS NULL AS a, NULL::vector::halfvec IS NULL AS b, NULL::halfvec::real[] IS NULL AS c;
