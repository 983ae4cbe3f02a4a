-- rewind.sql -- the catalog of every earlier release, described as what each
-- release changed, newest first (test only: read by make_bases.pl).
--
-- A line "-- @ V" starts the section that turns the state of the release
-- after V into the state of V. The base install script of V is the current
-- sql/vector.sql followed by every section from the top down to V's own;
-- TAP 050 creates the extension from it, updates it, and compares the
-- catalog with a fresh install. Sections starting "-- @ ours-" are applied
-- to sql/vector.sql alone (our own earlier 0.8.1 installs), after "-- @@".
--
-- The facts come from pgvector's install and update scripts of each release.

-- @ 0.8.5
-- pgvector 0.8.0 to 0.8.5 have the catalog of 0.8.6 (empty update scripts),
-- without our additions: diskann, the vx_* checks, and our comment.
DROP ACCESS METHOD diskann CASCADE;
DROP FUNCTION diskannhandler(internal);
DROP FUNCTION vx_hnsw_verify(regclass, float8);
DROP FUNCTION vx_diskann_verify(regclass, float8);
DROP FUNCTION IF EXISTS vx_ivfflat_verify(regclass);
COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';
-- @ 0.8.4
-- @ 0.8.3
-- @ 0.8.2
-- @ 0.8.1
-- @ 0.8.0
-- @ 0.7.4
-- 0.8.0 added the casts from arrays to sparsevec.
DROP CAST (integer[] AS sparsevec);
DROP CAST (real[] AS sparsevec);
DROP CAST (double precision[] AS sparsevec);
DROP CAST (numeric[] AS sparsevec);
DROP FUNCTION array_to_sparsevec(integer[], integer, boolean);
DROP FUNCTION array_to_sparsevec(real[], integer, boolean);
DROP FUNCTION array_to_sparsevec(double precision[], integer, boolean);
DROP FUNCTION array_to_sparsevec(numeric[], integer, boolean);
-- @ 0.7.3
-- @ 0.7.2
-- @ 0.7.1
-- @ 0.7.0
-- @ 0.6.2
-- 0.7.0 added halfvec, sparsevec, bit distances and their index support,
-- L1 for hnsw, and binary_quantize, subvector, l2_normalize, || for vector.
DROP OPERATOR FAMILY halfvec_l2_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY halfvec_ip_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY halfvec_cosine_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY halfvec_l1_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY sparsevec_l2_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY sparsevec_ip_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY sparsevec_cosine_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY sparsevec_l1_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY bit_hamming_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY bit_jaccard_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY vector_l1_ops USING hnsw CASCADE;
DROP OPERATOR FAMILY halfvec_ops USING btree CASCADE;
DROP OPERATOR FAMILY sparsevec_ops USING btree CASCADE;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_am WHERE amname = 'ivfflat') THEN
		DROP OPERATOR FAMILY halfvec_l2_ops USING ivfflat CASCADE;
		DROP OPERATOR FAMILY halfvec_ip_ops USING ivfflat CASCADE;
		DROP OPERATOR FAMILY halfvec_cosine_ops USING ivfflat CASCADE;
		DROP OPERATOR FAMILY bit_hamming_ops USING ivfflat CASCADE;
	END IF;
