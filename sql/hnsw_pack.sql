-- hnsw vector slots packed across page boundaries (src/hnsw/README.md,
-- Geometry): a group's slots form one byte stream over its vector pages, so
-- a slot may straddle two or more pages. Sizes are checked against page
-- counts computed by hand from the layout (8,160 usable bytes a page; a slot
-- is a 4-byte version plus the datum: 8 header bytes and the elements), and
-- every index must give the exact answer (ef_search above the row count:
-- the search is exhaustive) before and after inserts, deletes, VACUUM and
-- the reuse of freed ids, with vx_hnsw_verify finding nothing.
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;

-- deterministic rows: element j of row i
CREATE FUNCTION pack_vec(i int, d int) RETURNS real[]
	LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg(sin(i * 0.37 + j * 1.3 + (i % 7))::real ORDER BY j) FROM generate_series(1, d) j $$;

-- whether the index gives the exact 10 nearest ids (by l2) for 5 queries
CREATE FUNCTION pack_exact(tab regclass, col text, typ text, d int) RETURNS TABLE (q int, same_order bool)
	LANGUAGE plpgsql AS $$
DECLARE
	knn text := format('SELECT array_agg(id ORDER BY n) FROM (SELECT id, row_number() OVER () AS n FROM '
		'(SELECT id FROM %s ORDER BY %I <-> pack_vec($1, %s)::%s %%s LIMIT 10) s) s', tab, col, d, typ);
	approx int[];
	exact int[];
BEGIN
	FOR i IN 1000 .. 1004 LOOP
		q := i;
		PERFORM set_config('enable_seqscan', 'off', true);
		PERFORM set_config('enable_indexscan', 'on', true);
		EXECUTE format(knn, '') INTO approx USING i;
		PERFORM set_config('enable_seqscan', 'on', true);
		PERFORM set_config('enable_indexscan', 'off', true);
		EXECUTE format(knn, ', id') INTO exact USING i;
		same_order := approx = exact;
		RETURN NEXT;
	END LOOP;
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_indexscan', 'on', true);
END $$;

-- 256 floats: slots of 4 + 8 + 1024 = 1036 bytes, 55 records a group, the
-- 55 slots packed over ceil(55 * 1036 / 8160) = 7 vector pages (whole slots,
-- 7 a page, would need 8), so every 7th or 8th slot straddles two pages.
-- 55 rows: metapage, upper page, graph page, 7 vector pages = 10 pages.
CREATE TABLE p256 (id int, v vector(256));
INSERT INTO p256 SELECT i, pack_vec(i, 256) FROM generate_series(1, 55) i;
CREATE INDEX p256_l2 ON p256 USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('p256_l2') / 8192 AS pages;
-- the 56th element opens a second group: its graph page and one vector page
INSERT INTO p256 VALUES (56, pack_vec(56, 256));
SELECT pg_relation_size('p256_l2') / 8192 AS pages;
-- 40 more by insert: the 41 slots of group 2 take 41 * 1036 = 42,476 bytes,
-- 6 vector pages: 17 pages
INSERT INTO p256 SELECT i, pack_vec(i, 256) FROM generate_series(57, 96) i;
SELECT pg_relation_size('p256_l2') / 8192 AS pages;
SELECT * FROM pack_exact('p256', 'v', 'vector', 256);
-- cosine and inner product read the same slots through the same split kernels
CREATE INDEX p256_cos ON p256 USING hnsw (v vector_cosine_ops);
CREATE INDEX p256_ip ON p256 USING hnsw (v vector_ip_ops);
CREATE INDEX p256_l1 ON p256 USING hnsw (v vector_l1_ops);
SELECT (SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY v <=> pack_vec(1001, 256)::vector LIMIT 10) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY 1 - (v <=> pack_vec(1001, 256)::vector) DESC, id
		LIMIT 10) s) AS cosine_exact;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY v <#> pack_vec(1001, 256)::vector LIMIT 10) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY -(v <#> pack_vec(1001, 256)::vector) DESC, id
		LIMIT 10) s) AS ip_exact;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY v <+> pack_vec(1001, 256)::vector LIMIT 10) s) =
	(SELECT array_agg(id) FROM (SELECT id FROM p256 ORDER BY -(v <+> pack_vec(1001, 256)::vector) DESC, id
		LIMIT 10) s) AS l1_exact;
