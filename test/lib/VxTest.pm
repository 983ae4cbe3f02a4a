# VxTest.pm -- helpers shared by the TAP tests in test/t (loaded through
# tap.sh's -I test/lib).
#
# Test data is generated inside the database from a row number by plain SQL
# (a sin-based hash, uniform in [-4, 4), rounded to 3 decimals; sparse rows
# have about 20% non-zeros, at least one), so every run produces the same
# vectors, and only the extension's text input functions turn them
# into vector/halfvec/sparsevec values. The oracle helpers recompute
# distances in plain SQL from the values' text output, independently of the
# extension's distance kernels.
package VxTest;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT = qw(setup_sql table_sql fill_sql knn_sql l2_oracle_sql checksum_sql recall_function_sql);

# SQL that creates the extension and the deterministic data generators
# vx_dense(i, d) ('[...]' text) and vx_sparse(i, d) ('{i:v,...}/d' text;
# values in [1, 9), never zero).
sub setup_sql
{
	return q{
CREATE EXTENSION vector;
CREATE FUNCTION vx_hash(x float8) RETURNS float8
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (sin(x) * 43758.5453) - floor(sin(x) * 43758.5453) $$;
CREATE FUNCTION vx_dense(i bigint, d int) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT '[' || string_agg(round((vx_hash(i * 12.9898 + j * 78.233) * 8 - 4)::numeric, 3)::text, ',' ORDER BY j) || ']'
	FROM generate_series(1, d) j $$;
CREATE FUNCTION vx_sparse(i bigint, d int) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT '{' || string_agg(j || ':' || round((vx_hash(i * 39.346 + j * 11.135) * 8 + 1)::numeric, 3)::text, ',' ORDER BY j)
		|| '}/' || d
	FROM generate_series(1, d) j WHERE vx_hash(i * 7.77 + j * 3.31) < 0.2 OR j = 1 + i % d $$;
};
}

# CREATE TABLE for $table with dense dimension $d and sparse dimension $sd.
sub table_sql
{
	my ($table, $d, $sd) = @_;
	return "CREATE TABLE $table (id bigint PRIMARY KEY, embedding vector($d), half halfvec($d), sparse sparsevec($sd));";
}

# INSERT of generated rows $from..$to (the row number seeds the vectors).
sub fill_sql
{
	my ($table, $from, $to, $d, $sd) = @_;
	return "INSERT INTO $table SELECT i, vx_dense(i, $d)::vector, vx_dense(i, $d)::halfvec, vx_sparse(i, $sd)::sparsevec"
	  . " FROM generate_series($from, $to) i;";
}

# Exact k-NN: ids and distances of the $k rows nearest to the literal $q.
sub knn_sql
{
	my ($table, $col, $type, $op, $q, $k, $where) = @_;
	$where = defined $where ? "WHERE $where" : '';
	return "SELECT id, $col $op '$q'::$type FROM $table $where ORDER BY $col $op '$q'::$type LIMIT $k";
}

# Oracle for knn_sql's ids with <-> on the vector column: L2 recomputed in
# float8 from the values' text output, ties broken by id.
sub l2_oracle_sql
{
	my ($table, $q, $k) = @_;
	return qq{
SELECT string_agg(id::text, ',' ORDER BY dist, id) FROM (
	SELECT id, (SELECT sqrt(sum((x - y) ^ 2)) FROM unnest(
			string_to_array(btrim(embedding::text, '[]'), ',')::float8[],
			string_to_array(btrim('$q', '[]'), ',')::float8[]) AS u(x, y)) AS dist
	FROM $table ORDER BY dist, id LIMIT $k) s};
}

# Row count and md5 over the text of every column, in id order.
sub checksum_sql
{
	my ($table, $where) = @_;
	$where = defined $where ? "WHERE $where" : '';
	return "SELECT count(*) || ' ' || coalesce(md5(string_agg("
	  . "id || ' ' || embedding::text || ' ' || half::text || ' ' || sparse::text, E'\\n' ORDER BY id)), '-')"
	  . " FROM $table $where";
}

# SQL that creates vx_knn_recall(tab, col, op, qtab, k, settings, filter):
# recall@k of whatever index serves ORDER BY col op q LIMIT k on tab, over
# every row of qtab (its column col holds the queries), with the settings
# ('name=value,name=value', each set locally, e.g. the AM's search width)
# and an optional WHERE filter. Each query runs twice through dynamic SQL,
# once through the index (enable_seqscan off) and once exactly
# (enable_indexscan off); the index's rows whose distance is within the
# k-th exact distance count as hits (ties at the k-th place are hits),
# missing rows (fewer than k) as misses. Any AM's tests can use it.
sub recall_function_sql
{
	return q{
CREATE FUNCTION vx_knn_recall(tab text, col text, op text, qtab text, k int, settings text DEFAULT '',
	filter text DEFAULT 'true') RETURNS float8
	LANGUAGE plpgsql AS $$
DECLARE
	q text;
	s text;
	approx float8[];
	exact float8[];
	hits bigint := 0;
	total bigint := 0;
	typ text := (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = tab::regclass AND attname = col);
	knn text := format('SELECT array_agg(d ORDER BY n) FROM (SELECT %I %s $1::%s AS d, row_number() OVER () AS n FROM '
		'(SELECT %I FROM %I WHERE %s ORDER BY %I %s $1::%s LIMIT %s) s) s', col, op, typ, col, tab, filter, col, op, typ, k);
BEGIN
	FOREACH s IN ARRAY string_to_array(settings, ',') LOOP
		PERFORM set_config(split_part(s, '=', 1), split_part(s, '=', 2), true);
	END LOOP;
	FOR q IN EXECUTE format('SELECT %I::text FROM %I ORDER BY id', col, qtab) LOOP
		PERFORM set_config('enable_seqscan', 'off', true);
		PERFORM set_config('enable_indexscan', 'on', true);
		EXECUTE knn INTO approx USING q;
		PERFORM set_config('enable_seqscan', 'on', true);
		PERFORM set_config('enable_indexscan', 'off', true);
		EXECUTE knn INTO exact USING q;
		total := total + coalesce(cardinality(exact), 0);
		IF approx IS NOT NULL AND exact IS NOT NULL THEN
			hits := hits + (SELECT count(*) FROM unnest(approx) a
				WHERE a <= exact[cardinality(exact)] + 1e-6 * (1 + abs(exact[cardinality(exact)])));
		END IF;
	END LOOP;
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'on', true);
	RETURN CASE WHEN total = 0 THEN 1 ELSE hits::float8 / total END;
END $$;
};
}

1;
