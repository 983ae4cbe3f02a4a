# VxHnsw.pm -- helpers shared by the hnsw TAP tests (test/t/01*_hnsw_*.pl).
#
# Data: clustered rows generated in the database from the row number by plain
# SQL (PostgreSQL's hashint8extended as the random source), so every run and
# every node sees the same values. Row i belongs to cluster i % nclusters; a
# dense vector is the cluster's centre (components uniform in [-1, 1)) plus
# uniform noise in [-1, 1) per component: clusters overlap, so that a graph
# search at a small ef_search misses neighbours (recall@10 at ef_search 10 is
# about 0.95 on 3000 rows of 32 dimensions) and a damaged graph shows. A
# sparse vector has the cluster's support (about 10% of the dimensions, at
# least one) plus about 3% of its own, values in [0.2, 3.2); a bit string is
# the centre's bits with each bit flipped with probability 0.3. Queries are
# drawn from the same distribution with row numbers no table row has.
#
# Recall is always against brute force: vx_recall() runs each query twice
# through dynamic SQL (planned with the settings of that moment), once with
# the index (enable_seqscan off) and once exactly (enable_indexscan off), and
# counts the index's rows whose distance is within the k-th exact distance
# (ties at the k-th place count as hits). The helpers also check that the
# planner really used an index scan for the approximate query.
package VxHnsw;

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use VxTest;

our @EXPORT = qw(hnsw_setup_sql items_sql fill_items_sql queries_sql @HNSW_INDEXES index_sql
  check_recall check_verify check_index_scan check_order knn_ids @WIDE_TABLES wide_sql fill_wide_sql);

# name, column, opclass, operator, minimum recall@10 at ef_search 100
our @HNSW_INDEXES = (
	[ 'items_v_l2', 'v', 'vector_l2_ops', '<->', 0.95 ],
	[ 'items_v_ip', 'v', 'vector_ip_ops', '<#>', 0.90 ],
	[ 'items_v_cos', 'v', 'vector_cosine_ops', '<=>', 0.95 ],
	[ 'items_h_l2', 'h', 'halfvec_l2_ops', '<->', 0.95 ],
	[ 'items_s_l2', 's', 'sparsevec_l2_ops', '<->', 0.95 ],
	[ 'items_b_ham', 'b', 'bit_hamming_ops', '<~>', 0.90 ],
	[ 'items_b_jac', 'b', 'bit_jaccard_ops', '<%>', 0.90 ],
);

# Tables of vectors whose slots straddle pages (src/hnsw/README.md, Geometry):
# name, dimensions, rows to start with. 256: about one slot in eight
# straddles two pages; 2040: slots just over a page, nearly every one
# straddles; 2500: 1.2 pages a slot; 16000 (the limit): 8 or 9 pages a slot,
# which an insert writes over several WAL records. Each has an l2 index
# <name>_v_l2 and a table <name>_queries of 10 queries.
our @WIDE_TABLES = ([ 'w256', 256, 300 ], [ 'w2040', 2040, 60 ], [ 'wide', 2500, 100 ], [ 'w16k', 16000, 20 ]);

