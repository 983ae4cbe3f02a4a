# 034_diskann_replica.pl -- diskann indexes on a streaming standby.
#
# A primary with wal_consistency_checking = 'generic' (the standby compares
# every replayed GenericXLog record's page with the image the primary
# logged, so a record that does not reproduce the primary's page fails
# replay) and a streaming standby on a physical replication slot. 3000
# clustered rows (64 dimensions, VxDiskann.pm) with diskann indexes on
# vector l2, cosine and ip and halfvec l2 and cosine, and the same rows in a
# second table (items_p) with storage_layout plain indexes on vector l2 and
# halfvec cosine (vector pages: extents extended by inserts, node and vector in
# one record, vectors of reused ids overwritten). After the build
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
# full_page_writes off: a page's first change after a checkpoint is then replayed from its record
# too, not restored from a full-page image (which would hide a page whose initialization was never
# logged, e.g. a plain index's new vector page)
$primary->append_conf('postgresql.conf',
	"wal_consistency_checking = 'generic'\nfull_page_writes = off\njit = off\nautovacuum = off\n");
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
$primary->safe_psql('postgres', 'CREATE TABLE items_p AS SELECT * FROM items; ALTER TABLE items_p ADD PRIMARY KEY (id);');
my @plain_indexes = @DISKANN_INDEXES[ 0, 3 ];
$primary->safe_psql('postgres', da_index_sql('items_p', $_, "storage_layout = 'plain'")) for @plain_indexes;
my %indexes_of = (items => \@DISKANN_INDEXES, items_p => \@plain_indexes);

# Replay to the primary's position, then compare the nodes.
sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $table ('items', 'items_p')
	{
		for my $ix (@{ $indexes_of{$table} })
		{
			da_check_index_scan($primary, $table, $ix, "$label, primary");
			da_check_index_scan($standby, $table, $ix, "$label, standby");
		}
		my $p = da_all_knn($primary, $table, $indexes_of{$table});
		my $s = da_all_knn($standby, $table, $indexes_of{$table});
		is($s, $p, "$label: every index of $table returns the same ids on the standby");
		da_check_verify($primary, $table, "$label, primary");
		da_check_verify($standby, $table, "$label, standby");
		da_check_recall($primary, $table, "$label, primary", $indexes_of{$table});
		is($standby->safe_psql('postgres', "SELECT count(*) FROM $table"),
			$primary->safe_psql('postgres', "SELECT count(*) FROM $table"), "$label: $table has the same row count");
	}
}

compare_nodes('after build');

$primary->safe_psql('postgres', da_fill_sql('items', 3001, 3600, $d, $nc)
	  . 'INSERT INTO items_p SELECT * FROM items WHERE id > 3000;');
compare_nodes('after inserts');

$primary->safe_psql('postgres', qq{
UPDATE items SET (v, h) = (SELECT a::vector, a::halfvec FROM vx_cvec(id + 500000, $d, $nc) a) WHERE id % 7 = 0;
DELETE FROM items WHERE id % 4 = 0;
VACUUM items;
UPDATE items_p SET (v, h) = (SELECT a::vector, a::halfvec FROM vx_cvec(id + 500000, $d, $nc) a) WHERE id % 7 = 0;
DELETE FROM items_p WHERE id % 4 = 0;
VACUUM items_p;});
compare_nodes('after updates, deletes and VACUUM');

my @names = ((map { $_->[0] } @DISKANN_INDEXES), (map { $_->[0] =~ s/^items/items_p/r } @plain_indexes));
my %size = map { $_ => $primary->safe_psql('postgres', "SELECT pg_relation_size('$_')") } @names;
$primary->safe_psql('postgres', da_fill_sql('items', 4001, 4500, $d, $nc)
	  . 'INSERT INTO items_p SELECT * FROM items WHERE id > 4000;');
for my $name (@names)
{
	is($primary->safe_psql('postgres', "SELECT pg_relation_size('$name')"), $size{$name},
		"$name: 500 inserts after deletes, updates and VACUUM reuse freed ids, the index does not grow");
}
compare_nodes('after inserts reusing freed ids');

# the standby replayed everything with consistency checks and kept running
unlike(slurp_file($standby->logfile), qr/inconsistent page found|FATAL|PANIC/, 'standby log shows no inconsistency');

$standby->stop;
$primary->stop;
done_testing();
