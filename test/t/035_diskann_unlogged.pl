# 035_diskann_unlogged.pl -- diskann indexes on unlogged tables across a crash.
#
# An unlogged table of 2000 clustered rows (64 dimensions, VxDiskann.pm) with
# diskann indexes on vector l2 and halfvec cosine, and storage_layout plain
# ones on vector cosine and halfvec l2, built over rows, then
# inserted into, deleted from and vacuumed; and a second unlogged table whose
# index was created while it was empty (only its init fork was built from
# no rows). A clean restart keeps everything. After an immediate shutdown
# both tables come back empty from their init forks and so must the indexes:
# unlogged, valid (vx_diskann_verify finds no problem), used by the plan,
# returning no rows, one metapage and the quantizer's center pages at most;
# then they take new rows, reach their recall against brute force and
# return rows nearest first by their recomputed distance.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxDiskann;

my ($d, $nc) = (64, 100);
my @mo_indexes = @DISKANN_INDEXES[ 0, 3 ];
my @plain_indexes = @DISKANN_INDEXES[ 1, 2 ];
my @indexes = (@mo_indexes, @plain_indexes);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

# CREATE INDEX of every index on $table
sub create_indexes
{
	my ($table) = @_;
	$node->safe_psql('postgres', da_index_sql($table, $_)) for @mo_indexes;
	$node->safe_psql('postgres', da_index_sql($table, $_, "storage_layout = 'plain'")) for @plain_indexes;
}

$node->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d, 1)
	  . da_fill_sql('items', 1, 1500, $d, $nc)
	  . da_queries_sql('queries', 30, $d, $nc));
create_indexes('items');
$node->safe_psql('postgres', da_items_sql('empty_at_build', $d, 1));
create_indexes('empty_at_build');
$node->safe_psql('postgres', 'INSERT INTO empty_at_build SELECT * FROM items;');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(relname || ':' || relpersistence::text, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE '%\_cos' OR relname LIKE '%\_l2'}),
	'empty_at_build_h_cos:u,empty_at_build_h_l2:u,empty_at_build_v_cos:u,empty_at_build_v_l2:u,'
	  . 'items_h_cos:u,items_h_l2:u,items_v_cos:u,items_v_l2:u', 'the indexes are unlogged');

$node->safe_psql('postgres', da_fill_sql('items', 1501, 2000, $d, $nc) . 'DELETE FROM items WHERE id % 5 = 0; VACUUM items;');
da_check_recall($node, 'items', 'before any restart', \@indexes);
da_check_verify($node, 'items', 'before any restart', 0);
da_check_verify($node, 'empty_at_build', 'before any restart', 0);

# a clean restart keeps the rows and the indexes
my $knn = da_all_knn($node, 'items', \@indexes);
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '1600', 'clean restart: the rows are kept');
is($node->safe_psql('postgres', 'SELECT count(*) FROM empty_at_build'), '1500', 'clean restart: the other table keeps its rows');
is(da_all_knn($node, 'items', \@indexes), $knn, 'clean restart: every query returns the same ids as before');
da_check_recall($node, 'items', 'after a clean restart', \@indexes);
da_check_verify($node, 'items', 'after a clean restart', 0);
da_check_verify($node, 'empty_at_build', 'after a clean restart', 0);

# a crash empties the tables and their indexes (init forks)
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '0', 'crash: the unlogged table is empty');
is($node->safe_psql('postgres', 'SELECT count(*) FROM empty_at_build'), '0', 'crash: the other unlogged table is empty');
da_check_verify($node, 'items', 'crash, empty', 0);
da_check_verify($node, 'empty_at_build', 'crash, empty', 0);
for my $table ('items', 'empty_at_build')
{
	for my $ix (@indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		$name =~ s/^items/$table/;
		da_check_index_scan($node, $table, $ix, 'crash, empty');
		is( $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM $table ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10) s}),
			'0', "crash, empty: $name returns no rows");
		# the metapage, and the center pages of a build over no rows at most
		cmp_ok($node->safe_psql('postgres', qq{SELECT pg_relation_size('$name')}), '<=', 8192 * 2,
			"crash, empty: $name is back to its init fork (at most two pages)");
	}
}

# usable again
$node->safe_psql('postgres', da_fill_sql('items', 5001, 7000, $d, $nc)
	  . 'INSERT INTO empty_at_build SELECT * FROM items;');
for my $table ('items', 'empty_at_build')
{
	da_check_recall($node, $table, 'crash, refilled', \@indexes);
	da_check_verify($node, $table, 'crash, refilled', 0);
	da_check_order($node, $table, 'crash, refilled', [ $mo_indexes[0], $plain_indexes[0] ]);
}
# and a clean restart after that keeps the new rows
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '2000', 'clean restart after the crash: the new rows are kept');
da_check_recall($node, 'items', 'clean restart after the crash', \@indexes);
da_check_verify($node, 'items', 'clean restart after the crash', 0);

$node->stop;
done_testing();
