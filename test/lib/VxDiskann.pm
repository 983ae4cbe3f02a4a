# VxDiskann.pm -- helpers shared by the diskann TAP tests (test/t/03*_diskann_*.pl).
#
# Data: the clustered rows of VxHnsw.pm (vx_u, vx_cvec: generated in the
# database from the row number, so every run and every node sees the same
# values): row i belongs to cluster i % nclusters, a vector is the cluster's
# centre (components uniform in [-1, 1)) plus uniform noise in [-1, 1) per
# component. The items table has a vector and a halfvec column of the same
# values; queries are drawn from the same distribution with row numbers no
# table row has (from 10^9).
#
# Recall is always against brute force: vx_da_recall() runs each query twice
# through dynamic SQL, once with the index (enable_seqscan off, at the given
# diskann.query_search_list_size and diskann.query_rescore) and once exactly
# (enable_indexscan off), optionally under a WHERE filter, and counts the
# index's rows whose distance is within the k-th exact distance (ties at the
# k-th place count as hits). Returned rows missing (fewer than k) count as
# misses.
package VxDiskann;

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use VxTest;

our @EXPORT = qw(diskann_setup_sql da_items_sql da_fill_sql da_queries_sql @DISKANN_INDEXES da_index_sql
  da_check_index_scan da_recall da_check_recall da_check_verify da_check_order da_all_knn);

# name, column, opclass, operator, minimum recall@10 at the default settings
# (query_search_list_size 100, query_rescore 50): 030 to 035 measured 0.988
# to 1.0 (3000 to 10000 rows of 64 dimensions).
our @DISKANN_INDEXES = (
	[ 'items_v_l2', 'v', 'vector_l2_ops', '<->', 0.97 ],
	[ 'items_v_cos', 'v', 'vector_cosine_ops', '<=>', 0.97 ],
	[ 'items_h_l2', 'h', 'halfvec_l2_ops', '<->', 0.97 ],
	[ 'items_h_cos', 'h', 'halfvec_cosine_ops', '<=>', 0.97 ],
	[ 'items_v_ip', 'v', 'vector_ip_ops', '<#>', 0.97 ],
);

# Extension, generators and the recall function.
sub diskann_setup_sql
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

-- recall@k of the diskann index on (col, op) over every row of qtab, at
-- diskann.query_search_list_size list and diskann.query_rescore rescore,
-- among the rows of tab matching filter
CREATE FUNCTION vx_da_recall(tab text, col text, op text, qtab text, k int, list int, rescore int,
	filter text DEFAULT 'true') RETURNS float8
	LANGUAGE sql AS $$
	SELECT vx_knn_recall(tab, col, op, qtab, k,
		format('diskann.query_search_list_size=%s,diskann.query_rescore=%s', list, rescore), filter) $$;
};
}

# The items table: id, a vector and a halfvec of dimension $d.
sub da_items_sql
{
	my ($table, $d, $unlogged) = @_;
	my $u = $unlogged ? 'UNLOGGED ' : '';
	return "CREATE ${u}TABLE $table (id bigint PRIMARY KEY, v vector($d), h halfvec($d));";
}

# Rows $from..$to of $nc clusters.
sub da_fill_sql
{
	my ($table, $from, $to, $d, $nc) = @_;
	return "INSERT INTO $table SELECT i, a::vector, a::halfvec FROM generate_series($from, $to) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a;";
}

# A table of $n queries with the columns of items (row numbers from 10^9).
sub da_queries_sql
{
	my ($qtable, $n, $d, $nc) = @_;
	return "CREATE TABLE $qtable AS SELECT i AS id, a::vector($d) AS v, a::halfvec($d) AS h"
	  . " FROM generate_series(1000000001, 1000000000 + $n) i, LATERAL vx_cvec(i, $d, $nc) a;";
}

# CREATE INDEX for one entry of @DISKANN_INDEXES on $table ($with: reloptions text or undef).
sub da_index_sql
{
	my ($table, $ix, $with) = @_;
	my ($name, $col, $opclass) = @$ix;
	$name =~ s/^items/$table/;
	$with = defined $with ? " WITH ($with)" : '';
	return "CREATE INDEX $name ON $table USING diskann ($col $opclass)$with;";
}

