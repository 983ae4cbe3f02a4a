-- sparsevec: text and binary I/O, typmod, functions, operators, btree, casts.
-- Expected values are hand-computed; see comments for the arithmetic.

-- text input: valid forms (indices are 1-based in text)
SELECT '{1:1.5,3:3.5}/5'::sparsevec;
SELECT '{1:-2,3:-4}/5'::sparsevec;
SELECT '{1:2.,3:4.}/5'::sparsevec;
SELECT ' { 1 : 1.5 ,  3  :  3.5  } / 5 '::sparsevec;
SELECT E'\t{\n1\r:\f1.5\x0b,\t3:3.5}\n/\r5\f'::sparsevec;
SELECT '{+1:1e1,3:-2.5e-1}/+5'::sparsevec;
SELECT '{1:1.23456}/1'::sparsevec;
SELECT '{1:0.1,2:0.3333333333}/2'::sparsevec;
SELECT '{1:1.5e38,2:-1.5e38}/2'::sparsevec;
SELECT '{1:1.5e-38,2:-1.5e-38}/2'::sparsevec;
SELECT '{1:1e-40}/1'::sparsevec;
SELECT '{}/1'::sparsevec;
SELECT '{ }/1'::sparsevec;
SELECT '{}/1000000000'::sparsevec;
SELECT '{1000000000:7}/1000000000'::sparsevec;
-- zeros are dropped, elements are sorted
SELECT '{1:0,2:1,3:0}/3'::sparsevec;
SELECT '{1:-0,2:0.0,3:0e5}/3'::sparsevec;
SELECT '{3:3,1:1,2:2}/3'::sparsevec;
-- a duplicate index whose value is zero is dropped before the duplicate check
SELECT '{1:0,1:1}/2'::sparsevec;
SELECT NULL::sparsevec;

-- text input: malformed
SELECT ''::sparsevec;
SELECT '1:1/1'::sparsevec;
SELECT '{'::sparsevec;
SELECT '{ '::sparsevec;
SELECT '{:'::sparsevec;
SELECT '{,'::sparsevec;
SELECT '{}'::sparsevec;
SELECT '{}/'::sparsevec;
SELECT '{}/a'::sparsevec;
SELECT '{}/1a'::sparsevec;
SELECT '{}/1.0'::sparsevec;
SELECT '{}/1 1'::sparsevec;
SELECT '{:}/1'::sparsevec;
SELECT '{,}/1'::sparsevec;
SELECT '{1,}/1'::sparsevec;
SELECT '{:1}/1'::sparsevec;
SELECT '{1:}/1'::sparsevec;
SELECT '{1a:1}/1'::sparsevec;
SELECT '{1:1a}/1'::sparsevec;
SELECT '{1:1,}/1'::sparsevec;
SELECT '{1:1,,2:1}/2'::sparsevec;
SELECT '{1:1 2:1}/2'::sparsevec;
SELECT '{1.5:1}/2'::sparsevec;
SELECT '{1:1}}/1'::sparsevec;
SELECT '{1:hello,2:1}/2'::sparsevec;
SELECT '[1,2]'::sparsevec;

-- element values: NaN, infinity, out of range
SELECT '{1:NaN,2:1}/2'::sparsevec;
SELECT '{1:Infinity,2:1}/2'::sparsevec;
SELECT '{1:-Infinity,2:1}/2'::sparsevec;
SELECT '{1:4e38,2:1}/2'::sparsevec;
SELECT '{1:-4e38,2:1}/2'::sparsevec;
SELECT '{1:1e-46,2:1}/2'::sparsevec;
SELECT '{1:-1e-46,2:1}/2'::sparsevec;

-- indices: out of range, duplicated
SELECT '{0:1}/1'::sparsevec;
SELECT '{2:1}/1'::sparsevec;
SELECT '{-1:1}/3'::sparsevec;
SELECT '{2147483647:1}/1'::sparsevec;
SELECT '{2147483648:1}/1'::sparsevec;
SELECT '{-2147483648:1}/1'::sparsevec;
SELECT '{-2147483649:1}/1'::sparsevec;
SELECT '{99999999999999999999:1}/1'::sparsevec;
SELECT '{1:1,1:1}/2'::sparsevec;
SELECT '{1:1,2:1,1:2}/2'::sparsevec;

