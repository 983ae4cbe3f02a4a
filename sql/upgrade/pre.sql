-- Before the convergence: objects whose identity the statements below cannot
-- fix in place.

-- vx_hnsw_verify's second parameter was called max_unreachable in our first
-- 0.8.1 installs; CREATE OR REPLACE cannot rename a parameter.
DO $do$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_depend d
			ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e'
			JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
			WHERE p.proname = 'vx_hnsw_verify' AND p.proargnames[2] IS DISTINCT FROM 'tolerance') THEN
		DROP FUNCTION vx_hnsw_verify(regclass, float8);
	END IF;
END
$do$;
