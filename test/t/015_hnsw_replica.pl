# 015_hnsw_replica.pl -- hnsw indexes on a streaming standby.
#
# A primary with wal_consistency_checking = 'generic' (the standby compares
# every replayed GenericXLog record's page with the image the primary
# logged, so a record that does not reproduce the primary's page fails
# replay) and a streaming standby. After the build (log_newpage_range), after
# inserts (including the tables of vectors whose slots straddle pages,
# @WIDE_TABLES: 256 to 16,000 dimensions), after updates, deletes and
# VACUUM (repair, entry point, free list records) and after inserts that reuse
# freed ids: every index query returns identical rows and distances on both
# nodes, through the index (EXPLAIN on both), vx_hnsw_verify finds no problem
# on either node, and the primary's results reach their recall against brute
# force (identical wrong answers would not pass).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\njit = off\nautovacuum = off\n");
$primary->start;
# A slot keeps the WAL the standby has not received: with every GenericXLog
# record carrying full page images the primary writes about 64 MB a second,
# and on a loaded machine the walsender fell a few segments behind and found
# them recycled ("requested WAL segment ... has already been removed").
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('standby', true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby'\n");
$standby->start;

$primary->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 2000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 20, $d, $sd, $bd, $nc));
$primary->safe_psql('postgres', index_sql('items', $_)) for @HNSW_INDEXES;
$primary->safe_psql('postgres', wide_sql(@$_)) for @WIDE_TABLES;

# SQL that runs $sql_of->(table, dimensions, rows) for every straddling table
sub each_wide
{
	my ($sql_of) = @_;
	return join('', map { $sql_of->(@$_) } @WIDE_TABLES);
}

# ids and distances of every index's 10 nearest rows for every query
sub all_knn
{
	my ($node) = @_;
	my @out;
	for my $ix (@HNSW_INDEXES)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		push @out, "$name: " . $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
SELECT string_agg(q.id || ':' || s.ids, ' ' ORDER BY q.id) FROM queries q CROSS JOIN LATERAL (
	SELECT string_agg(id || '=' || d, ',' ORDER BY n) AS ids FROM (
		SELECT id, $col $op q.$col AS d, row_number() OVER () AS n FROM
			(SELECT id, $col FROM items ORDER BY $col $op q.$col LIMIT 10) x) y) s});
	}
	# ids only: the SQL operator's last float32 digit depends on where the
	# datum lies in memory (the kernel aligns its loads), which may differ
	for my $w (@WIDE_TABLES)
	{
		my ($t) = @$w;
		push @out, "${t}_v_l2: " . $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT string_agg(q.id || ':' || s.ids, ' ' ORDER BY q.id) FROM ${t}_queries q CROSS JOIN LATERAL (
	SELECT string_agg(id::text, ',' ORDER BY n) AS ids FROM (
		SELECT id, row_number() OVER () AS n FROM (SELECT id FROM $t ORDER BY v <-> q.v LIMIT 10) x) y) s});
	}
	return join("\n", @out);
}

# Replay to the primary's position, then compare the nodes.
sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $ix (@HNSW_INDEXES)
	{
		check_index_scan($primary, 'items', $ix, "$label, primary");
		check_index_scan($standby, 'items', $ix, "$label, standby");
	}
	my $p = all_knn($primary);
	my $s = all_knn($standby);
	is($s, $p, "$label: every index returns identical rows and distances on the standby");
	check_verify($primary, 'items', "$label, primary");
	check_verify($standby, 'items', "$label, standby");
	for my $w (@WIDE_TABLES)
	{
		my ($t, $wd) = @$w;
		check_verify($primary, $t, "$label, primary");
		check_verify($standby, $t, "$label, standby");
		my $r = $primary->safe_psql('postgres', qq{SELECT vx_recall('$t', 'v', '<->', '${t}_queries', 10, 100)});
		cmp_ok($r, '>=', 0.9, "$label, primary: recall\@10 of the $wd-dimension vectors is $r (>= 0.9)");
	}
	check_recall($primary, 'items', "$label, primary");
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM items'),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM items'), "$label: same row count");
}

compare_nodes('after build');

$primary->safe_psql('postgres', fill_items_sql('items', 2001, 2600, $d, $sd, $bd, $nc)
	  . each_wide(sub { my ($t, $wd, $n) = @_; fill_wide_sql($t, $wd, $n + 1, $n + int($n / 2)) }));
compare_nodes('after inserts');

$primary->safe_psql('postgres', qq{
UPDATE items SET (v, h, s, b) = (SELECT vx_cvec(id + 500000, $d, $nc)::vector, vx_cvec(id + 500000, $d, $nc)::halfvec,
	vx_csparse(id + 500000, $sd, $nc)::sparsevec, vx_cbits(id + 500000, $bd, $nc)::bit($bd)) WHERE id % 7 = 0;
DELETE FROM items WHERE id % 4 = 0;
VACUUM items;} . each_wide(sub { "DELETE FROM $_[0] WHERE id % 3 = 0; VACUUM $_[0];" }));
compare_nodes('after updates, deletes and VACUUM');

my $size = $primary->safe_psql('postgres', q{SELECT pg_relation_size('items_v_l2')});
my %wsize = map { $_->[0] => $primary->safe_psql('postgres', "SELECT pg_relation_size('$_->[0]_v_l2')") } @WIDE_TABLES;
$primary->safe_psql('postgres', fill_items_sql('items', 3001, 3500, $d, $sd, $bd, $nc)
	  . each_wide(sub { my ($t, $wd, $n) = @_; fill_wide_sql($t, $wd, 2 * $n + 1, 2 * $n + int($n / 3)) }));
is($primary->safe_psql('postgres', q{SELECT pg_relation_size('items_v_l2')}), $size,
	'500 inserts after 650 deletes reuse freed ids: the index does not grow');
for my $w (@WIDE_TABLES)
{
	my ($t, $wd) = @$w;
	is($primary->safe_psql('postgres', "SELECT pg_relation_size('${t}_v_l2')"), $wsize{$t},
		"$wd dimensions: inserts after deletes reuse freed ids, the index does not grow");
}
compare_nodes('after inserts reusing freed ids');

# the standby replayed everything with consistency checks and kept running
unlike(slurp_file($standby->logfile), qr/inconsistent page found|FATAL|PANIC/, 'standby log shows no inconsistency');

$standby->stop;
$primary->stop;
done_testing();
