# 036_diskann_build_parallel.pl -- parallel diskann builds.
#
# Parallel builds are forced with the table's parallel_workers reloption
# (plan_create_index_workers then grants max_parallel_maintenance_workers
# whatever the table's size); the build says at DEBUG1 how many workers it
# used, which the tests check, so a build that silently went serial fails
# them. 6000 clustered rows of 64 dimensions (VxDiskann.pm): every opclass
# is built in parallel and must reach its recall@10 against brute force at
# the default settings and at a small list (where a weak graph shows), pass
# vx_diskann_verify with no tolerance (not one unreachable node), and count
# every row. The same index built serially must agree in recall within two
# points (parallel builds are not deterministic). storage_layout plain on
# vector l2 and halfvec cosine, built in parallel (the leader keeps the
# stored vectors, the workers only the quantized part in the segment): the
# same recall checks, within two points of the parallel memory_optimized
# build, verify (stored vectors re-encoded), order. Then: a parallel build
# with a label column (label starts, filtered recall), CREATE INDEX
# CONCURRENTLY in parallel, a parallel build whose table has more rows than
# its estimate (rows past the segment go in through on-page inserts), and a
# build cancelled by statement_timeout while the workers link the graph,
# which must leave the server working.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxDiskann;

my ($d, $nc, $n) = (64, 100, 6000);
my $min_small = 0.82;    # recall@10 at list 10, rescore 10 (as 030)

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf',
	"jit = off\nautovacuum = off\nmax_worker_processes = 8\nmax_parallel_workers = 8\n"
	  . "max_parallel_maintenance_workers = 2\n");
$node->start;

$node->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d)
	  . da_fill_sql('items', 1, $n, $d, $nc)
	  . "INSERT INTO items (id) SELECT i FROM generate_series($n + 1, $n + 40) i;"
	  . da_queries_sql('queries', 50, $d, $nc)
	  . 'ALTER TABLE items SET (parallel_workers = 2); ANALYZE items;');

# Run SQL with DEBUG1 messages; returns (exit code, stderr).
sub build
{
	my ($sql, $settings) = @_;
	$settings //= '';
	my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1; $settings $sql");
	return ($ret, $err);
}

my $parallel = qr/DEBUG:  using 2 parallel workers/;

# --- every opclass, built in parallel
for my $ix (@DISKANN_INDEXES)
{
	my ($ret, $err) = build(da_index_sql('items', $ix));
	is($ret, 0, "parallel build of $ix->[0] succeeds");
	like($err, $parallel, "$ix->[0]: the graph was linked by 2 workers and the leader");
	da_check_index_scan($node, 'items', $ix, 'parallel build');
}
my $par = da_check_recall($node, 'items', 'parallel build');
for my $ix (@DISKANN_INDEXES)
{
	my ($name, $col, $opclass, $op) = @$ix;
	my $r = da_recall($node, 'items', $col, $op, list => 10, rescore => 10);
	cmp_ok($r, '>=', $min_small, "parallel build: recall\@10 of $opclass at list 10, rescore 10 is $r (>= $min_small)");
	$par->{"$name small"} = $r;
}
da_check_verify($node, 'items', 'parallel build', 0);
da_check_order($node, 'items', 'parallel build');
is( $node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname IN ('items', 'items_v_l2') ORDER BY relname}),
	($n + 40) . "\n$n", 'parallel build: heap tuples and index tuples count every row');

# --- the same indexes built serially: recall within two points
$node->safe_psql('postgres', "DROP INDEX $_->[0]") for @DISKANN_INDEXES;
for my $ix (@DISKANN_INDEXES)
{
	my ($ret, $err) = build(da_index_sql('items', $ix), 'SET max_parallel_maintenance_workers = 0;');
	is($ret, 0, "serial build of $ix->[0] succeeds");
	unlike($err, qr/parallel workers/, "$ix->[0]: the serial build used no worker");
}
for my $ix (@DISKANN_INDEXES)
{
	my ($name, $col, $opclass, $op) = @$ix;
	my $r = da_recall($node, 'items', $col, $op, list => 10, rescore => 10);
	cmp_ok(abs($r - $par->{"$name small"}), '<=', 0.02,
		"$opclass at list 10: serial recall $r, parallel " . $par->{"$name small"} . ' (within 0.02)');
}
da_check_verify($node, 'items', 'serial build', 0);
$node->safe_psql('postgres', "DROP INDEX $_->[0]") for @DISKANN_INDEXES;

