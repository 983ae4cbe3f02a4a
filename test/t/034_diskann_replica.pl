# 034_diskann_replica.pl -- diskann indexes on a streaming standby.
#
# A primary with wal_consistency_checking = 'generic' (the standby compares
# every replayed GenericXLog record's page with the image the primary
# logged, so a record that does not reproduce the primary's page fails
# replay) and a streaming standby on a physical replication slot. 3000
# clustered rows (64 dimensions, VxDiskann.pm) with diskann indexes on
# vector l2, cosine and ip and halfvec l2 and cosine. After the build
# (log_newpage_range), after inserts, after updates, deletes and VACUUM
# (mark, repair, entry point and free list records) and after inserts that
# reuse the freed ids (the indexes do not grow): once the standby replayed
# everything, every index query returns the same ids on both nodes, through
# the index (EXPLAIN on both), vx_diskann_verify finds no problem on either
# node, and the primary's results reach their recall against brute force
# (identical wrong answers would not pass).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxDiskann;

my ($d, $nc) = (64, 100);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\njit = off\nautovacuum = off\n");
$primary->start;
# a slot keeps the WAL the standby has not received yet (every generic record carries full page images)
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('standby', true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby'\n");
$standby->start;

$primary->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d)
	  . da_fill_sql('items', 1, 3000, $d, $nc)
	  . da_queries_sql('queries', 20, $d, $nc));
$primary->safe_psql('postgres', da_index_sql('items', $_)) for @DISKANN_INDEXES;

# Replay to the primary's position, then compare the nodes.
sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $ix (@DISKANN_INDEXES)
	{
		da_check_index_scan($primary, 'items', $ix, "$label, primary");
		da_check_index_scan($standby, 'items', $ix, "$label, standby");
	}
	my $p = da_all_knn($primary, 'items');
	my $s = da_all_knn($standby, 'items');
	is($s, $p, "$label: every index returns the same ids on the standby");
	da_check_verify($primary, 'items', "$label, primary");
	da_check_verify($standby, 'items', "$label, standby");
	da_check_recall($primary, 'items', "$label, primary");
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM items'),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM items'), "$label: same row count");
}

compare_nodes('after build');

$primary->safe_psql('postgres', da_fill_sql('items', 3001, 3600, $d, $nc));
compare_nodes('after inserts');

$primary->safe_psql('postgres', qq{
UPDATE items SET (v, h) = (SELECT a::vector, a::halfvec FROM vx_cvec(id + 500000, $d, $nc) a) WHERE id % 7 = 0;
DELETE FROM items WHERE id % 4 = 0;
VACUUM items;});
compare_nodes('after updates, deletes and VACUUM');

my %size = map { $_->[0] => $primary->safe_psql('postgres', "SELECT pg_relation_size('$_->[0]')") } @DISKANN_INDEXES;
$primary->safe_psql('postgres', da_fill_sql('items', 4001, 4500, $d, $nc));
for my $ix (@DISKANN_INDEXES)
{
	is($primary->safe_psql('postgres', "SELECT pg_relation_size('$ix->[0]')"), $size{ $ix->[0] },
		"$ix->[0]: 500 inserts after deletes, updates and VACUUM reuse freed ids, the index does not grow");
}
compare_nodes('after inserts reusing freed ids');

# the standby replayed everything with consistency checks and kept running
unlike(slurp_file($standby->logfile), qr/inconsistent page found|FATAL|PANIC/, 'standby log shows no inconsistency');

$standby->stop;
$primary->stop;
done_testing();
