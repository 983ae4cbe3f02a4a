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

# pgvector keeps up to 10 heap TIDs per element (identical vectors share
# one), so hnsw.ef_search = 1 over 20 copies of one vector returns 10 rows
# there. Here copies are elements; a scan returns the ties with its worst
# result (up to 9 per result), so no fewer rows: checked after a build, after
# inserts, after VACUUM of some copies and after a parallel build, for every
# element kind.
$node->safe_psql('postgres', q{CREATE TABLE copies (id int, v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
CREATE TABLE copies_others AS SELECT i AS id, vx_cvec(i, 3, 5)::vector(3) AS v FROM generate_series(1, 200) i;});

my @cols = (['v', 'vector_l2_ops', '<->', '[1,1,1]'], ['h', 'halfvec_l2_ops', '<->', '[1,1,1]'],
	['s', 'sparsevec_l2_ops', '<->', '{1:1,2:1,3:1}/3'], ['b', 'bit_hamming_ops', '<~>', '111']);

# rows an index scan on $col returns at ef_search 1 (no LIMIT; iterative scans off)
sub rows_ef1
{
	my ($col, $op, $q) = @_;
	return $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 1;
SELECT count(*) FROM (SELECT id FROM copies ORDER BY $col $op '$q') s});
}

sub fill_copies
{
	my ($from, $to) = @_;
	$node->safe_psql('postgres', qq{INSERT INTO copies SELECT i, '[1,1,1]', '[1,1,1]', '{1:1,2:1,3:1}/3', '111'
	FROM generate_series($from, $to) i;});
}

sub check_copies
{
	my ($label, $min, $max) = @_;
	for my $c (@cols) {
		my $n = rows_ef1($c->[0], $c->[2], $c->[3]);
		cmp_ok($n, '>=', $min, "$label: $c->[1], ef_search = 1 over $max copies returns $n rows (>= $min)");
		cmp_ok($n, '<=', $max, "$label: $c->[1], no more rows than there are copies");
	}
}

# build: 20 copies only
fill_copies(1, 20);
$node->safe_psql('postgres', join('', map { "CREATE INDEX copies_$_->[0] ON copies USING hnsw ($_->[0] $_->[1]);" } @cols));
check_copies('build', 10, 20);

# inserts into the built index (20 more), then others around them
fill_copies(21, 40);
check_copies('insert', 10, 40);

# VACUUM after deleting 13 of the 40 copies, then more inserts and deletes
$node->safe_psql('postgres', q{DELETE FROM copies WHERE id % 3 = 0; VACUUM copies;});
is($node->safe_psql('postgres', 'SELECT count(*) FROM copies'), '27', '27 copies are left');
check_copies('vacuum', 10, 27);
fill_copies(41, 60);
$node->safe_psql('postgres', q{DELETE FROM copies WHERE id BETWEEN 1 AND 20 OR id BETWEEN 41 AND 45; VACUUM copies;});
check_copies('vacuum then insert', 10, 29);
is($node->safe_psql('postgres', q{SELECT string_agg(i::text, ',') FROM (SELECT * FROM vx_hnsw_verify('copies_v')
	UNION ALL SELECT * FROM vx_hnsw_verify('copies_b')) i}), '', 'vx_hnsw_verify finds no problem after the vacuums');

# parallel build over 20 copies among 3000 other rows (copies nearest)
$node->safe_psql('postgres', q{CREATE TABLE pcopies AS SELECT id, v FROM items;
INSERT INTO pcopies SELECT 100000 + i, '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'
	FROM generate_series(1, 20) i;
ALTER TABLE pcopies SET (parallel_workers = 2);});
my ($ret, $out, $err) = $node->psql('postgres', q{SET client_min_messages = debug1;
SET max_parallel_maintenance_workers = 2; SET min_parallel_table_scan_size = 0;
CREATE INDEX pcopies_v ON pcopies USING hnsw (v vector_l2_ops);});
is($ret, 0, 'parallel build succeeds');
like($err, qr/using 2 parallel workers/, 'the build is parallel');
my $n = $node->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.ef_search = 1;
SELECT count(*) FROM (SELECT id FROM pcopies ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 100) s});
cmp_ok($n, '>=', 10, "parallel build: ef_search = 1 over 20 copies returns $n rows (>= 10)");
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.ef_search = 1;
SELECT count(*) FILTER (WHERE id < 100000) FROM (SELECT id FROM pcopies ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 100) s}),
	'0', 'parallel build: every row returned is a copy (ties only)');

# order stays exact with ties: distances never decrease
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.ef_search = 3;
SELECT count(*) FROM (SELECT d, lag(d) OVER () AS p FROM (SELECT v <-> '[1.1,1,1]' AS d FROM copies ORDER BY v <-> '[1.1,1,1]') s) s WHERE d < p}),
	'0', 'rows with ties come back in distance order');

$node->stop;
done_testing();