-- delete a third (straddling slots among them), VACUUM, insert as many again: ids are reused, nothing grows
DELETE FROM p256 WHERE id % 3 = 0;
VACUUM p256;
SELECT pg_relation_size('p256_l2') AS size_before \gset
INSERT INTO p256 SELECT i, pack_vec(i, 256) FROM generate_series(2001, 2032) i;
SELECT pg_relation_size('p256_l2') = :size_before AS space_reused;
SELECT * FROM pack_exact('p256', 'v', 'vector', 256);
SELECT c.relname, p FROM pg_class c CROSS JOIN LATERAL vx_hnsw_verify(c.oid, 0) p
	WHERE c.relname LIKE 'p256%' AND c.relkind = 'i';

-- halfvec(512): the same 1036-byte slots
CREATE TABLE h512 (id int, v halfvec(512));
INSERT INTO h512 SELECT i, pack_vec(i, 512) FROM generate_series(1, 55) i;
CREATE INDEX h512_l2 ON h512 USING hnsw (v halfvec_l2_ops);
SELECT pg_relation_size('h512_l2') / 8192 AS pages;
INSERT INTO h512 SELECT i, pack_vec(i, 512) FROM generate_series(56, 80) i;
SELECT * FROM pack_exact('h512', 'v', 'halfvec', 512);
SELECT * FROM vx_hnsw_verify('h512_l2', 0);

-- 2,000 floats: slots of 8,012 bytes; packing would save nothing (a page
-- holds one slot either way), so slots stay whole, one per page:
-- 10 rows = metapage, upper, graph and 10 vector pages = 13 pages
CREATE TABLE p2000 (id int, v vector(2000));
INSERT INTO p2000 SELECT i, pack_vec(i, 2000) FROM generate_series(1, 10) i;
CREATE INDEX p2000_l2 ON p2000 USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('p2000_l2') / 8192 AS pages;
INSERT INTO p2000 SELECT i, pack_vec(i, 2000) FROM generate_series(11, 30) i;
SELECT * FROM pack_exact('p2000', 'v', 'vector', 2000);
SELECT * FROM vx_hnsw_verify('p2000_l2', 0);

-- 2,040 floats: slots of 8,172 bytes, just over a page: packed, nearly
-- every slot straddles two pages (slot i starts at byte 12 * i of page i);
-- 10 rows take ceil(10 * 8172 / 8160) = 11 vector pages: 14 pages
CREATE TABLE p2040 (id int, v vector(2040));
INSERT INTO p2040 SELECT i, pack_vec(i, 2040) FROM generate_series(1, 10) i;
CREATE INDEX p2040_l2 ON p2040 USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('p2040_l2') / 8192 AS pages;
INSERT INTO p2040 SELECT i, pack_vec(i, 2040) FROM generate_series(11, 30) i;
SELECT * FROM pack_exact('p2040', 'v', 'vector', 2040);
DELETE FROM p2040 WHERE id % 4 = 1;
VACUUM p2040;
SELECT pg_relation_size('p2040_l2') AS size_before \gset
INSERT INTO p2040 SELECT i, pack_vec(i, 2040) FROM generate_series(101, 108) i;
SELECT pg_relation_size('p2040_l2') = :size_before AS space_reused;
SELECT * FROM pack_exact('p2040', 'v', 'vector', 2040);
SELECT * FROM vx_hnsw_verify('p2040_l2', 0);