# --- storage_layout plain, built in parallel
my @plain = @DISKANN_INDEXES[ 0, 3 ];
for my $ix (@plain)
{
	my ($ret, $err) = build(da_index_sql('items', $ix, "storage_layout = 'plain'"));
	is($ret, 0, "parallel plain build of $ix->[0] succeeds");
	like($err, $parallel, "plain $ix->[0]: the graph was linked by 2 workers and the leader");
	da_check_index_scan($node, 'items', $ix, 'parallel plain build');
}
da_check_recall($node, 'items', 'parallel plain build', \@plain);
for my $ix (@plain)
{
	my ($name, $col, $opclass, $op) = @$ix;
	my $r = da_recall($node, 'items', $col, $op, list => 10, rescore => 10);
	cmp_ok($r, '>=', $min_small, "parallel plain build: recall\@10 of $opclass at list 10, rescore 10 is $r (>= $min_small)");
	cmp_ok(abs($r - $par->{"$name small"}), '<=', 0.02,
		"$opclass at list 10: parallel plain recall $r, parallel memory_optimized " . $par->{"$name small"} . ' (within 0.02)');
}
da_check_verify($node, 'items', 'parallel plain build', 0);
da_check_order($node, 'items', 'parallel plain build', \@plain);
$node->safe_psql('postgres', "DROP INDEX $_->[0]") for @plain;

# --- labels: a parallel build with per-label start points
$node->safe_psql('postgres', q{
ALTER TABLE items ADD COLUMN labels smallint[];
UPDATE items SET labels = ARRAY[(id % 7)::smallint, (10 + id % 3)::smallint] WHERE v IS NOT NULL;
VACUUM ANALYZE items;
ALTER TABLE items SET (parallel_workers = 2);});
my ($ret, $err) = build('CREATE INDEX items_lab ON items USING diskann (v vector_l2_ops, labels);');
is($ret, 0, 'parallel build with a label column succeeds');
like($err, $parallel, 'label column: 2 workers');
my $r = da_recall($node, 'items', 'v', '<->', filter => 'labels && ARRAY[3]::smallint[]');
cmp_ok($r, '>=', 0.9, "label column: recall\@10 of labels && {3} (1/7 of the rows) is $r (>= 0.9)");
da_check_verify($node, 'items', 'label column', 0);
$node->safe_psql('postgres', 'DROP INDEX items_lab; ALTER TABLE items DROP COLUMN labels;');

# --- CREATE INDEX CONCURRENTLY in parallel
($ret, $err) = build(q{CREATE INDEX CONCURRENTLY items_cc ON items USING diskann (v vector_cosine_ops);});
is($ret, 0, 'CREATE INDEX CONCURRENTLY in parallel succeeds');
like($err, $parallel, 'CREATE INDEX CONCURRENTLY: 2 workers');
$r = da_recall($node, 'items', 'v', '<=>');
cmp_ok($r, '>=', 0.97, "CREATE INDEX CONCURRENTLY: recall\@10 is $r (>= 0.97)");
da_check_verify($node, 'items', 'CREATE INDEX CONCURRENTLY', 0);
$node->safe_psql('postgres', 'DROP INDEX items_cc');

# --- more rows than estimated: the segment holds the estimate (+20%, +1000),
# the rest go in through on-page inserts. The planner's estimate is the
# density of the last ANALYZE times the pages now: ANALYZE sees 2000 rows
# padded to a page each, then 8000 narrow rows follow (about 20 a page).
$node->safe_psql('postgres', da_items_sql('big', $d) . q{
ALTER TABLE big ADD COLUMN pad text; ALTER TABLE big ALTER COLUMN pad SET STORAGE PLAIN;
ALTER TABLE big SET (parallel_workers = 2, autovacuum_enabled = off);}
	  . da_fill_sql('big', 1, 2000, $d, $nc)
	  . q{UPDATE big SET pad = repeat('x', 5000); VACUUM FULL big; ANALYZE big;}
	  . da_fill_sql('big', 2001, 10000, $d, $nc));
cmp_ok($node->safe_psql('postgres', q{SELECT reltuples / relpages FROM pg_class WHERE relname = 'big'}),
	'<', 2, 'the density ANALYZE saw is about one row a page');
($ret, $err) = build(da_index_sql('big', $DISKANN_INDEXES[0]));
is($ret, 0, 'parallel build past its segment succeeds');
like($err, $parallel, 'past the segment: 2 workers');
like($err, qr/DEBUG:  diskann build: the table has more rows than the parallel build's segment holds/,
	'past the segment: the rest of the rows went to on-page inserts');
unlike($err, qr/NOTICE/, 'past the segment: no maintenance_work_mem NOTICE (memory was not the limit)');
$r = da_recall($node, 'big', 'v', '<->');
cmp_ok($r, '>=', 0.95, "past the segment: recall\@10 is $r (>= 0.95)");
da_check_verify($node, 'big', 'past the segment', 0);
is($node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname = 'big_v_l2'}),
	'10000', 'past the segment: every row indexed');

# --- cancelled while the workers link the graph
($ret, $err) = build(da_index_sql('big', $DISKANN_INDEXES[1], 'search_list_size = 500, num_neighbors = 100'),
	q{SET statement_timeout = '300ms';});
isnt($ret, 0, 'a parallel build past statement_timeout fails');
like($err, qr/canceling statement due to statement timeout/, 'the timeout cancelled it');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_v_cos'}),
	'0', 'the cancelled index does not exist');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), '10000', 'the server still answers');

$node->stop;
done_testing();
