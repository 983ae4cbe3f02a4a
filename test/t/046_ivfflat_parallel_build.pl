# 046_ivfflat_parallel_build.pl -- parallel ivfflat builds.
#
# 6000 rows of 32 dimensions in 20 clusters; the table's parallel_workers
# and max_parallel_maintenance_workers = 2 make the assignment scan run in
# parallel workers (the DEBUG1 line says how many were launched). The
# centers do not depend on the workers, so for vector l2, halfvec cosine
# and bit hamming a parallel build must return exactly the ids a serial
# build returns at probes 4 for every query (scans order by distance, then
# heap TID); it must verify clean, index every row once (probes = lists)
# and report the rows in pg_class.reltuples. A parallel CREATE INDEX
# CONCURRENTLY too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxIvfflat;

my ($d, $nc, $lists) = (32, 20, 20);
my @indexes = @IVFFLAT_INDEXES[ 0, 5, 6 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\nmax_worker_processes = 8\n");
$node->start;
$node->safe_psql('postgres',
	ivfflat_setup_sql()
	  . ivf_items_sql('items', $d)
	  . ivf_fill_sql('items', 1, 6000, $d, $nc)
	  . ivf_queries_sql('queries', 30, $d, $nc)
	  . 'ALTER TABLE items SET (parallel_workers = 2);');

my %serial;
for my $ix (@indexes)
{
	$node->safe_psql('postgres', 'SET max_parallel_maintenance_workers = 0; ' . ivf_index_sql('items', $ix, $lists));
	$serial{ $ix->[0] } = ivf_all_knn($node, 'items', 4, [$ix]);
	$node->safe_psql('postgres', "DROP INDEX $ix->[0]");
}
for my $ix (@indexes)
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2; " . ivf_index_sql('items', $ix, $lists));
	is($ret, 0, "$ix->[0]: parallel build succeeds");
	like($err, qr/ivfflat build: [12] parallel workers launched/, "$ix->[0]: the build launched parallel workers");
	is(ivf_all_knn($node, 'items', 4, [$ix]), $serial{ $ix->[0] },
		"$ix->[0]: the parallel build returns the serial build's ids for every query");
	is($node->safe_psql('postgres', "SELECT reltuples::bigint FROM pg_class WHERE relname = '$ix->[0]'"), '6000',
		"$ix->[0]: reltuples counts every row");
}
ivf_check_verify($node, 'items', 'after parallel builds');
ivf_check_complete($node, 'items', 'after parallel builds', $lists, \@indexes);
ivf_check_recall($node, 'items', 'after parallel builds', 5, indexes => \@indexes);

# concurrently, then inserts into the built index
$node->safe_psql('postgres', 'DROP INDEX items_v_l2');
my ($ret, $out, $err) = $node->psql('postgres',
	'SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2; '
	  . 'CREATE INDEX CONCURRENTLY items_v_l2 ON items USING ivfflat (v vector_l2_ops) WITH (lists = 20);');
is($ret, 0, 'parallel CREATE INDEX CONCURRENTLY succeeds');
like($err, qr/ivfflat build: [12] parallel workers launched/, 'CREATE INDEX CONCURRENTLY launched parallel workers');
is(ivf_all_knn($node, 'items', 4, [ $indexes[0] ]), $serial{items_v_l2}, 'CONCURRENTLY: the serial build\'s ids');
$node->safe_psql('postgres', ivf_fill_sql('items', 6001, 7000, $d, $nc));
ivf_check_verify($node, 'items', 'after inserts into parallel builds');
ivf_check_complete($node, 'items', 'after inserts into parallel builds', $lists, \@indexes);

done_testing();
