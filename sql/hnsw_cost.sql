-- Plans of hnsw with a bound on the ORDER BY distance: the index returns rows
-- nearest first, so `WHERE v <-> q < r ORDER BY v <-> q LIMIT k` must use it
-- (as pgvector's planner does); a selective filter on another column still
-- gets an exact plan.
SET jit = off;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE hc (id int PRIMARY KEY, c int, v vector(3));
INSERT INTO hc SELECT i, i % 1000, ARRAY[(i * 7919) % 1000, (i * 104729) % 997, (i * 1299709) % 991]::real[]::vector
	FROM generate_series(1::bigint, 20000) i;
CREATE INDEX hc_v ON hc USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
CREATE INDEX hc_v_cos ON hc USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 8);
CREATE INDEX hc_c ON hc (c);
ANALYZE hc;
-- no bound: the index
EXPLAIN (COSTS OFF) SELECT id FROM hc ORDER BY v <-> '[500,500,500]' LIMIT 20;
-- a bound that removes few rows, LIMIT below and above ef_search
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <-> '[500,500,500]' < 800 ORDER BY v <-> '[500,500,500]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <-> '[500,500,500]' < 800 ORDER BY v <-> '[500,500,500]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <-> '[500,500,500]' <= 800 ORDER BY v <-> '[500,500,500]' LIMIT 100;
-- the bound written the other way round, and on the cosine distance
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE 800 > v <-> '[500,500,500]' ORDER BY v <-> '[500,500,500]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <=> '[1,2,3]' < 0.5 ORDER BY v <=> '[1,2,3]' LIMIT 20;
-- the rows are right: the same as without the index
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hc WHERE v <-> '[500,500,500]' < 100 ORDER BY v <-> '[500,500,500]' LIMIT 20) s;
RESET enable_seqscan;
-- a bound on another vector's distance is an ordinary filter
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <-> '[1,1,1]' < 800 ORDER BY v <-> '[500,500,500]' LIMIT 20;
-- a selective filter on another column keeps its exact plan, bound or not
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE c = 7 ORDER BY v <-> '[500,500,500]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE c = 7 AND v <-> '[500,500,500]' < 800 ORDER BY v <-> '[500,500,500]' LIMIT 20;
-- no ORDER BY: never the index
EXPLAIN (COSTS OFF) SELECT id FROM hc WHERE v <-> '[500,500,500]' < 10;
DROP TABLE hc;