# The approximate query of @DISKANN_INDEXES entry $ix uses that index (EXPLAIN).
sub da_check_index_scan
{
	my ($node, $table, $ix, $label, $qtable) = @_;
	my ($name, $col, $opclass, $op) = @$ix;
	$qtable //= 'queries';
	$name =~ s/^items/$table/;
	my $plan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM $qtable LIMIT 1) LIMIT 10});
	like($plan, qr/Index Scan using $name on $table/, "$label: $name is used by its ORDER BY $op query");
}

# recall@$k of one index (list size $list, rescore $rescore, filter $filter).
sub da_recall
{
	my ($node, $table, $col, $op, %o) = @_;
	my $k = $o{k} // 10;
	my $list = $o{list} // 100;
	my $rescore = $o{rescore} // 50;
	my $qtable = $o{queries} // 'queries';
	my $filter = '';
	if (defined $o{filter})
	{
		($filter = $o{filter}) =~ s/'/''/g;
		$filter = ", '$filter'";
	}
	return $node->safe_psql('postgres',
		"SELECT round(vx_da_recall('$table', '$col', '$op', '$qtable', $k, $list, $rescore$filter)::numeric, 4)");
}

# recall@10 at the default settings of every index of $indexes (default
# @DISKANN_INDEXES) on $table is at least its minimum; returns the recalls
# keyed by the entries' names (items_...), whatever $table is.
sub da_check_recall
{
	my ($node, $table, $label, $indexes, %o) = @_;
	$indexes //= \@DISKANN_INDEXES;
	my %recall;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op, $min) = @$ix;
		my $r = da_recall($node, $table, $col, $op, %o);
		$recall{$name} = $r;
		cmp_ok($r, '>=', $min, "$label: recall\@10 of $opclass on $table is $r (>= $min)");
	}
	return \%recall;
}

# vx_diskann_verify returns no row for every diskann index of $table ($max: tolerance, default 0.01).
sub da_check_verify
{
	my ($node, $table, $label, $max) = @_;
	$max //= 0.01;
	my $out = $node->safe_psql('postgres', qq{
SELECT string_agg(c.relname || ': ' || p, E'\\n' ORDER BY c.relname, p)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
CROSS JOIN LATERAL vx_diskann_verify(c.oid, $max) p
WHERE i.indrelid = '$table'::regclass AND a.amname = 'diskann'});
	my $n = $node->safe_psql('postgres', qq{
SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = '$table'::regclass AND a.amname = 'diskann'});
	ok($n > 0, "$label: $table has $n diskann indexes to verify");
	is($out, '', "$label: vx_diskann_verify finds no problem in the diskann indexes of $table");
}

# Every index's 10 rows for every query come nearest first by the distance
# recomputed from the heap row (a stale node pointing at a reused heap TID
# would break the order); at most 1e-5 relative slack for kernel rounding.
sub da_check_order
{
	my ($node, $table, $label, $indexes) = @_;
	$indexes //= \@DISKANN_INDEXES;
	my $nq = $node->safe_psql('postgres', 'SELECT count(*) FROM queries');
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		my $bad = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE NOT coalesce(ok, false)) || ' of ' || count(*) FROM (
	SELECT q.id, (SELECT count(*) = 10 AND bool_and(d >= prev - 1e-5 * (1 + abs(prev))) FROM (
		SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev FROM (
			SELECT $col $op q.$col AS d, row_number() OVER () AS n FROM
				(SELECT $col FROM $table ORDER BY $col $op q.$col LIMIT 10) x) y) z) AS ok
	FROM queries q) t});
		is($bad, "0 of $nq",
			"$label: $opclass on $table returns 10 rows nearest first by their recomputed distance");
	}
}

# For every index of $indexes: every query's 10 nearest ids through the index, one line per index.
sub da_all_knn
{
	my ($node, $table, $indexes) = @_;
	$indexes //= \@DISKANN_INDEXES;
	my @out;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		$name =~ s/^items/$table/;
		push @out, "$name: " . $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT string_agg(q.id || ':' || s.ids, ' ' ORDER BY q.id) FROM queries q CROSS JOIN LATERAL (
	SELECT string_agg(id::text, ',' ORDER BY n) AS ids FROM (
		SELECT id, row_number() OVER () AS n FROM (SELECT id FROM $table ORDER BY $col $op q.$col LIMIT 10) x) y) s});
	}
	return join("\n", @out);
}

1;
