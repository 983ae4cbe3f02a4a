# 016_hnsw_unlogged.pl -- hnsw indexes on unlogged tables across a crash.
#
# An unlogged table with hnsw indexes (vector l2, bit hamming) built over
# rows, then inserted into, deleted from and vacuumed. A clean restart keeps
# everything. After an immediate shutdown the table comes back empty from its
# init fork and so must the indexes: valid (vx_hnsw_verify finds no
# problem), used by the plan, returning no rows; then they take new rows and
# reach their recall against brute force. A second index, created on the
# empty table, goes through the same.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);
my @indexes = @HNSW_INDEXES[ 0, 5 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd, 1)
	  . fill_items_sql('items', 1, 1500, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 30, $d, $sd, $bd, $nc));
$node->safe_psql('postgres', index_sql('items', $_)) for @indexes;
$node->safe_psql('postgres', q{CREATE UNLOGGED TABLE empty_at_build (id bigint, v vector(32));
CREATE INDEX empty_at_build_v_l2 ON empty_at_build USING hnsw (v vector_l2_ops);
INSERT INTO empty_at_build SELECT id, v FROM items;});
is($node->safe_psql('postgres', q{SELECT relpersistence FROM pg_class WHERE relname = 'items_v_l2'}), 'u', 'the index is unlogged');

$node->safe_psql('postgres', fill_items_sql('items', 1501, 2000, $d, $sd, $bd, $nc)
	  . 'DELETE FROM items WHERE id % 5 = 0; VACUUM items;');
check_recall($node, 'items', 'before any restart', \@indexes);
check_verify($node, 'items', 'before any restart');

# a clean restart keeps the rows and the indexes
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '1600', 'clean restart: the rows are kept');
check_recall($node, 'items', 'after a clean restart', \@indexes);
check_verify($node, 'items', 'after a clean restart');

# a crash empties the table and its indexes (init fork)
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '0', 'crash: the unlogged table is empty');
is($node->safe_psql('postgres', 'SELECT count(*) FROM empty_at_build'), '0', 'crash: the other unlogged table is empty');
check_verify($node, 'items', 'crash, empty');
check_verify($node, 'empty_at_build', 'crash, empty');
for my $ix (@indexes)
{
	my ($name, $col, $opclass, $op) = @$ix;
	check_index_scan($node, 'items', $ix, 'crash, empty');
	is( $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10) s}),
		'0', "crash, empty: $name returns no rows");
}
cmp_ok($node->safe_psql('postgres', q{SELECT pg_relation_size('items_v_l2')}), '<=', 8192,
	'crash, empty: the index is back to its init fork (at most one page)');

# usable again
$node->safe_psql('postgres', fill_items_sql('items', 5001, 7000, $d, $sd, $bd, $nc)
	  . 'INSERT INTO empty_at_build SELECT id, v FROM items;');
check_recall($node, 'items', 'crash, refilled', \@indexes);
check_verify($node, 'items', 'crash, refilled');
my $r = $node->safe_psql('postgres', q{SELECT vx_recall('empty_at_build', 'v', '<->', 'queries', 10, 100)});
cmp_ok($r, '>=', 0.95, "crash, refilled: recall\@10 of the index built on an empty table is $r (>= 0.95)");
check_verify($node, 'empty_at_build', 'crash, refilled');

$node->stop;
done_testing();