END
$$;
DROP TYPE halfvec CASCADE;
DROP TYPE sparsevec CASCADE;
-- (functions that do not take or return the types are not cascaded)
DROP FUNCTION halfvec_typmod_in(cstring[]);
DROP FUNCTION sparsevec_typmod_in(cstring[]);
DROP FUNCTION halfvec_combine(double precision[], double precision[]);
DROP OPERATOR <~> (bit, bit);
DROP OPERATOR <%> (bit, bit);
DROP FUNCTION hamming_distance(bit, bit);
DROP FUNCTION jaccard_distance(bit, bit);
DROP FUNCTION hnsw_halfvec_support(internal);
DROP FUNCTION hnsw_bit_support(internal);
DROP FUNCTION hnsw_sparsevec_support(internal);
DROP FUNCTION IF EXISTS ivfflat_halfvec_support(internal);
DROP FUNCTION IF EXISTS ivfflat_bit_support(internal);
DROP OPERATOR <+> (vector, vector);
DROP OPERATOR || (vector, vector);
DROP FUNCTION vector_concat(vector, vector);
DROP FUNCTION binary_quantize(vector);
DROP FUNCTION subvector(vector, integer, integer);
DROP FUNCTION l2_normalize(vector);
-- @ 0.6.1
-- @ 0.6.0
-- 0.6.1 took away the commutator of vector - vector.
UPDATE pg_catalog.pg_operator SET oprcom = oid WHERE oid = '-(vector,vector)'::regoperator;
-- @ 0.5.1
-- 0.6.0 changed vector's storage from extended to external.
ALTER TYPE vector SET (STORAGE = extended);
-- @ 0.5.0
-- @ 0.4.4
-- 0.5.0 added hnsw, l1_distance, element-wise multiplication and sum.
DROP ACCESS METHOD hnsw CASCADE;
DROP FUNCTION hnswhandler(internal);
DROP AGGREGATE sum(vector);
DROP OPERATOR * (vector, vector);
DROP FUNCTION vector_mul(vector, vector);
DROP FUNCTION l1_distance(vector, vector);
-- @ 0.4.3
-- @ 0.4.2
-- @ 0.4.1
-- @ 0.4.0
-- @ 0.3.2
-- 0.4.0 added avg and changed storage from plain to extended (ALTER TYPE
-- cannot go back to plain).
DROP AGGREGATE avg(vector);
DROP FUNCTION vector_accum(double precision[], vector);
DROP FUNCTION vector_avg(double precision[]);
DROP FUNCTION vector_combine(double precision[], double precision[]);
UPDATE pg_catalog.pg_type SET typstorage = 'p' WHERE oid = 'vector'::regtype;
-- @ 0.3.1
-- @ 0.3.0
-- @ 0.2.7
-- @ 0.2.6
-- @ 0.2.5
-- @ 0.2.4
-- @ 0.2.3
-- @ 0.2.2
-- @ 0.2.1
-- @ 0.2.0
-- 0.2.1 made the casts from arrays assignment casts; they were implicit.
DROP CAST (integer[] AS vector);
DROP CAST (real[] AS vector);
DROP CAST (double precision[] AS vector);
DROP CAST (numeric[] AS vector);
CREATE CAST (integer[] AS vector) WITH FUNCTION array_to_vector(integer[], integer, boolean) AS IMPLICIT;
CREATE CAST (real[] AS vector) WITH FUNCTION array_to_vector(real[], integer, boolean) AS IMPLICIT;
CREATE CAST (double precision[] AS vector) WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS IMPLICIT;
CREATE CAST (numeric[] AS vector) WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS IMPLICIT;
-- @ 0.1.8
-- @ 0.1.7
-- 0.1.8 added the cast from vector to real[].
DROP CAST (vector AS real[]);
DROP FUNCTION vector_to_float4(vector, integer, boolean);
-- @ 0.1.6
-- 0.1.7 added the cast from numeric[].
DROP CAST (numeric[] AS vector);
DROP FUNCTION array_to_vector(numeric[], integer, boolean);
-- @ 0.1.5
-- @ 0.1.4
-- @ 0.1.3
-- @ 0.1.2
-- @ 0.1.1
-- @ 0.1.0
-- 0.1.1 added the binary format and marked the functions PARALLEL SAFE.
ALTER TYPE vector SET (RECEIVE = NONE, SEND = NONE);
DROP FUNCTION vector_recv(internal, oid, integer);
DROP FUNCTION vector_send(vector);
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
			AND d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vector')
			WHERE p.proparallel = 's' LOOP
		EXECUTE format('ALTER FUNCTION %s PARALLEL UNSAFE', f);
	END LOOP;
END
$$;
-- @@
-- @ ours-d
-- our 0.8.1 as of the diskann label opclass: no ivfflat, pgvector's comment.
COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';
DROP ACCESS METHOD IF EXISTS ivfflat CASCADE;
DROP FUNCTION IF EXISTS ivfflathandler(internal);
DROP FUNCTION IF EXISTS ivfflat_halfvec_support(internal);
DROP FUNCTION IF EXISTS ivfflat_bit_support(internal);
DROP FUNCTION IF EXISTS vx_ivfflat_verify(regclass);
-- @ ours-c
-- our 0.8.1 before the label opclass.
DROP OPERATOR FAMILY vector_smallint_label_ops USING diskann CASCADE;
-- @ ours-b
-- our 0.8.1 before diskann: vx_hnsw_verify's second parameter had another name.
DROP ACCESS METHOD diskann CASCADE;
DROP FUNCTION diskannhandler(internal);
DROP FUNCTION vx_diskann_verify(regclass, float8);
DROP FUNCTION vx_hnsw_verify(regclass, float8);
CREATE FUNCTION vx_hnsw_verify(index regclass, max_unreachable float8 DEFAULT 0.01) RETURNS TABLE (problem text)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION vx_hnsw_verify(regclass, float8) IS 'structural check of an hnsw index: one row per problem, none when healthy';
-- @ ours-a
-- our first 0.8.1: no verify function.
DROP FUNCTION vx_hnsw_verify(regclass, float8);
