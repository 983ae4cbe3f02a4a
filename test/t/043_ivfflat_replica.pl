# 043_ivfflat_replica.pl -- ivfflat indexes on a streaming standby.
#
# A primary with wal_consistency_checking = 'all' (the standby checks every
# replayed record's pages against the primary's images, GenericXLog and
# heap alike) and a streaming standby on a physical replication slot. 2000
# clustered rows (32 dimensions) with every ivfflat opclass, 10 lists.
# After the build (log_newpage_range), after inserts (new entry pages and
# directory updates) and after deletes and VACUUM: once the standby replayed
# everything, every index returns the same ids on both nodes through the
# index, vx_ivfflat_verify finds nothing on either node, and the primary's
# results reach their recall against brute force.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxIvfflat;

my ($d, $nc, $lists) = (32, 10, 10);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'all'\njit = off\nautovacuum = off\n");
$primary->start;
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('standby', true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby'\n");
$standby->start;

$primary->safe_psql('postgres',
	ivfflat_setup_sql()
	  . ivf_items_sql('items', $d)
	  . ivf_fill_sql('items', 1, 2000, $d, $nc)
	  . ivf_queries_sql('queries', 20, $d, $nc));
$primary->safe_psql('postgres', ivf_index_sql('items', $_, $lists)) for @IVFFLAT_INDEXES;

sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $ix (@IVFFLAT_INDEXES)
	{
		ivf_check_index_scan($primary, 'items', $ix, "$label, primary");
		ivf_check_index_scan($standby, 'items', $ix, "$label, standby");
	}
	my $p = ivf_all_knn($primary, 'items', 2);
	my $s = ivf_all_knn($standby, 'items', 2);
	is($s, $p, "$label: every index returns the same ids on the standby");
	ivf_check_verify($primary, 'items', "$label, primary");
	ivf_check_verify($standby, 'items', "$label, standby");
	ivf_check_recall($primary, 'items', "$label, primary", 3);
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM items'),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM items'), "$label: same row count on the standby");
}

compare_nodes('after the build');
$primary->safe_psql('postgres', ivf_fill_sql('items', 2001, 3500, $d, $nc));
compare_nodes('after 1500 inserts');
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 3 = 0; VACUUM items;');
compare_nodes('after deletes and VACUUM');
$primary->safe_psql('postgres', ivf_fill_sql('items', 5001, 5500, $d, $nc));
compare_nodes('after inserts into vacuumed pages');

done_testing();
