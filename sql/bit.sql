-- hamming_distance / <~> and jaccard_distance / <%> on bit strings.
-- Small cases are hand-computed; long strings are checked against
-- PostgreSQL's own bit operators (#, &, |) and bit_count().

-- hamming_distance
SELECT hamming_distance('111', '111');
SELECT hamming_distance('111', '110');
SELECT hamming_distance('111', '100');
SELECT hamming_distance('111', '000');
SELECT hamming_distance('10101010101010101010', '01010101010101010101');
SELECT hamming_distance(B'1', B'0');
SELECT hamming_distance('', '');
SELECT hamming_distance('111', '00');
SELECT hamming_distance('', '0');
SELECT hamming_distance('111', '000'::varbit(4));
SELECT hamming_distance('111', '0000'::varbit(4));
SELECT hamming_distance(NULL, '111');
SELECT hamming_distance('111', NULL);
SELECT '111'::bit(3) <~> '010';
SELECT '1111'::varbit <~> '0000'::varbit;

-- jaccard_distance: 1 - |a & b| / |a | b|
SELECT jaccard_distance('1111', '1111');
SELECT jaccard_distance('1111', '1110');
SELECT jaccard_distance('1111', '1100');
SELECT jaccard_distance('1111', '1000');
SELECT jaccard_distance('1111', '0000');
SELECT jaccard_distance('1100', '1000');
SELECT jaccard_distance('1100', '0110');
SELECT jaccard_distance('101', '011');
SELECT jaccard_distance('10101010101010101010', '01010101010101010101');
-- no bit in common, including no bit set at all: distance 1
SELECT jaccard_distance('0000', '0000');
SELECT jaccard_distance('', '');
SELECT jaccard_distance('1111', '000');
SELECT jaccard_distance('1111', '0000'::varbit(5));
SELECT jaccard_distance('1111', '00000'::varbit(5));
SELECT jaccard_distance(NULL, '1111');
SELECT jaccard_distance('1111', NULL);
SELECT '1100'::bit(4) <%> '0110';

-- lengths around byte and word boundaries: the last, partial byte counts
SELECT hamming_distance(repeat('1', n)::varbit, repeat('0', n)::varbit) AS hamming,
	jaccard_distance(repeat('1', n)::varbit, (repeat('0', n - 1) || '1')::varbit) AS jaccard
FROM unnest(ARRAY[7, 8, 9, 63, 64, 65, 511, 512, 513]) n;

-- 64,000 bits and more (whole SIMD blocks plus tails)
SELECT hamming_distance(repeat('10', 32000)::bit(64000), repeat('01', 32000)::bit(64000));
SELECT jaccard_distance(repeat('10', 32000)::bit(64000), repeat('01', 32000)::bit(64000));
SELECT hamming_distance(repeat('1', 64000)::bit(64000), repeat('10', 32000)::bit(64000));
SELECT jaccard_distance(repeat('1', 64000)::bit(64000), repeat('10', 32000)::bit(64000));
-- 64007 bits: b has 32004 ones, all shared with a; |a | b| = 64007
SELECT hamming_distance(repeat('1', 64007)::varbit, (repeat('10', 32003) || '1')::varbit);
SELECT jaccard_distance(repeat('1', 64007)::varbit, (repeat('10', 32003) || '1')::varbit);
-- a single differing bit at the very end
SELECT hamming_distance((repeat('0', 63999) || '1')::bit(64000), repeat('0', 64000)::bit(64000));
SELECT jaccard_distance((repeat('0', 63999) || '1')::bit(64000), repeat('0', 64000)::bit(64000));
SELECT jaccard_distance((repeat('0', 63999) || '1')::bit(64000), (repeat('0', 63999) || '1')::bit(64000));
SELECT jaccard_distance(repeat('0', 64000)::bit(64000), repeat('0', 64000)::bit(64000));

-- pseudo-random 64,000-bit strings against bit_count() of #, &, |
CREATE TABLE bit_random (id int, b varbit);
INSERT INTO bit_random
SELECT s, string_agg(('x' || md5(s || ':' || i))::bit(128)::text, '' ORDER BY i)::varbit
FROM generate_series(1, 4) s, generate_series(1, 500) i GROUP BY s;
INSERT INTO bit_random
SELECT 4 + s, string_agg(('x' || md5(s || ';' || i))::bit(128)::text, '' ORDER BY i)::varbit || B'1011001'
FROM generate_series(1, 2) s, generate_series(1, 500) i GROUP BY s;
SELECT id, length(b) FROM bit_random ORDER BY id;
SELECT a.id, b.id,
	hamming_distance(a.b, b.b) = bit_count(a.b # b.b) AS hamming_ok,
	jaccard_distance(a.b, b.b) = 1 - bit_count(a.b & b.b)::float8 / bit_count(a.b | b.b) AS jaccard_ok,
	a.b <~> b.b = hamming_distance(b.b, a.b) AS commutes
FROM bit_random a JOIN bit_random b ON length(a.b) = length(b.b) AND a.id <= b.id
ORDER BY a.id, b.id;
SELECT hamming_distance(a.b, b.b) FROM bit_random a, bit_random b WHERE a.id = 1 AND b.id = 5;
DROP TABLE bit_random;
