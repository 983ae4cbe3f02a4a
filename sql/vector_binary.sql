-- vector binary send/receive
-- format: int16 dim, int16 unused (0), dim x float4, all big-endian

SELECT vector_send('[1,2,3]');
SELECT vector_send('[-0,1.5,-2]');
SELECT vector_send('[3.4028235e38,1e-45]');

-- binary COPY round trip, including NULL, extreme floats and 16000 dimensions
CREATE TABLE vbin_src (id int, v vector);
INSERT INTO vbin_src VALUES
	(1, '[1,2,3]'), (2, NULL), (3, '[-0,0.1,3.4028235e38,-1e-45,1.17549435e-38]'),
	(4, array_fill(0.5, ARRAY[16000])::vector), (5, '[7]');
CREATE TABLE vbin_dst (LIKE vbin_src);

-- copy_binary_roundtrip(src, dst): COPY src TO a server file in binary, then
-- COPY it FROM there into dst (a file in the temporary instance's data directory)
CREATE FUNCTION copy_binary_roundtrip(src regclass, dst regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('data_directory') || '/vector_binary_roundtrip.bin';
BEGIN
	EXECUTE format('COPY %s TO %L (FORMAT binary)', src, path);
	EXECUTE format('COPY %s FROM %L (FORMAT binary)', dst, path);
END
$$;
SELECT copy_binary_roundtrip('vbin_src', 'vbin_dst');
SELECT id, s.v IS NOT DISTINCT FROM d.v AS same, s.v::text IS NOT DISTINCT FROM d.v::text AS same_text, vector_dims(d.v)
FROM vbin_src s JOIN vbin_dst d USING (id) ORDER BY id;

-- the bytes a binary COPY writes for one vector: signature, flags, header
-- extension, then a tuple of 1 field (int32 length 16, vector_send's bytes),
-- then the -1 trailer
CREATE FUNCTION copy_binary_bytes(value vector) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('data_directory') || '/vector_binary_bytes.bin';
BEGIN
	EXECUTE format('COPY (SELECT %L::vector) TO %L (FORMAT binary)', value, path);
	RETURN encode(pg_read_binary_file(path), 'hex');
END
$$;
SELECT copy_binary_bytes('[1,2,3]');

-- recv_as(target, hex): binary COPY the given bytes as the single field of
-- one row into target (a table with one column v); returns the stored text
-- or the error's SQLSTATE and message. The bytes are written to the file
-- by binary COPY of a bytea value, whose send form is the raw bytes.
CREATE TABLE vbin_raw (b bytea);
CREATE FUNCTION recv_as(target regclass, hex text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	path text := current_setting('data_directory') || '/vector_binary_recv.bin';
	result text;
BEGIN
	DELETE FROM vbin_raw;
	INSERT INTO vbin_raw VALUES (decode(hex, 'hex'));
	EXECUTE format('COPY vbin_raw TO %L (FORMAT binary)', path);
	EXECUTE format('DELETE FROM %s', target);
	EXECUTE format('COPY %s FROM %L (FORMAT binary)', target, path);
	EXECUTE format('SELECT v::text FROM %s', target) INTO result;
	RETURN result;
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE TABLE vrecv (v vector);
CREATE TABLE vrecv3 (v vector(3));

-- well-formed input
SELECT recv_as('vrecv', '000200003f80000040000000');
SELECT recv_as('vrecv', '0001000080000000');
SELECT recv_as('vrecv3', '000300003f8000004000000040400000');
SELECT recv_as('vrecv', '0001000000000001');

-- dimensions: zero, over the limit (the field is unsigned: 0xffff and 0x8000
-- are too many, as in pgvector 0.8.6), not matching the typmod
SELECT recv_as('vrecv', '00000000');
SELECT recv_as('vrecv', 'ffff0000');
SELECT recv_as('vrecv', '8000000000000000');
SELECT recv_as('vrecv', '3e810000');
SELECT recv_as('vrecv3', '000200003f80000040000000');

-- unused must be 0 (checked after the dimensions, before the payload)
SELECT recv_as('vrecv', '000100013f800000');
SELECT recv_as('vrecv', '0001ffff3f800000');
SELECT recv_as('vrecv', '00010001');

-- payload shorter or longer than dim elements, truncated header
SELECT recv_as('vrecv', '000200003f800000');
SELECT recv_as('vrecv', '000200003f8000004000');
SELECT recv_as('vrecv', '00010000');
SELECT recv_as('vrecv', '0001');
SELECT recv_as('vrecv', '');
SELECT recv_as('vrecv', '000100003f80000000');

-- non-finite elements (the first bad element wins, even before a short payload)
SELECT recv_as('vrecv', '000100007fc00000');
SELECT recv_as('vrecv', '00010000ffc00001');
SELECT recv_as('vrecv', '000100007f800000');
SELECT recv_as('vrecv', '00020000ff8000007fc00000');
SELECT recv_as('vrecv', '000300007fc00000');

DROP FUNCTION copy_binary_roundtrip(regclass, regclass), copy_binary_bytes(vector), recv_as(regclass, text);
DROP TABLE vbin_src, vbin_dst, vbin_raw, vrecv, vrecv3;
