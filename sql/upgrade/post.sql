-- After the convergence: operator properties that pgvector changed in place.

-- vector - vector was marked as its own commutator before pgvector 0.6.1
-- (subtraction does not commute). No pg_depend rows hang on a commutator.
DO $do$
BEGIN
	UPDATE pg_catalog.pg_operator SET oprcom = 0
		WHERE oid = pg_catalog.to_regoperator('-(vector,vector)') AND oprcom <> 0;
END
$do$;
