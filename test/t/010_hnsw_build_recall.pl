# 010_hnsw_build_recall.pl -- recall of freshly built hnsw indexes.
#
# 3000 clustered rows (vector and halfvec of 32 dimensions, sparsevec of 200,
# bit(128)) and 50 queries from the same distribution. Every opclass family
# of the test set (vector l2/ip/cosine, halfvec l2, sparsevec l2, bit
# hamming/jaccard) is built, must be the plan's index scan, and must reach its
# recall@10 against brute force at ef_search 100; vx_hnsw_verify must find no
# problem, not even one unreachable element (builds are deterministic). Then
# the same for a build that outgrows maintenance_work_mem (the rest of the rows
# go in through on-page inserts), for small m, and for vectors spanning pages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc, $n) = (32, 200, 128, 100, 3000);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, $n, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));

for my $ix (@HNSW_INDEXES)
{
	$node->safe_psql('postgres', index_sql('items', $ix));
	check_index_scan($node, 'items', $ix, 'after build');
}
check_recall($node, 'items', 'after build');
check_verify($node, 'items', 'after build', 0);

# Recall also holds at a small ef_search, a little lower: the graph is searched, not scanned.
cmp_ok($node->safe_psql('postgres', "SELECT vx_recall('items', 'v', '<->', 'queries', 10, 20)"),
	'>=', 0.9, 'after build: recall@10 of vector_l2_ops at ef_search 20 >= 0.9');

# A build that outgrows maintenance_work_mem: 4000 rows of 128 dimensions
# need about 3 MB in memory, 1MB holds about a third; the rest go in through
# on-page inserts.
$node->safe_psql('postgres', q{
CREATE TABLE mem (id bigint PRIMARY KEY, v vector(128));
INSERT INTO mem SELECT i, vx_cvec(i, 128, 50)::vector FROM generate_series(1, 4000) i;
CREATE TABLE mem_queries AS SELECT i AS id, vx_cvec(i, 128, 50)::vector(128) AS v FROM generate_series(1000000001, 1000000050) i;});
my ($ret, $out, $err) = $node->psql('postgres', q{SET maintenance_work_mem = '1MB';
CREATE INDEX mem_v_l2 ON mem USING hnsw (v vector_l2_ops);});
is($ret, 0, 'build with maintenance_work_mem = 1MB succeeds');
like($err, qr/NOTICE:  hnsw graph no longer fits into maintenance_work_mem after \d+ tuples\nDETAIL:  Building will take significantly more time\.\nHINT:  Increase maintenance_work_mem to speed up builds\./,
	'the build says the graph no longer fits in memory (pgvector\'s NOTICE, DETAIL and HINT)');
like($node->safe_psql('postgres', q{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM mem ORDER BY v <-> (SELECT v FROM mem_queries LIMIT 1) LIMIT 10}),
	qr/Index Scan using mem_v_l2 on mem/, 'memory-bounded build: the index is used');
my $r = $node->safe_psql('postgres', q{SELECT vx_recall('mem', 'v', '<->', 'mem_queries', 10, 100)});
cmp_ok($r, '>=', 0.95, "memory-bounded build: recall\@10 is $r (>= 0.95)");
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('mem_v_l2')}),
	'', 'vx_hnsw_verify: the memory-bounded build is healthy');

# Small m: fewer links, more levels, several upper pages.
$node->safe_psql('postgres', 'CREATE INDEX items_v_l2_m4 ON items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16)');
check_index_scan($node, 'items', [ 'items_v_l2_m4', 'v', 'vector_l2_ops', '<->' ], 'm = 4');
check_recall($node, 'items', 'm = 4', [ [ 'items_v_l2_m4', 'v', 'vector_l2_ops', '<->', 0.9 ] ]);
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('items_v_l2_m4')}), '', 'vx_hnsw_verify: m = 4 build is healthy');
$node->safe_psql('postgres', 'DROP INDEX items_v_l2_m4');

# Vectors larger than a page (2500 floats: 10 kB, two pages each).
$node->safe_psql('postgres', qq{
CREATE TABLE wide (id bigint PRIMARY KEY, v vector(2500));
INSERT INTO wide SELECT i, vx_cvec(i, 2500, 20)::vector FROM generate_series(1, 300) i;
CREATE TABLE wide_queries AS SELECT i AS id, vx_cvec(i, 2500, 20)::vector(2500) AS v FROM generate_series(1000000001, 1000000020) i;
CREATE INDEX wide_v_l2 ON wide USING hnsw (v vector_l2_ops);});
like($node->safe_psql('postgres', q{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM wide ORDER BY v <-> (SELECT v FROM wide_queries LIMIT 1) LIMIT 10}),
	qr/Index Scan using wide_v_l2 on wide/, 'spanning vectors: the index is used');
$r = $node->safe_psql('postgres', q{SELECT vx_recall('wide', 'v', '<->', 'wide_queries', 10, 100)});
cmp_ok($r, '>=', 0.95, "spanning vectors: recall\@10 is $r (>= 0.95)");
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('wide_v_l2', 0)}), '', 'vx_hnsw_verify: spanning vectors build is healthy');

$node->stop;
done_testing();
