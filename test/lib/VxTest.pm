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

our @EXPORT = qw(setup_sql table_sql fill_sql knn_sql l2_oracle_sql checksum_sql);

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

1;