# Extension, generators and the recall function.
sub hnsw_setup_sql
{
	return recall_function_sql() . q{
CREATE EXTENSION vector;
-- uniform in [0, 1) from (i, j, salt)
CREATE FUNCTION vx_u(i bigint, j int, salt int) RETURNS float8
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ((hashint8extended(i * 8191 + j, salt) >> 12) & 4294967295)::float8 / 4294967296.0 $$;
CREATE FUNCTION vx_cvec(i bigint, d int, nc int) RETURNS real[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT array_agg((vx_u(i % nc, j, 1) * 2 - 1 + (vx_u(i, j, 2) - 0.5) * 2)::real ORDER BY j)
	FROM generate_series(1, d) j $$;
CREATE FUNCTION vx_csparse(i bigint, d int, nc int) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT '{' || string_agg(j || ':' || round((vx_u(i % nc, j, 3) * 2 + 0.7 + (vx_u(i, j, 4) - 0.5))::numeric, 4),
		',' ORDER BY j) || '}/' || d
	FROM generate_series(1, d) j WHERE vx_u(i % nc, j, 5) < 0.1 OR vx_u(i, j, 8) < 0.03 OR j = 1 + (i % nc) % d $$;
CREATE FUNCTION vx_cbits(i bigint, d int, nc int) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT string_agg(((vx_u(i % nc, j, 6) < 0.5) <> (vx_u(i, j, 7) < 0.3))::int::text, '' ORDER BY j)
	FROM generate_series(1, d) j $$;

-- recall@k of the index on (col, op) over every row of qtab, at ef_search ef
CREATE FUNCTION vx_recall(tab text, col text, op text, qtab text, k int, ef int) RETURNS float8
	LANGUAGE sql AS $$ SELECT vx_knn_recall(tab, col, op, qtab, k, format('hnsw.ef_search=%s', ef)) $$;
};
}

# The items table (dense dimension $d, sparse $sd, bits $bd).
sub items_sql
{
	my ($table, $d, $sd, $bd, $unlogged) = @_;
	my $u = $unlogged ? 'UNLOGGED ' : '';
	return "CREATE ${u}TABLE $table (id bigint PRIMARY KEY, v vector($d), h halfvec($d), s sparsevec($sd), b bit($bd));";
}

# Rows $from..$to of $nc clusters.
sub fill_items_sql
{
	my ($table, $from, $to, $d, $sd, $bd, $nc) = @_;
	return "INSERT INTO $table SELECT i, vx_cvec(i, $d, $nc)::vector, vx_cvec(i, $d, $nc)::halfvec,"
	  . " vx_csparse(i, $sd, $nc)::sparsevec, vx_cbits(i, $bd, $nc)::bit($bd)"
	  . " FROM generate_series($from, $to) i;";
}

# One @WIDE_TABLES table with rows 1..$n of 20 clusters, its queries and its index.
sub wide_sql
{
	my ($table, $d, $n) = @_;
	return "CREATE TABLE $table (id bigint PRIMARY KEY, v vector($d));"
	  . fill_wide_sql($table, $d, 1, $n)
	  . "CREATE TABLE ${table}_queries AS SELECT i AS id, vx_cvec(i, $d, 20)::vector($d) AS v"
	  . " FROM generate_series(1000000001, 1000000010) i;"
	  . "CREATE INDEX ${table}_v_l2 ON $table USING hnsw (v vector_l2_ops);";
}

# Rows $from..$to of a @WIDE_TABLES table of dimension $d.
sub fill_wide_sql
{
	my ($table, $d, $from, $to) = @_;
	return "INSERT INTO $table SELECT i, vx_cvec(i, $d, 20)::vector FROM generate_series($from, $to) i;";
}

# A table of $n queries with the columns of items (row numbers from 10^9).
sub queries_sql
{
	my ($qtable, $n, $d, $sd, $bd, $nc) = @_;
	return "CREATE TABLE $qtable AS SELECT i AS id, vx_cvec(i, $d, $nc)::vector($d) AS v,"
	  . " vx_cvec(i, $d, $nc)::halfvec($d) AS h, vx_csparse(i, $sd, $nc)::sparsevec($sd) AS s,"
	  . " vx_cbits(i, $bd, $nc)::bit($bd) AS b FROM generate_series(1000000001, 1000000000 + $n) i;";
}

# CREATE INDEX for one entry of @HNSW_INDEXES on $table ($with: reloptions text or undef).
sub index_sql
{
	my ($table, $ix, $with) = @_;
	my ($name, $col, $opclass) = @$ix;
	$name =~ s/^items/$table/;
	$with = defined $with ? " WITH ($with)" : '';
	return "CREATE INDEX $name ON $table USING hnsw ($col $opclass)$with;";
}

# The approximate query of @HNSW_INDEXES entry $ix uses that index (EXPLAIN).
sub check_index_scan
{
	my ($node, $table, $ix, $label) = @_;
	my ($name, $col, $opclass, $op) = @$ix;
	$name =~ s/^items/$table/;
	my $plan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10});
	like($plan, qr/Index Scan using $name on $table/, "$label: $name is used by its ORDER BY $op query");
}

# recall@10 at ef_search 100 of every index on $table is at least its minimum; returns the recalls.
sub check_recall
{
	my ($node, $table, $label, $indexes) = @_;
	$indexes //= \@HNSW_INDEXES;
	my %recall;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op, $min) = @$ix;
		my $r = $node->safe_psql('postgres', "SELECT vx_recall('$table', '$col', '$op', 'queries', 10, 100)");
		$recall{$name} = $r;
		cmp_ok($r, '>=', $min, "$label: recall\@10 of $opclass on $table is $r (>= $min)");
	}
	return \%recall;
}

# vx_hnsw_verify returns no row for every hnsw index of $table ($max: tolerance, default 0.01).
sub check_verify
{
	my ($node, $table, $label, $max) = @_;
	$max //= 0.01;
	my $out = $node->safe_psql('postgres', qq{
SELECT string_agg(c.relname || ': ' || p, E'\\n' ORDER BY c.relname, p)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
CROSS JOIN LATERAL vx_hnsw_verify(c.oid, $max) p
WHERE i.indrelid = '$table'::regclass AND a.amname = 'hnsw'});
	my $n = $node->safe_psql('postgres', qq{
SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = '$table'::regclass AND a.amname = 'hnsw'});
	ok($n > 0, "$label: $table has $n hnsw indexes to verify");
	is($out, '', "$label: vx_hnsw_verify finds no problem in the hnsw indexes of $table");
}

# Every index's rows for every query come nearest first by the distance
# recomputed from the heap row (a stale element pointing at a reused heap TID
# would break the order); at most 1e-5 relative slack for kernel rounding.
sub check_order
{
	my ($node, $table, $label, $indexes) = @_;
	$indexes //= \@HNSW_INDEXES;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		my $bad = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
SELECT count(*) || ' of ' || (SELECT count(*) FROM queries) FROM (
	SELECT q.id, bool_and(s.d >= s.prev - 1e-5 * (1 + abs(s.prev))) AS ok FROM queries q CROSS JOIN LATERAL (
		SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev FROM (
			SELECT $col $op q.$col AS d, row_number() OVER () AS n FROM
				(SELECT $col FROM $table ORDER BY $col $op q.$col LIMIT 10) x) y) s
	GROUP BY q.id) t WHERE NOT ok});
		is($bad, '0 of ' . $node->safe_psql('postgres', 'SELECT count(*) FROM queries'),
			"$label: $opclass on $table returns rows nearest first by their recomputed distance");
	}
}

# Ids (comma-separated) of the $k nearest rows by $col $op to the query row $qid, with the index.
sub knn_ids
{
	my ($node, $table, $col, $op, $qid, $k) = @_;
	return $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
SELECT string_agg(id::text, ',' ORDER BY n) FROM (SELECT id, row_number() OVER () AS n FROM
	(SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM queries WHERE id = $qid) LIMIT $k) s) s});
}

1;
