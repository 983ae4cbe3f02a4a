# VxIvfflat.pm -- helpers shared by the ivfflat TAP tests (test/t/04*_ivfflat_*.pl).
#
# Data: the clustered rows of VxDiskann.pm (vx_cvec: generated in the
# database from the row number, so every run and every node sees the same
# values) in a table with a vector, a halfvec and a bit column
# (binary_quantize of the vector); queries from the same distribution with
# row numbers no table row has. Recall is against brute force through
# VxTest.pm's vx_knn_recall at a given ivfflat.probes.
package VxIvfflat;

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use VxTest;
use VxDiskann;

our @EXPORT = qw(ivfflat_setup_sql ivf_items_sql ivf_fill_sql ivf_queries_sql @IVFFLAT_INDEXES ivf_index_sql
  ivf_recall ivf_check_recall ivf_check_verify ivf_check_index_scan ivf_all_knn ivf_check_complete);

# name, column, opclass, operator, minimum recall@10 at probes = lists / 4
# (the tests' data has as many clusters as lists; measured 0.99 to 1.0)
our @IVFFLAT_INDEXES = (
	[ 'items_v_l2', 'v', 'vector_l2_ops', '<->', 0.9 ],
	[ 'items_v_ip', 'v', 'vector_ip_ops', '<#>', 0.9 ],
	[ 'items_v_cos', 'v', 'vector_cosine_ops', '<=>', 0.9 ],
	[ 'items_h_l2', 'h', 'halfvec_l2_ops', '<->', 0.9 ],
	[ 'items_h_ip', 'h', 'halfvec_ip_ops', '<#>', 0.9 ],
	[ 'items_h_cos', 'h', 'halfvec_cosine_ops', '<=>', 0.9 ],
	[ 'items_b_ham', 'b', 'bit_hamming_ops', '<~>', 0.9 ],
);

# Extension, generators and the recall function.
sub ivfflat_setup_sql
{
	return diskann_setup_sql();
}

# The items table: id, a vector, a halfvec and a bit of dimension $d.
sub ivf_items_sql
{
	my ($table, $d, $unlogged) = @_;
	my $u = $unlogged ? 'UNLOGGED ' : '';
	return "CREATE ${u}TABLE $table (id bigint PRIMARY KEY, v vector($d), h halfvec($d), b bit($d));";
}

# Rows $from..$to of $nc clusters.
sub ivf_fill_sql
{
	my ($table, $from, $to, $d, $nc) = @_;
	return "INSERT INTO $table SELECT i, a::vector, a::halfvec, binary_quantize(a::vector) FROM generate_series($from, $to) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a;";
}

# A table of $n queries with the columns of items (row numbers from 10^9).
sub ivf_queries_sql
{
	my ($qtable, $n, $d, $nc) = @_;
	return "CREATE TABLE $qtable AS SELECT i AS id, a::vector($d) AS v, a::halfvec($d) AS h,"
	  . " binary_quantize(a::vector)::bit($d) AS b FROM generate_series(1000000001, 1000000000 + $n) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a;";
}

# CREATE INDEX for one entry of @IVFFLAT_INDEXES on $table with $lists lists.
sub ivf_index_sql
{
	my ($table, $ix, $lists) = @_;
	my ($name, $col, $opclass) = @$ix;
	$name =~ s/^items/$table/;
	return "CREATE INDEX $name ON $table USING ivfflat ($col $opclass) WITH (lists = $lists);";
}

# recall@$k (default 10) of the index on ($col, $op) at ivfflat.probes $probes.
sub ivf_recall
{
	my ($node, $table, $col, $op, $probes, %o) = @_;
	my $k = $o{k} // 10;
	my $qtable = $o{queries} // 'queries';
	return $node->safe_psql('postgres',
		"SELECT round(vx_knn_recall('$table', '$col', '$op', '$qtable', $k, 'ivfflat.probes=$probes')::numeric, 4)");
}

# recall@10 of every index of $indexes at $probes is at least its minimum
# ($exact: probes = lists, where it must be 1; except halfvec cosine, whose
# entries are the normalized values rounded to half precision, as in
# pgvector, so a near tie at the 10th place may swap: 0.99 there).
my $HALF_COSINE_EXACT = 0.99;
sub ivf_check_recall
{
	my ($node, $table, $label, $probes, %o) = @_;
	my $indexes = $o{indexes} // \@IVFFLAT_INDEXES;
	my %recall;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op, $min) = @$ix;
		$min = ($opclass eq 'halfvec_cosine_ops' ? $HALF_COSINE_EXACT : 1) if $o{exact};
		my $r = ivf_recall($node, $table, $col, $op, $probes, %o);
		$recall{$name} = $r;
		cmp_ok($r, '>=', $min, "$label: recall\@10 of $opclass on $table at probes $probes is $r (>= $min)");
	}
	return \%recall;
}

# vx_ivfflat_verify returns no row for every ivfflat index of $table.
sub ivf_check_verify
{
	my ($node, $table, $label) = @_;
	my $out = $node->safe_psql('postgres', qq{
SELECT string_agg(c.relname || ': ' || p, E'\\n' ORDER BY c.relname, p)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
CROSS JOIN LATERAL vx_ivfflat_verify(c.oid) p
WHERE i.indrelid = '$table'::regclass AND a.amname = 'ivfflat'});
	my $n = $node->safe_psql('postgres', qq{
SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = '$table'::regclass AND a.amname = 'ivfflat'});
	ok($n > 0, "$label: $table has $n ivfflat indexes to verify");
	is($out, '', "$label: vx_ivfflat_verify finds no problem in the ivfflat indexes of $table");
}

# The ORDER BY query of @IVFFLAT_INDEXES entry $ix uses that index (EXPLAIN).
sub ivf_check_index_scan
{
	my ($node, $table, $ix, $label) = @_;
	my ($name, $col, $opclass, $op) = @$ix;
	$name =~ s/^items/$table/;
	my $plan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10});
	like($plan, qr/Index Scan using $name on $table/, "$label: $name is used by its ORDER BY $op query");
}

# With probes = $lists every index returns every indexed row of $table
# (each non-null row once; cosine skips zero vectors): no entry lost or
# duplicated.
sub ivf_check_complete
{
	my ($node, $table, $label, $lists, $indexes) = @_;
	$indexes //= \@IVFFLAT_INDEXES;
	my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $table");
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		my $got = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET ivfflat.probes = $lists;
SELECT count(*) || '/' || count(DISTINCT id) FROM (SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM queries LIMIT 1)) s});
		is($got, "$rows/$rows", "$label: $opclass on $table returns each of the $rows rows once at probes = lists");
	}
}

# For every index: every query's 10 nearest ids at $probes, one line per index.
sub ivf_all_knn
{
	my ($node, $table, $probes, $indexes) = @_;
	$indexes //= \@IVFFLAT_INDEXES;
	my @out;
	for my $ix (@$indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		push @out, "$name: " . $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET ivfflat.probes = $probes;
SELECT string_agg(q.id || ':' || s.ids, ' ' ORDER BY q.id) FROM queries q CROSS JOIN LATERAL (
	SELECT string_agg(id::text, ',' ORDER BY n) AS ids FROM (
		SELECT id, row_number() OVER () AS n FROM (SELECT id FROM $table ORDER BY $col $op q.$col LIMIT 10) x) y) s});
	}
	return join("\n", @out);
}

1;
