-- vector text input and output, type modifiers

-- well-formed literals; output is each element's shortest exact float4 text
SELECT '[1,2,3]'::vector;
SELECT '[-1,-2.5,+3]'::vector;
SELECT '[1.,.5,0.25]'::vector;
SELECT '[0.1,1.1,1.23456789,3.14159265]'::vector;
SELECT '[100000,123456.7,1000000,1e-4,1e-5,1.5E3]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.17549435e-38]'::vector;
SELECT '[0,-0]'::vector;
SELECT '[0x10,1e0]'::vector;

-- whitespace: space, \t, \n, \r, \v, \f around brackets, numbers and commas
SELECT ' [ 1 , 2 ,3 ] '::vector;
SELECT E'\t[\n1\r,\f2\013]\n'::vector;

-- float underflow is not an error (like pgvector): zero or a denormal
SELECT '[1e-46,1e-40,-1e-50]'::vector;

-- malformed literals
SELECT ''::vector;
SELECT ' '::vector;
SELECT '1,2,3'::vector;
SELECT '(1,2,3)'::vector;
SELECT '['::vector;
SELECT '[1'::vector;
SELECT '[1,'::vector;
SELECT '[1,2'::vector;
SELECT '[,]'::vector;
SELECT '[,1]'::vector;
SELECT '[1,]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1 2]'::vector;
SELECT '[1;2]'::vector;
SELECT '[a]'::vector;
SELECT '[1a]'::vector;
SELECT '[1 .5]'::vector;
SELECT '[1,2]]'::vector;
SELECT '[1,2] 3'::vector;
SELECT '[1,2]x'::vector;
SELECT '[1,2],'::vector;

-- no elements
SELECT '[]'::vector;
SELECT '[ ]'::vector;

-- non-finite and out-of-range elements (first bad element wins)
SELECT '[NaN]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[1,-inf]'::vector;
SELECT '[1e39]'::vector;
SELECT '[1,-1e39]'::vector;
SELECT '[3.5e38]'::vector;
SELECT '[nan,1e39]'::vector;
SELECT '[1e39,nan]'::vector;
SELECT '[1e39,abc]'::vector;

-- dimension limits
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
-- the limit is checked before the element is parsed (as in pgvector)
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ',x]')::vector;

-- type modifiers
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2]'::vector(3);
SELECT '[1,2,3,4]'::vector(3);
SELECT NULL::vector(16000);
SELECT '[1]'::vector(0);
SELECT '[1]'::vector(-1);
SELECT '[1]'::vector(16001);
SELECT '[1]'::vector(1, 2);
SELECT '[1,2]'::vector::vector(2);
SELECT '[1,2]'::vector::vector(3);

CREATE TABLE vinput (v vector(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'vinput'::regclass AND attname = 'v';
INSERT INTO vinput VALUES ('[1,2,3]'), (NULL), ('[4,5,6]'::vector);
INSERT INTO vinput VALUES ('[1,2]');
INSERT INTO vinput VALUES ('[1,2,3,4]'::vector);
SELECT v FROM vinput ORDER BY v;
CREATE TABLE vinput_bad (v vector(16001));
DROP TABLE vinput;

-- NULL
SELECT NULL::vector IS NULL AS is_null;

-- text round trip of awkward floats is exact
SELECT v = v::text::vector AS same FROM (VALUES ('[0.1,1e-45,3.4028235e38,-7.006492e-45,0.33333334]'::vector)) t(v);
