-- vector.simd_level: a debug setting that forces a lower kernel level.
-- Every level must give the same answers; the data are small integers, so
-- float32 sums are exact whatever the summation order.
CREATE TABLE simd_t (id int, v vector(37), h halfvec(37), b bit(300));
INSERT INTO simd_t
SELECT i,
       (SELECT array_agg(((i * 7 + j * 3) % 11) - 5)::vector FROM generate_series(1, 37) j),
       (SELECT array_agg(((i * 5 + j) % 9) - 4)::halfvec FROM generate_series(1, 37) j),
       (SELECT string_agg(((i * j) % 3 = 0)::int::text, '') FROM generate_series(1, 300) j)::bit(300)
FROM generate_series(1, 20) i;
CREATE TEMP TABLE simd_results (level text, id int, l2 float8, ip float8, cos float8, l1 float8,
                                hl2 float8, hip float8, hl1 float8, ham float8, jac float8);
CREATE FUNCTION simd_collect(lvl text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('vector.simd_level', lvl, true);
  INSERT INTO simd_results
  SELECT lvl, a.id, a.v <-> b.v, a.v <#> b.v, a.v <=> b.v, a.v <+> b.v,
         a.h <-> b.h, a.h <#> b.h, a.h <+> b.h, a.b <~> b.b, a.b <%> b.b
  FROM simd_t a, simd_t b WHERE b.id = 1;
END $$;
BEGIN;
SELECT simd_collect('scalar');
SELECT simd_collect('baseline');
SELECT simd_collect('avx2');
SELECT simd_collect('avx512');
COMMIT;
-- the setting is accepted and shows the requested level or a lower one the CPU has
SET vector.simd_level = scalar;
SHOW vector.simd_level;
RESET vector.simd_level;
SET vector.simd_level = fastest;
-- every level agrees with the scalar reference on every row and metric
SELECT count(*) AS rows_per_level FROM simd_results WHERE level = 'scalar';
SELECT r.level, count(*) AS mismatches
FROM simd_results r JOIN simd_results s ON s.level = 'scalar' AND s.id = r.id
WHERE (r.l2, r.ip, r.l1, r.hl2, r.hip, r.hl1, r.ham, r.jac) IS DISTINCT FROM
      (s.l2, s.ip, s.l1, s.hl2, s.hip, s.hl1, s.ham, s.jac)
   OR abs(r.cos - s.cos) > 1e-6
GROUP BY r.level ORDER BY r.level;
-- spot values checked by hand: row 1 against itself
SELECT l2, ip, l1, ham, jac FROM simd_results WHERE level = 'scalar' AND id = 1;
DROP FUNCTION simd_collect(text);
DROP TABLE simd_t;
