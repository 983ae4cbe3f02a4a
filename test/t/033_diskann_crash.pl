# 033_diskann_crash.pl -- crash recovery of diskann indexes.
#
# wal_consistency_checking = 'generic' makes recovery compare every replayed
# generic record's page with the logged image.
# 1. Immediate shutdown (three times) while pgbench runs concurrent inserts and
#    updates into a table of 3000 clustered rows (64 dimensions, VxDiskann.pm)
#    with diskann indexes on vector l2 and halfvec cosine, and plain ones
#    (storage_layout plain: vector pages, extents extended by inserts) on
#    vector cosine and halfvec l2: after restart (the
#    log shows crash recovery) every index passes vx_diskann_verify, reaches
#    its recall@10 against brute force and returns rows nearest first by the
#    distance recomputed from the heap row; and it still takes inserts and
#    VACUUM.
# 2. Immediate shutdown in the middle of VACUUM's index pass (slowed down by
#    vacuum_cost_delay), after 40% of the rows were deleted: the same checks
#    after recovery, and again after a VACUUM that completes; then inserts
#    reuse the ids VACUUM freed (the indexes do not grow).
# 3. Immediate shutdown during CREATE INDEX (30000 rows, while it builds its
#    graph, and while it inserts on pages after outgrowing
#    maintenance_work_mem, also for a plain index): after restart the index
#    does not exist, and a new CREATE INDEX works and is healthy.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VxDiskann;

my ($d, $nc) = (64, 100);
my @mo_indexes = @DISKANN_INDEXES[ 0, 3 ];
my @plain_indexes = @DISKANN_INDEXES[ 1, 2 ];
my @indexes = (@mo_indexes, @plain_indexes);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\nwal_consistency_checking = 'generic'\n");
$node->start;

$node->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d)
	  . da_fill_sql('items', 1, 3000, $d, $nc)
	  . da_queries_sql('queries', 50, $d, $nc));
$node->safe_psql('postgres', da_index_sql('items', $_)) for @mo_indexes;
$node->safe_psql('postgres', da_index_sql('items', $_, "storage_layout = 'plain'")) for @plain_indexes;

# All checks of the items indexes. After the crash during VACUUM 40% of the
# rows are deleted and not vacuumed yet, whole clusters among them (row i is
# in cluster i % 100): a plain index's re-rank window must then not be used
# up by rows the executor finds dead (kill_prior_tuple; the heap re-rank
# counts visible rows only), or a query from a deleted cluster gets rows out
# of order.
sub check_all
{
	my ($label) = @_;
	da_check_verify($node, 'items', $label);
	da_check_recall($node, 'items', $label, \@indexes);
	da_check_order($node, 'items', $label, [ $mo_indexes[0], $plain_indexes[0] ]);
}

# Restart after an immediate shutdown; the log must show crash recovery.
sub crash_restart
{
	my ($label) = @_;
	my $log_offset = -s $node->logfile;
	$node->stop('immediate');
	$node->start;
	like(substr(slurp_file($node->logfile), $log_offset),
		qr/database system was not properly shut down; automatic recovery in progress/, "$label: crash recovery ran");
}

