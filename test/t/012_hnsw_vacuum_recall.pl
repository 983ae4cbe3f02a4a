# 012_hnsw_vacuum_recall.pl -- recall after deletes, VACUUM and inserts that
# reuse the freed heap space.
#
# The indexes of every opclass in the test set are built over 3000 clustered
# rows. Rounds of DELETE + VACUUM + INSERT follow; the inserts land in the
# heap slots VACUUM freed (checked: new rows get the TIDs of deleted ones), so
# an index element left pointing at a reused TID would return a row for the
# wrong vector. After every step: recall@10 against brute force at ef_search
# 100, rows nearest first by the distance recomputed from the heap row, and
# vx_hnsw_verify without problems. Finally every row is deleted and vacuumed:
# the index returns nothing, stays healthy, and takes new rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 3000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));
$node->safe_psql('postgres', index_sql('items', $_)) for @HNSW_INDEXES;

# Delete the rows matching $where, VACUUM, check; then insert $from..$to and check again.
sub round
{
	my ($label, $where, $from, $to) = @_;
	$node->safe_psql('postgres', qq{
DROP TABLE IF EXISTS dead_tids;
CREATE TABLE dead_tids AS SELECT ctid AS tid FROM items WHERE $where;
DELETE FROM items WHERE $where;
VACUUM items;});
	check_recall($node, 'items', "$label, after delete + VACUUM");
	check_order($node, 'items', "$label, after delete + VACUUM");
	check_verify($node, 'items', "$label, after delete + VACUUM");

	$node->safe_psql('postgres', fill_items_sql('items', $from, $to, $d, $sd, $bd, $nc));
	my $reused = $node->safe_psql('postgres',
		"SELECT count(*) FROM items WHERE id BETWEEN $from AND $to AND ctid IN (SELECT tid FROM dead_tids)");
	cmp_ok($reused, '>', ($to - $from + 1) / 2, "$label: $reused of the new rows reuse heap TIDs of deleted rows");
	check_index_scan($node, 'items', $_, "$label, after inserts") for @HNSW_INDEXES[0, 4];
	check_recall($node, 'items', "$label, after inserts");
	check_order($node, 'items', "$label, after inserts");
	check_verify($node, 'items', "$label, after inserts");
}

round('30% deleted', 'id % 10 < 3', 5001, 6000);
round('half of the rest deleted', 'id % 2 = 0', 7001, 8000);

# Everything deleted: nothing comes back, the index stays healthy and takes new rows.
$node->safe_psql('postgres', 'DELETE FROM items; VACUUM items;');
is( $node->safe_psql('postgres', q{SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries LIMIT 1) LIMIT 10) s}),
	'0', 'all rows deleted: the index returns nothing');
check_verify($node, 'items', 'all rows deleted');
$node->safe_psql('postgres', fill_items_sql('items', 9001, 9500, $d, $sd, $bd, $nc));
check_recall($node, 'items', 'refilled');
check_verify($node, 'items', 'refilled');

$node->stop;
done_testing();
