# 018_hnsw_duplicates.pl -- many identical vectors must all stay findable.
#
# 100 copies of one row's vector are added to 3000 clustered rows, once
# before CREATE INDEX (build path) and once through inserts into a built
# index. The 101 rows with that vector are its exact 101 nearest rows (at
# distance 0); an index scan at ef_search 200 must return all of them, and
# vx_hnsw_verify (tolerance 0.01) must find every live element
# reachable. A graph whose neighbour heuristic prunes equal-distance
# candidates leaves most copies without incoming links: this test shows it.
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
	  . fill_items_sql('items', 1, 3000, $d, $sd, $bd, $nc));

# the count of rows at distance 0 among the 101 nearest, through the index
sub copies_found
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 200;
SELECT count(*) || '|' || count(*) FILTER (WHERE d = 0) FROM (SELECT v <-> (SELECT v FROM $table WHERE id = 42) AS d
	FROM $table ORDER BY v <-> (SELECT v FROM $table WHERE id = 42) LIMIT 101) s});
}

# build path
$node->safe_psql('postgres', q{CREATE TABLE dup_build AS SELECT id, v FROM items;
INSERT INTO dup_build SELECT 100000 + i, v FROM items, generate_series(1, 100) i WHERE id = 42;
CREATE INDEX dup_build_idx ON dup_build USING hnsw (v vector_l2_ops);});
is($node->safe_psql('postgres', q{SET enable_indexscan = off;
SELECT count(*) FROM dup_build WHERE v <-> (SELECT v FROM dup_build WHERE id = 42) = 0}), '101', 'build: 101 rows share the vector');
is(copies_found('dup_build'), '101|101', 'build: the index returns all 101 copies as the 101 nearest rows');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('dup_build_idx')}), '', 'build: vx_hnsw_verify finds every element reachable');

# insert path
$node->safe_psql('postgres', q{CREATE TABLE dup_insert AS SELECT id, v FROM items;
CREATE INDEX dup_insert_idx ON dup_insert USING hnsw (v vector_l2_ops);
INSERT INTO dup_insert SELECT 100000 + i, v FROM items, generate_series(1, 100) i WHERE id = 42;});
is(copies_found('dup_insert'), '101|101', 'insert: the index returns all 101 copies as the 101 nearest rows');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('dup_insert_idx')}), '', 'insert: vx_hnsw_verify finds every element reachable');

$node->stop;
done_testing();
