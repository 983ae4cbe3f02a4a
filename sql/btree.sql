-- btree indexes on vector and halfvec (vector_ops, halfvec_ops)
-- order: element by element, then the shorter vector first; -0 equals 0

CREATE TABLE bt_v (id int, v vector);
INSERT INTO bt_v VALUES
	(1, '[1,2,3]'), (2, '[1,2]'), (3, '[1,3]'), (4, '[0,9,9,9]'), (5, '[-1]'), (6, '[1,2,3]'),
	(7, '[-0,1]'), (8, '[0,1]'), (9, '[1,2,3,0]'), (10, NULL), (11, '[-1,-2]'), (12, '[1.5]');

-- sort without an index
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT id, v FROM bt_v ORDER BY v, id;
SELECT id, v FROM bt_v ORDER BY v DESC NULLS LAST, id;
RESET enable_bitmapscan;
RESET enable_indexscan;

CREATE INDEX ON bt_v (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM bt_v WHERE v = '[1,2,3]';
SELECT id FROM bt_v WHERE v = '[1,2,3]' ORDER BY id;
SELECT id FROM bt_v WHERE v = '[0,1]' ORDER BY id;
SELECT id FROM bt_v WHERE v = '[1,2,3,0,0]' ORDER BY id;
SELECT id, v FROM bt_v WHERE v < '[1,2,3]' ORDER BY v, id;
SELECT id, v FROM bt_v WHERE v >= '[1,2,3]' ORDER BY v, id;
SELECT id, v FROM bt_v WHERE v > '[0,1]' AND v <= '[1,2]' ORDER BY v, id;
SELECT id, v FROM bt_v WHERE v <> '[1,2,3]' AND v < '[1]' ORDER BY v, id;
EXPLAIN (COSTS OFF) SELECT v FROM bt_v ORDER BY v;
SELECT id, v FROM bt_v ORDER BY v, id;
RESET enable_seqscan;

-- unique index: -0 and 0 are the same key
CREATE UNIQUE INDEX bt_v_unique ON bt_v (v) WHERE id IN (7, 8);
CREATE TABLE bt_u (v vector PRIMARY KEY);
INSERT INTO bt_u VALUES ('[0,1]'), ('[0,1,0]');
INSERT INTO bt_u VALUES ('[-0,1]');
INSERT INTO bt_u VALUES ('[1,2]') ON CONFLICT (v) DO NOTHING;
INSERT INTO bt_u VALUES ('[1,2]') ON CONFLICT (v) DO NOTHING;
SELECT v FROM bt_u ORDER BY v;

-- many rows; the order agrees with real[] order (arrays also compare
-- element by element, then by length)
CREATE TABLE bt_many (v vector);
INSERT INTO bt_many SELECT ARRAY[i % 7, i % 5, i % 3]::vector FROM generate_series(1, 1000) i;
INSERT INTO bt_many SELECT ARRAY[i % 7, i % 5]::vector FROM generate_series(1, 100) i;
CREATE INDEX ON bt_many (v);
SET enable_seqscan = off;
SELECT count(*) FROM bt_many WHERE v = '[3,2,1]';
SELECT count(*) FROM bt_many WHERE v = '[3,2]';
SELECT count(*) FROM bt_many WHERE v < '[1]';
RESET enable_seqscan;
SELECT count(*) FROM bt_many WHERE v = '[3,2,1]';
WITH a AS (SELECT v, row_number() OVER (ORDER BY v) AS r FROM bt_many),
	b AS (SELECT v, row_number() OVER (ORDER BY v::real[]) AS r FROM bt_many)
SELECT count(*) FILTER (WHERE a.v = b.v) AS agree, count(*) AS total FROM a JOIN b USING (r);

-- halfvec
CREATE TABLE bt_h (id int, v halfvec);
INSERT INTO bt_h VALUES
	(1, '[1,2,3]'), (2, '[1,2]'), (3, '[1,3]'), (4, '[0,9,9,9]'), (5, '[-1]'), (6, '[1,2,3]'),
	(7, '[-0,1]'), (8, '[0,1]'), (9, '[1.0001,2]'), (10, NULL), (11, '[-1,-2]'), (12, '[65504]');
SELECT id, v FROM bt_h ORDER BY v, id;
CREATE INDEX ON bt_h (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM bt_h WHERE v = '[1,2]';
-- '[1.0001,2]' was rounded to '[1,2]' on input
SELECT id FROM bt_h WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM bt_h WHERE v = '[0,1]' ORDER BY id;
SELECT id, v FROM bt_h WHERE v > '[1,2]' ORDER BY v, id;
SELECT id, v FROM bt_h ORDER BY v DESC NULLS FIRST, id;
RESET enable_seqscan;

DROP TABLE bt_v, bt_u, bt_many, bt_h;