-- dimensions
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/2147483648'::sparsevec;
SELECT '{}/-2147483649'::sparsevec;
SELECT '{}/9223372036854775808'::sparsevec;
SELECT '{}/-9223372036854775809'::sparsevec;

-- at most 16000 elements (the text limit counts elements, zeros included)
SELECT octet_length(sparsevec_send(('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec))
FROM generate_series(1, 16000) i;
SELECT ('{' || string_agg(i || ':0', ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i;

-- text round trip of many elements
SELECT s::sparsevec::text = s FROM (
	SELECT '{' || string_agg(i || ':' || (i * 0.25)::float8::text, ',') || '}/16000' AS s FROM generate_series(1, 16000) i
) t;

-- type modifier
SELECT '{}/3'::sparsevec(3);
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{}/3'::sparsevec(3, 2);
SELECT '{}/3'::sparsevec('a');
SELECT '{}/3'::sparsevec(0);
SELECT '{}/3'::sparsevec(-1);
SELECT '{}/3'::sparsevec(1000000001);
SELECT '{}/1000000000'::sparsevec(1000000000);
CREATE TABLE sparsevec_typmod (v sparsevec(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sparsevec_typmod'::regclass AND attname = 'v';
INSERT INTO sparsevec_typmod VALUES ('{1:1,3:3}/3'), (NULL);
INSERT INTO sparsevec_typmod VALUES ('{1:1}/4');
INSERT INTO sparsevec_typmod VALUES ('{1:1}/4'::sparsevec);
SELECT v FROM sparsevec_typmod ORDER BY v;
DROP TABLE sparsevec_typmod;

-- binary output: dim, nnz, unused, 0-based indices, float4 values, big-endian
-- 1.5 = 0x3fc00000, 2 = 0x40000000
SELECT sparsevec_send('{1:1.5,3:2}/5');
SELECT sparsevec_send('{}/3');
SELECT sparsevec_send('{1000000000:-1}/1000000000');

-- binary input through COPY (FORMAT binary) from a file in the data directory.
-- sv_bin() builds a sparsevec_recv payload field by field (possibly corrupt);
-- write_copy_file() wraps it in a one-row, one-column COPY file.
CREATE FUNCTION sv_bin(dim int, nnz int, unused int, idx int[], vals real[]) RETURNS bytea AS $$
	SELECT int4send(dim) || int4send(nnz) || int4send(unused)
		|| coalesce((SELECT string_agg(int4send(i), ''::bytea ORDER BY o) FROM unnest(idx) WITH ORDINALITY u(i, o)), '')
		|| coalesce((SELECT string_agg(float4send(v), ''::bytea ORDER BY o) FROM unnest(vals) WITH ORDINALITY u(v, o)), '')
$$ LANGUAGE sql;
CREATE FUNCTION write_copy_file(payload bytea) RETURNS text AS $$
DECLARE
	lo oid;
BEGIN
	lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || int4send(0) || int4send(0)
		|| int2send(1::int2) || int4send(length(payload)) || payload || int2send(-1::int2));
	PERFORM lo_export(lo, 'sparsevec_copy.bin');
	PERFORM lo_unlink(lo);
	RETURN encode(payload, 'hex');
END
$$ LANGUAGE plpgsql;
CREATE TABLE sparsevec_copy (v sparsevec);
CREATE TABLE sparsevec_copy3 (v sparsevec(3));

-- valid payloads
SELECT write_copy_file(sparsevec_send('{1:1.5,3:2}/5'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(3, 0, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(1000000000, 2, 0, '{0,999999999}', '{-1e-45,3.4e38}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(3, 1, 0, '{2}', '{7}'));
COPY sparsevec_copy3 FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT v FROM sparsevec_copy;
SELECT v FROM sparsevec_copy3;

-- corrupt payloads: header fields
SELECT write_copy_file(sv_bin(0, 0, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(-1, 0, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(1000000001, 0, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, -1, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(100000, 16001, 0, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(2, 3, 0, '{0,1,2}', '{1,1,1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 0, 7, '{}', '{}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(4, 0, 0, '{}', '{}'));
COPY sparsevec_copy3 FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
-- corrupt payloads: indices
SELECT write_copy_file(sv_bin(5, 1, 0, '{-1}', '{1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{5}', '{1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 2, 0, '{3,1}', '{1,1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 2, 0, '{1,1}', '{1,1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
-- corrupt payloads: values
SELECT write_copy_file(sv_bin(5, 2, 0, '{0,1}', '{1,NaN}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{0}', '{Infinity}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{0}', '{-Infinity}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{0}', '{0}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{0}', '{-0}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
-- corrupt payloads: too short, too long
SELECT write_copy_file(sv_bin(5, 2, 0, '{0,1}', '{1}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(substring(sv_bin(5, 0, 0, '{}', '{}') from 1 for 10));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
SELECT write_copy_file(sv_bin(5, 1, 0, '{0}', '{1,2}'));
COPY sparsevec_copy FROM 'sparsevec_copy.bin' WITH (FORMAT binary);
-- nothing was added by the failed COPYs
SELECT count(*) FROM sparsevec_copy;

-- COPY TO (FORMAT binary) and back: sparsevec_send output is accepted by sparsevec_recv
CREATE TABLE sparsevec_roundtrip (id int, v sparsevec);
INSERT INTO sparsevec_roundtrip VALUES (1, '{1:1.5,3:-2}/5'), (2, '{}/1'), (3, NULL),
	(4, '{1:1e-45,1000000000:3.4028235e38}/1000000000'), (5, '{1:0.1,2:0.2,3:0.3}/3');
DO $$
BEGIN
	EXECUTE format('COPY (SELECT id, v FROM sparsevec_roundtrip) TO %L WITH (FORMAT binary)',
		current_setting('data_directory') || '/sparsevec_roundtrip.bin');
END
$$;
CREATE TABLE sparsevec_roundtrip2 (id int, v sparsevec);
COPY sparsevec_roundtrip2 FROM 'sparsevec_roundtrip.bin' WITH (FORMAT binary);
SELECT a.id, a.v, a.v = b.v AS same, sparsevec_send(a.v) = sparsevec_send(b.v) AS same_bytes
FROM sparsevec_roundtrip a JOIN sparsevec_roundtrip2 b USING (id) ORDER BY a.id;
SELECT id, v IS NULL AS null FROM sparsevec_roundtrip2 WHERE id = 3;
DROP TABLE sparsevec_copy, sparsevec_copy3, sparsevec_roundtrip, sparsevec_roundtrip2;
DROP FUNCTION sv_bin, write_copy_file;

-- l2_distance / <->: differences {1, -4, -3, -8, 5}, squares sum to 115
SELECT l2_distance('{1:1,3:3,5:5}/5'::sparsevec, '{2:4,3:6,4:8}/5');
SELECT l2_distance('{2:4,3:6,4:8}/5'::sparsevec, '{1:1,3:3,5:5}/5');
SELECT sparsevec_l2_squared_distance('{1:1,3:3,5:5}/5', '{2:4,3:6,4:8}/5');
SELECT l2_distance('{}/2'::sparsevec, '{1:3,2:4}/2');
SELECT l2_distance('{1:3,2:4}/2'::sparsevec, '{}/2');
SELECT l2_distance('{1:3}/2'::sparsevec, '{2:4}/2');
SELECT l2_distance('{2:4}/2'::sparsevec, '{1:3}/2');
SELECT l2_distance('{}/2'::sparsevec, '{}/2');
SELECT l2_distance('{1:1,2:2}/2'::sparsevec, '{1:1,2:2}/2');
SELECT l2_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1');
SELECT l2_distance('{1:1}/2'::sparsevec, '{1:1}/3');
SELECT '{}/2'::sparsevec <-> '{1:3,2:4}/2';
SELECT l2_distance(NULL::sparsevec, '{}/1');
SELECT l2_distance('{}/1'::sparsevec, NULL);
SELECT sparsevec_l2_squared_distance('{1:1}/2', '{1:1}/3');

-- inner_product / <#>: only index 3 is shared, 3 * 6 = 18
SELECT inner_product('{1:1,3:3,5:5}/5'::sparsevec, '{2:4,3:6,4:8}/5');
SELECT inner_product('{1:1,2:2}/2'::sparsevec, '{1:2,2:4}/2');
SELECT inner_product('{1:1,3:3}/4'::sparsevec, '{2:2,4:4}/4');
SELECT inner_product('{1:1}/2'::sparsevec, '{}/2');
SELECT inner_product('{}/2'::sparsevec, '{1:1}/2');
SELECT inner_product('{1:3e38}/1'::sparsevec, '{1:3e38}/1');
SELECT inner_product('{1:1,2:2}/2'::sparsevec, '{1:3}/1');
SELECT '{1:1,2:2}/2'::sparsevec <#> '{1:3,2:4}/2';
SELECT sparsevec_negative_inner_product('{1:1,3:3,5:5}/5', '{2:4,3:6,4:8}/5');
SELECT sparsevec_negative_inner_product('{1:1}/2', '{1:1}/3');
SELECT inner_product(NULL::sparsevec, '{}/1');

-- cosine_distance / <=>: {1:1,2:2} . {2:2,3:4} = 4, norms 5 and 20, 1 - 4/10 = 0.6
SELECT cosine_distance('{1:1,2:2}/3'::sparsevec, '{2:2,3:4}/3');
SELECT cosine_distance('{1:1,2:2}/2'::sparsevec, '{1:2,2:4}/2');
SELECT cosine_distance('{1:1}/2'::sparsevec, '{2:2}/2');
SELECT cosine_distance('{1:1,2:1}/2'::sparsevec, '{1:-1,2:-1}/2');
SELECT cosine_distance('{1:1,2:1}/2'::sparsevec, '{1:1.1,2:1.1}/2');
SELECT cosine_distance('{1:1,2:1}/2'::sparsevec, '{1:-1.1,2:-1.1}/2');
-- a zero vector has no direction: NaN, as in pgvector
SELECT cosine_distance('{1:1,2:2}/2'::sparsevec, '{}/2');
SELECT cosine_distance('{}/1'::sparsevec, '{}/1');
SELECT cosine_distance('{1:3e38}/1'::sparsevec, '{1:3e38}/1');
SELECT cosine_distance('{1:1,2:2}/2'::sparsevec, '{1:3}/1');
SELECT '{1:1,2:2}/2'::sparsevec <=> '{1:2,2:4}/2';
SELECT cosine_distance('{}/1'::sparsevec, NULL);

-- l1_distance / <+>: |1| + |-4| + |3-6| + |-8| + |5| = 21
SELECT l1_distance('{1:1,3:3,5:5}/5'::sparsevec, '{2:4,3:6,4:8}/5');
SELECT l1_distance('{}/2'::sparsevec, '{1:3,2:4}/2');
SELECT l1_distance('{1:-3,2:4}/2'::sparsevec, '{}/2');
SELECT l1_distance('{1:1,3:3,5:5,7:7,9:9}/9'::sparsevec, '{2:2,4:4,6:6,8:8}/9');
SELECT l1_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1');
SELECT l1_distance('{1:1,2:2}/2'::sparsevec, '{1:3}/1');
SELECT '{}/2'::sparsevec <+> '{1:3,2:4}/2';
SELECT l1_distance(NULL::sparsevec, NULL::sparsevec);

-- l2_norm (float8 accumulation)
SELECT l2_norm('{1:3,2:4}/2'::sparsevec);
SELECT l2_norm('{2:-1}/2'::sparsevec);
SELECT round(l2_norm('{1:1,2:1}/2'::sparsevec)::numeric, 5);
SELECT l2_norm('{}/2'::sparsevec);
SELECT l2_norm('{1:3e37,2:4e37}/2'::sparsevec)::real;
SELECT l2_norm('{1:3e38,2:3e38}/2'::sparsevec) > 4e38;
SELECT l2_norm(NULL::sparsevec);

-- l2_normalize: 3-4-5 triangle; values that underflow after scaling are dropped
SELECT l2_normalize('{1:3,2:4}/2'::sparsevec);
SELECT l2_normalize('{1:-3}/2'::sparsevec);
SELECT l2_normalize('{2:0.1}/2'::sparsevec);
SELECT l2_normalize('{}/2'::sparsevec);
SELECT l2_normalize('{1:3e38}/1'::sparsevec);
SELECT l2_normalize('{1:3e38,2:1e-37}/2'::sparsevec);
SELECT l2_normalize('{2:3e37,4:3e-37,6:4e37,8:4e-37}/9'::sparsevec);
SELECT l2_normalize(NULL::sparsevec);

-- comparison: like the dense arrays they stand for, elements first, then dimensions
SELECT '{1:1,2:2,3:3}/3'::sparsevec < '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec < '{1:1,2:2}/2';
SELECT '{1:1,2:2,3:3}/3'::sparsevec <= '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec <= '{1:1,2:2}/2';
SELECT '{1:1,2:2,3:3}/3'::sparsevec = '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec = '{1:1,2:2}/2';
SELECT '{1:1,2:2,3:3}/3'::sparsevec <> '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec <> '{1:1,2:2}/2';
SELECT '{1:1,2:2,3:3}/3'::sparsevec >= '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec >= '{1:1,2:2}/2';
SELECT '{1:1,2:2,3:3}/3'::sparsevec > '{1:1,2:2,3:3}/3';
SELECT '{1:1,2:2,3:3}/3'::sparsevec > '{1:1,2:2}/2';
SELECT '{}/2'::sparsevec = '{}/3';
SELECT '{1:1}/2'::sparsevec = '{1:1}/2' AND '{1:0}/2'::sparsevec = '{}/2';
SELECT sparsevec_cmp('{1:1,2:2,3:3}/3', '{1:1,2:2,3:3}/3');
SELECT sparsevec_cmp('{1:1,2:2,3:3}/3', '{}/3');
SELECT sparsevec_cmp('{}/3', '{1:1,2:2,3:3}/3');
SELECT sparsevec_cmp('{1:1,2:2}/2', '{1:1,2:2,3:3}/3');
SELECT sparsevec_cmp('{1:1,2:2,3:3}/3', '{1:1,2:2}/2');
SELECT sparsevec_cmp('{1:1,2:2}/2', '{1:2,2:3,3:4}/3');
SELECT sparsevec_cmp('{1:2,2:3}/2', '{1:1,2:2,3:3}/3');
SELECT sparsevec_cmp('{1:-1}/3', '{}/3'), sparsevec_cmp('{}/3', '{1:-1}/3');
SELECT sparsevec_cmp('{3:-1}/3', '{}/2'), sparsevec_cmp('{1:1,2:-1}/3', '{1:1}/2');
SELECT '{1:1}/2'::sparsevec < NULL;

-- ordering of a set and the btree opclass; dense equivalents in comments
CREATE TABLE sparsevec_btree (id int, v sparsevec);
INSERT INTO sparsevec_btree VALUES
	(1, '{}/1'),          -- [0]
	(2, '{1:-1}/1'),      -- [-1]
	(3, '{1:1}/1'),       -- [1]
	(4, '{}/2'),          -- [0,0]
	(5, '{2:1}/2'),       -- [0,1]
	(6, '{2:-1}/2'),      -- [0,-1]
	(7, '{1:1,2:1}/2'),   -- [1,1]
	(8, '{1:1}/3'),       -- [1,0,0]
	(9, '{3:-5}/3'),      -- [0,0,-5]
	(10, NULL);
SELECT id, v FROM sparsevec_btree ORDER BY v, id;
CREATE INDEX ON sparsevec_btree (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sparsevec_btree WHERE v = '{2:1}/2';
SELECT id FROM sparsevec_btree WHERE v = '{2:1}/2';
SELECT id FROM sparsevec_btree WHERE v < '{}/2' ORDER BY v;
SELECT id FROM sparsevec_btree WHERE v >= '{1:1}/1' ORDER BY v;
SELECT id FROM sparsevec_btree WHERE v IS NULL;
RESET enable_seqscan;
DROP TABLE sparsevec_btree;

-- casts: sparsevec <-> vector (the vector is checked through its size and a round trip)
SELECT pg_column_size('{1:1.5,3:-2}/3'::sparsevec::vector);
SELECT '{1:1.5,3:-2}/3'::sparsevec::vector::sparsevec;
SELECT '{}/3'::sparsevec::vector::sparsevec;
SELECT '{16000:1}/16000'::sparsevec::vector::sparsevec;
SELECT sparsevec_to_vector('{1:1}/3', 3, false)::sparsevec(3);
SELECT sparsevec_to_vector('{1:1}/3', 2, false);
SELECT '{1:1}/3'::sparsevec::vector::sparsevec(2);
SELECT '{}/16001'::sparsevec::vector;
SELECT NULL::sparsevec::vector::sparsevec;

-- casts: sparsevec <-> halfvec; 0.1 is 0.0999755859375 in half precision,
-- 65504 is the largest half, 65520 rounds to infinity, 1e-8 rounds to zero
SELECT pg_column_size('{1:1.5,3:-2}/3'::sparsevec::halfvec);
SELECT '{1:1.5,3:-2}/3'::sparsevec::halfvec::sparsevec;
SELECT '{1:0.1,2:65504,3:-65504}/3'::sparsevec::halfvec::sparsevec;
SELECT '{1:1e-8,2:1}/2'::sparsevec::halfvec::sparsevec;
-- -1e-8 becomes a negative zero half, which is not stored either
SELECT '{1:-1e-8,2:1}/2'::sparsevec::halfvec::sparsevec;
SELECT '{1:6e-8}/1'::sparsevec::halfvec::sparsevec;
SELECT '{1:65520}/1'::sparsevec::halfvec;
SELECT '{1:-1e20}/1'::sparsevec::halfvec;
SELECT sparsevec_to_halfvec('{1:1}/3', 3, false)::sparsevec(3);
SELECT sparsevec_to_halfvec('{1:1}/3', 2, false);
SELECT vector_to_sparsevec('{1:1}/3'::sparsevec::vector, 3, false);
SELECT vector_to_sparsevec('{1:1}/3'::sparsevec::vector, 2, false);
SELECT halfvec_to_sparsevec('{1:1}/3'::sparsevec::halfvec, 3, false);
SELECT halfvec_to_sparsevec('{1:1}/3'::sparsevec::halfvec, 2, false);
SELECT '{1:1}/3'::sparsevec::halfvec::sparsevec(2);
SELECT '{}/16001'::sparsevec::halfvec;
SELECT NULL::sparsevec::halfvec::sparsevec;

-- casts: arrays -> sparsevec (integer, real, double precision, numeric)
SELECT ARRAY[1,0,2]::sparsevec;
SELECT ARRAY[1.5,0,-2.5]::real[]::sparsevec;
SELECT '{0,0,3}'::float8[]::sparsevec;
SELECT ARRAY[0.5,0,0]::numeric[]::sparsevec;
SELECT ARRAY[1.0,2.0,3.0]::sparsevec;
SELECT '{0,0}'::int[]::sparsevec;
SELECT '{-0}'::real[]::sparsevec;
SELECT '[0:2]={1,0,2}'::int[]::sparsevec;
SELECT '{1,2,3}'::real[]::sparsevec(3);
SELECT '{1,2,3}'::real[]::sparsevec(2);
SELECT '{1,2,3}'::numeric[]::sparsevec(2);
SELECT '{NULL}'::real[]::sparsevec;
SELECT '{1,NULL}'::int[]::sparsevec;
SELECT '{NaN}'::real[]::sparsevec;
SELECT '{Infinity}'::real[]::sparsevec;
SELECT '{-Infinity}'::float8[]::sparsevec;
SELECT '{NaN}'::numeric[]::sparsevec;
SELECT '{}'::real[]::sparsevec;
SELECT '{{1}}'::real[]::sparsevec;
SELECT '{4e38,-4e38}'::float8[]::sparsevec;
SELECT '{1e-46,-1e-46}'::float8[]::sparsevec;
-- at most 16000 non-zero elements from an array (zeros do not count)
SELECT vector_dims(array_fill(1::real, ARRAY[16000])::sparsevec::vector);
SELECT array_fill(0::real, ARRAY[20000])::sparsevec::text = '{}/20000';
DO $$
BEGIN
	PERFORM array_fill(1::real, ARRAY[16001])::sparsevec;
EXCEPTION WHEN others THEN
	RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END
$$;
DO $$
BEGIN
	PERFORM array_fill(2, ARRAY[16001])::sparsevec;
EXCEPTION WHEN others THEN
	RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END
$$;
SELECT '{1e39}'::numeric[]::sparsevec;
SELECT array_agg(CASE WHEN i IN (1, 20000) THEN i ELSE 0 END ORDER BY i)::sparsevec FROM generate_series(1, 20000) i;
SELECT array_to_sparsevec(ARRAY[1,2,3], 3, false);
SELECT NULL::int[]::sparsevec;
CREATE TABLE sparsevec_assign (v sparsevec(3));
INSERT INTO sparsevec_assign VALUES (ARRAY[0,1,0]), ('{0,0,2.5}'::real[]), ('{3,0,0}'::float8[]);
INSERT INTO sparsevec_assign VALUES (ARRAY[1,2]);
SELECT v FROM sparsevec_assign ORDER BY v;
DROP TABLE sparsevec_assign;