# 1. crash during concurrent inserts and updates
my %scripts = (
	'insert' => "\\set i random(10000000, 99999999)\n"
	  . "INSERT INTO items SELECT :i, a::vector, a::halfvec FROM vx_cvec(:i, $d, $nc) a ON CONFLICT DO NOTHING;\n",
	'update' => "\\set i random(1, 3000)\n\\set j random(10000000, 99999999)\n"
	  . "UPDATE items SET (v, h) = (SELECT a::vector, a::halfvec FROM vx_cvec(:j, $d, $nc) a) WHERE id = :i;\n",
);
my @files;
for my $name (sort keys %scripts)
{
	my $file = $node->basedir . "/033_$name.sql";
	append_to_file($file, $scripts{$name});
	push @files, '-f', $file . ($name eq 'insert' ? '@3' : '@1');
}
for my $round (1 .. 3)
{
	my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
	my ($out, $err) = ('', '');
	my $bench = IPC::Run::start(
		[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=120', @files, $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
	my $more = 100 * $round + 37;
	ok( $node->poll_query_until('postgres', "SELECT count(*) > $rows_before + $more FROM items"),
		"round $round: concurrent inserts are under way");
	crash_restart("round $round: crash during inserts");
	$bench->finish;
	like($err, qr/terminating connection due to immediate shutdown|server closed the connection/,
		"round $round: pgbench was cut off by the crash");
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
	cmp_ok($rows, '>', $rows_before + $more, "round $round: after recovery the table has $rows rows");
	check_all("round $round: after the crash during inserts");
}

# still writable
$node->safe_psql('postgres', da_fill_sql('items', 20001, 20300, $d, $nc) . 'DELETE FROM items WHERE id % 17 = 0; VACUUM items;');
check_all('inserts, deletes and VACUUM after recovery');

# 2. crash in the middle of VACUUM's index pass
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 5 < 2');
my $vacuum = $node->background_psql('postgres', on_error_stop => 0);
$vacuum->query_until(qr/vacuum started/, q{
SET vacuum_cost_delay = 10;
SET vacuum_cost_limit = 1;
\echo vacuum started
VACUUM items;
});
ok( $node->poll_query_until('postgres', q{SELECT phase = 'vacuuming indexes' FROM pg_stat_progress_vacuum}),
	'VACUUM is in its index pass');
# let the pass change some pages
$node->poll_query_until('postgres', q{SELECT pg_sleep(0.5) IS NOT NULL AND phase = 'vacuuming indexes' FROM pg_stat_progress_vacuum})
  or note('VACUUM left the index phase early');
crash_restart('crash during VACUUM');
eval { $vacuum->quit; };
check_all('after the crash during VACUUM');
$node->safe_psql('postgres', 'VACUUM items');
check_all('after a complete VACUUM');

my %size = map { $_->[0] => $node->safe_psql('postgres', "SELECT pg_relation_size('$_->[0]')") } @indexes;
$node->safe_psql('postgres', da_fill_sql('items', 30001, 30800, $d, $nc));
for my $ix (@indexes)
{
	is($node->safe_psql('postgres', "SELECT pg_relation_size('$ix->[0]')"), $size{$ix->[0]},
		"$ix->[0]: 800 inserts after VACUUM freed the deleted nodes reuse their ids, the index does not grow");
}
check_all('after inserts into freed ids');

# 3. crash during CREATE INDEX
$node->safe_psql('postgres', "CREATE TABLE big AS SELECT i AS id, a::vector($d) AS v FROM generate_series(1, 30000) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a;"
	  . "CREATE TABLE big_queries AS SELECT i AS id, a::vector($d) AS v FROM generate_series(1000000001, 1000000050) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a;");
for my $case ([ 'building graph', '64MB', '' ], [ 'loading tuples', '1MB', '' ],
	[ 'loading tuples', '1MB', "WITH (storage_layout = 'plain')" ])
{
	my ($phase, $mwm, $with) = @$case;
	my $label = "crash during CREATE INDEX ($phase, maintenance_work_mem $mwm" . ($with ? ', plain' : '') . ')';
	my $build = $node->background_psql('postgres', on_error_stop => 0);
	$build->query_until(qr/build started/, qq{
SET maintenance_work_mem = '$mwm';
\\echo build started
CREATE INDEX big_v_l2 ON big USING diskann (v vector_l2_ops) $with;
});
	# with 1MB the build writes what it has (2231 rows; plain 1067) and inserts the rest on pages, in "loading tuples"
	my $cond = $mwm eq '1MB' ? ' AND tuples_done > 3000' : '';
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE phase = 'building index: $phase'$cond"),
		"$label: the build is under way");
	crash_restart($label);
	eval { $build->quit; };
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_v_l2'}),
		'0', "$label: after recovery the index does not exist");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_index WHERE NOT indisvalid}),
		'0', "$label: no invalid index is left");
}
$node->safe_psql('postgres', 'CREATE INDEX big_v_l2 ON big USING diskann (v vector_l2_ops)');
da_check_index_scan($node, 'big', [ 'big_v_l2', 'v', 'vector_l2_ops', '<->' ], 'CREATE INDEX after the crashes', 'big_queries');
is($node->safe_psql('postgres', q{SELECT * FROM vx_diskann_verify('big_v_l2', 0)}), '',
	'CREATE INDEX after the crashes: vx_diskann_verify finds no problem');
my $r = da_recall($node, 'big', 'v', '<->', queries => 'big_queries');
cmp_ok($r, '>=', 0.97, "CREATE INDEX after the crashes: recall\@10 is $r (>= 0.97)");

$node->stop;
done_testing();
