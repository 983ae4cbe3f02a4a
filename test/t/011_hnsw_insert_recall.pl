# 011_hnsw_insert_recall.pl -- recall after inserts into existing hnsw indexes.
#
# The indexes of every opclass in the test set are built over the first 500
# of 3000 clustered rows; the other 2500 go in through aminsert (in batches,
# so later inserts search a graph that earlier inserts extended). Recall@10
# against brute force at ef_search 100 must reach each index's minimum and
# vx_hnsw_verify must find no problem. Then an index built on an empty table
# and filled only by inserts. (Duplicates: 018_hnsw_duplicates.pl.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 500, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));
$node->safe_psql('postgres', index_sql('items', $_)) for @HNSW_INDEXES;
for (my $from = 501; $from <= 3000; $from += 500)
{
	$node->safe_psql('postgres', fill_items_sql('items', $from, $from + 499, $d, $sd, $bd, $nc));
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '3000', '3000 rows, 2500 of them inserted after the build');
check_index_scan($node, 'items', $_, 'after inserts') for @HNSW_INDEXES;
check_recall($node, 'items', 'after inserts');
check_verify($node, 'items', 'after inserts');

# An index that only ever saw inserts (built on an empty table).
$node->safe_psql('postgres', items_sql('fresh', $d, $sd, $bd)
	  . index_sql('fresh', $HNSW_INDEXES[0]) . index_sql('fresh', $HNSW_INDEXES[5]));
for (my $from = 1; $from <= 3000; $from += 1000)
{
	$node->safe_psql('postgres', fill_items_sql('fresh', $from, $from + 999, $d, $sd, $bd, $nc));
}
check_index_scan($node, 'fresh', $HNSW_INDEXES[0], 'empty build + inserts');
check_recall($node, 'fresh', 'empty build + inserts', [ $HNSW_INDEXES[0], $HNSW_INDEXES[5] ]);
check_verify($node, 'fresh', 'empty build + inserts');

$node->stop;
done_testing();