-- 16,000 floats (the limit): slots of 64,012 bytes over 8 or 9 pages;
-- 3 rows take ceil(3 * 64012 / 8160) = 24 vector pages: 27 pages. An insert
-- writes the pages beyond the first 3 of a slot before the element's record.
CREATE TABLE p16k (id int, v vector(16000));
INSERT INTO p16k SELECT i, pack_vec(i, 16000) FROM generate_series(1, 3) i;
CREATE INDEX p16k_l2 ON p16k USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('p16k_l2') / 8192 AS pages;
INSERT INTO p16k SELECT i, pack_vec(i, 16000) FROM generate_series(4, 12) i;
SELECT * FROM pack_exact('p16k', 'v', 'vector', 16000);
DELETE FROM p16k WHERE id IN (2, 5, 9);
VACUUM p16k;
SELECT pg_relation_size('p16k_l2') AS size_before \gset
INSERT INTO p16k SELECT i, pack_vec(i, 16000) FROM generate_series(13, 15) i;
SELECT pg_relation_size('p16k_l2') = :size_before AS space_reused;
SELECT * FROM pack_exact('p16k', 'v', 'vector', 16000);
SELECT * FROM vx_hnsw_verify('p16k_l2', 0);
-- a halfvec of 16,000 dimensions: 32,012-byte slots over 4 or 5 pages
CREATE TABLE h16k (id int, v halfvec(16000));
INSERT INTO h16k SELECT i, pack_vec(i, 16000) FROM generate_series(1, 8) i;
CREATE INDEX h16k_l2 ON h16k USING hnsw (v halfvec_l2_ops);
INSERT INTO h16k SELECT i, pack_vec(i, 16000) FROM generate_series(9, 12) i;
SELECT * FROM pack_exact('h16k', 'v', 'halfvec', 16000);
SELECT * FROM vx_hnsw_verify('h16k_l2', 0);

-- bit slots are copied out when they straddle: bit(17000) has 2,140-byte
-- slots (4 + 8 + 2,125 bytes, rounded up to 4), packed: whole slots would
-- fit only 3 a page
CREATE TABLE b17k (id int, v bit(17000));
INSERT INTO b17k SELECT i, (SELECT string_agg(((sin(i * 0.37 + j * 1.3) > 0)::int)::text, '' ORDER BY j)
	FROM generate_series(1, 17000) j)::bit(17000) FROM generate_series(1, 30) i;
CREATE INDEX b17k_ham ON b17k USING hnsw (v bit_hamming_ops);
INSERT INTO b17k SELECT i, (SELECT string_agg(((sin(i * 0.37 + j * 1.3) > 0)::int)::text, '' ORDER BY j)
	FROM generate_series(1, 17000) j)::bit(17000) FROM generate_series(31, 45) i;
CREATE TEMP TABLE bq AS SELECT (SELECT string_agg(((cos(j * 0.7) > 0)::int)::text, '' ORDER BY j)
	FROM generate_series(1, 17000) j)::bit(17000) AS q;
CREATE TEMP TABLE bidx AS SELECT array_agg(id ORDER BY n) AS ids FROM (SELECT id, row_number() OVER () AS n FROM
	(SELECT id FROM b17k ORDER BY v <~> (SELECT q FROM bq) LIMIT 10) s) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE bexact AS SELECT array_agg(id ORDER BY n) AS ids FROM (SELECT id, row_number() OVER () AS n FROM
	(SELECT id FROM b17k ORDER BY v <~> (SELECT q FROM bq), id LIMIT 10) s) s;
RESET enable_indexscan;
SET enable_seqscan = off;
-- ties in hamming distance may come in any order: compare the distances
SELECT (SELECT array_agg(v <~> (SELECT q FROM bq) ORDER BY n) FROM unnest((SELECT ids FROM bidx)) WITH ORDINALITY u(id, n)
	JOIN b17k USING (id)) = (SELECT array_agg(v <~> (SELECT q FROM bq) ORDER BY n)
	FROM unnest((SELECT ids FROM bexact)) WITH ORDINALITY u(id, n) JOIN b17k USING (id)) AS same_distances;
SELECT * FROM vx_hnsw_verify('b17k_ham', 0);

DROP TABLE p256, h512, p2000, p2040, p16k, h16k, b17k, bq, bidx, bexact;
DROP FUNCTION pack_exact(regclass, text, text, int), pack_vec(int, int);
