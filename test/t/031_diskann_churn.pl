# 031_diskann_churn.pl -- diskann indexes under churn: deletes, VACUUM and
# reinserts, three times over.
#
# 8000 clustered rows (64 dimensions, VxDiskann.pm), indexes on vector l2 and
# halfvec cosine. Each cycle deletes a pseudo-random 20% of the rows,
# VACUUMs (the deleted nodes are repaired around and freed) and inserts as
# many new rows (which take the freed ids). After each cycle:
# vx_diskann_verify finds no problem, not even one unreachable node;
# recall@10 against brute force at the default settings and at a small list
# (10, rescore 10), rows nearest first by their recomputed distance; and the
# index has grown by at most 10% over its size after the build (freed nodes
# are reused: as many rows went in as were deleted). At the end the churned
# indexes' recall is within 0.02 of fresh builds over the same rows (a copy
# of the table, indexed anew).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxDiskann;

my ($d, $nc, $n) = (64, 100, 8000);
my @indexes = @DISKANN_INDEXES[ 0, 3 ];
# minimum recall@10 at query_search_list_size 10, query_rescore 10
my $min_small = 0.82;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d)
	  . da_fill_sql('items', 1, $n, $d, $nc)
	  . da_queries_sql('queries', 100, $d, $nc));
$node->safe_psql('postgres', da_index_sql('items', $_)) for @indexes;

my %size0 = map { $_->[0] => $node->safe_psql('postgres', "SELECT pg_relation_size('$_->[0]')") } @indexes;
note("index sizes after the build: " . join(', ', map { "$_ $size0{$_}" } sort keys %size0));

# recall@10 at the small list of every index of $indexes on $table; checks the minimum
sub small_recall
{
	my ($table, $label) = @_;
	my %r;
	for my $ix (@indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		$r{$name} = da_recall($node, $table, $col, $op, list => 10, rescore => 10);
		cmp_ok($r{$name}, '>=', $min_small,
			"$label: recall\@10 of $opclass on $table at list 10, rescore 10 is $r{$name} (>= $min_small)");
	}
	return \%r;
}

my ($rec, $small);
for my $cycle (1 .. 3)
{
	my $label = "cycle $cycle";
	my $from = 100000 * $cycle + 1;
	my $del = $node->safe_psql('postgres', qq{
DELETE FROM items WHERE vx_u(id, $cycle, 9) < 0.2;
SELECT $n - count(*) FROM items;});
	$node->safe_psql('postgres', 'VACUUM items');
	$node->safe_psql('postgres', da_fill_sql('items', $from, $from + $del - 1, $d, $nc));
	is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), $n, "$label: $del rows deleted, as many inserted");
	da_check_verify($node, 'items', $label, 0);
	$rec = da_check_recall($node, 'items', $label, \@indexes);
	$small = small_recall('items', $label);
	da_check_order($node, 'items', $label, \@indexes);
	for my $ix (@indexes)
	{
		my $name = $ix->[0];
		my $size = $node->safe_psql('postgres', "SELECT pg_relation_size('$name')");
		cmp_ok($size, '<=', 1.10 * $size0{$name},
			sprintf('%s: %s is %d bytes, %.1f%% over its size after the build (<= 10%%)',
				$label, $name, $size, 100 * ($size / $size0{$name} - 1)));
	}
}

# a fresh build over the same rows does not do better by more than 0.02
$node->safe_psql('postgres', 'CREATE TABLE fresh AS SELECT * FROM items; ALTER TABLE fresh ADD PRIMARY KEY (id);');
$node->safe_psql('postgres', da_index_sql('fresh', $_)) for @indexes;
da_check_verify($node, 'fresh', 'fresh build', 0);
my $frec = da_check_recall($node, 'fresh', 'fresh build', \@indexes);
my $fsmall = small_recall('fresh', 'fresh build');
for my $ix (@indexes)
{
	my ($name, $col, $opclass) = @$ix;
	cmp_ok($rec->{$name}, '>=', $frec->{$name} - 0.02,
		"after churn: recall\@10 of $opclass is $rec->{$name}, fresh build $frec->{$name} (within 0.02)");
	cmp_ok($small->{$name}, '>=', $fsmall->{$name} - 0.02,
		"after churn: recall\@10 of $opclass at list 10, rescore 10 is $small->{$name}, fresh build $fsmall->{$name} (within 0.02)");
}

$node->stop;
done_testing();
