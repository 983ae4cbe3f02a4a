# 023_hnsw_build_parallel.pl -- parallel hnsw builds, and builds whose graph
# outgrows maintenance_work_mem (serial and parallel).
#
# Parallel builds are forced with the table's parallel_workers reloption
# (plan_create_index_workers then grants max_parallel_maintenance_workers
# whatever the table's size or maintenance_work_mem); the build says at DEBUG1
# how many workers it launched, which the tests check, so a build that
# silently went serial fails them. Every opclass family of the test set is
# built in parallel and must reach its recall@10 against brute force and
# pass vx_hnsw_verify (with its default tolerance: parallel builds are not
# deterministic). The index and heap tuple counts must sum all participants'.
# Then CREATE INDEX CONCURRENTLY in parallel; builds that spill (the graph is
# written to pages when full and the other rows are inserted there): in
# parallel with the leader scanning (all opclasses), with the leader only
# waiting (it then flushes from its wait loop), and serially with vectors
# spanning pages; and an error raised in a worker, which must reach the
# client and leave the server working.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxHnsw;

my ($d, $sd, $bd, $nc, $n) = (32, 200, 128, 100, 3000);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf',
	"jit = off\nmax_worker_processes = 8\nmax_parallel_workers = 8\nmax_parallel_maintenance_workers = 2\n");
$node->start;

# 3000 rows plus 50 rows of NULLs (not indexed, but counted as heap tuples)
$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, $n, $d, $sd, $bd, $nc)
	  . "INSERT INTO items (id) SELECT i FROM generate_series($n + 1, $n + 50) i;"
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc)
	  . 'ALTER TABLE items SET (parallel_workers = 2);');

# Run CREATE INDEX (or other SQL) with DEBUG1 messages; returns (exit code, stderr).
sub build
{
	my ($sql, $settings) = @_;
	$settings //= '';
	my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1; $settings $sql");
	return ($ret, $err);
}

# recall@10 of the vector_l2_ops index at ef_search 10: the graph is searched, not scanned
sub low_ef_recall
{
	my ($table, $label) = @_;
	my $r = $node->safe_psql('postgres', "SELECT vx_recall('$table', 'v', '<->', 'queries', 10, 10)");
	cmp_ok($r, '>=', 0.85, "$label: recall\@10 of vector_l2_ops at ef_search 10 is $r (>= 0.85)");
}

my $launched = qr/DEBUG:  using 2 parallel workers\nDETAIL:  The leader scans too\./;
my $notice = qr/NOTICE:  hnsw graph no longer fits into maintenance_work_mem after \d+ tuples/;

# --- every opclass family, built in parallel
for my $ix (@HNSW_INDEXES)
{
	my ($ret, $err) = build(index_sql('items', $ix));
	is($ret, 0, "parallel build of $ix->[0] succeeds");
	like($err, $launched, "$ix->[0]: the build launched 2 parallel workers");
	unlike($err, $notice, "$ix->[0]: the graph fit in memory");
	check_index_scan($node, 'items', $ix, 'parallel build');
}
check_recall($node, 'items', 'parallel build');
check_verify($node, 'items', 'parallel build');
low_ef_recall('items', 'parallel build');
is( $node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname IN ('items', 'items_v_l2') ORDER BY relname}),
	"3050\n3000", 'parallel build: heap tuples and index tuples count every participant\'s rows');

# The same index built serially: no worker, same recall threshold.
$node->safe_psql('postgres', 'DROP INDEX items_v_l2');
my ($ret, $err, $r);
($ret, $err) = build(index_sql('items', $HNSW_INDEXES[0]), 'SET max_parallel_maintenance_workers = 0;');
is($ret, 0, 'serial build succeeds');
unlike($err, qr/using \d+ parallel workers/, 'max_parallel_maintenance_workers = 0: no parallel build');
check_recall($node, 'items', 'serial build', [ $HNSW_INDEXES[0] ]);

# --- CREATE INDEX CONCURRENTLY in parallel (an MVCC snapshot for the scan)
$node->safe_psql('postgres', 'DROP INDEX items_v_l2');
($ret, $err) = build('CREATE INDEX CONCURRENTLY items_v_l2 ON items USING hnsw (v vector_l2_ops);');
is($ret, 0, 'parallel CREATE INDEX CONCURRENTLY succeeds');
like($err, $launched, 'CREATE INDEX CONCURRENTLY launched 2 parallel workers');
check_recall($node, 'items', 'parallel CREATE INDEX CONCURRENTLY', [ $HNSW_INDEXES[0] ]);
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('items_v_l2')}),
	'', 'vx_hnsw_verify: the concurrent parallel build is healthy');

# --- spilling parallel builds, every opclass family. With m = 48 an element
# of 32 floats takes about 530 bytes in memory, so 1MB holds about 1900 of
# the 3000 rows (sparsevec slots are 8 kB: about 120); the rest are inserted
# on pages by all participants.
$node->safe_psql('postgres', q{
CREATE TABLE spill AS SELECT * FROM items WHERE v IS NOT NULL;
ALTER TABLE spill SET (parallel_workers = 2);});
for my $ix (@HNSW_INDEXES)
{
	my ($ret, $err) = build(index_sql('spill', $ix, 'm = 48, ef_construction = 96'), q{SET maintenance_work_mem = '1MB';});
	is($ret, 0, "spilling parallel build of $ix->[0] succeeds");
	like($err, $launched, "$ix->[0] spilling: the build launched 2 parallel workers");
	my @notices = $err =~ /$notice/g;
	is(scalar @notices, 1, "$ix->[0] spilling: the graph outgrew maintenance_work_mem, said once");
}
check_recall($node, 'spill', 'spilling parallel build');
check_verify($node, 'spill', 'spilling parallel build');
low_ef_recall('spill', 'spilling parallel build');
is($node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname = 'spill_v_l2'}),
	'3000', 'spilling parallel build: every row is indexed once');

# --- the default m: 4000 rows of 128 dimensions need about 3MB in memory,
# 1MB holds about a third; recall must hold at a small ef_search too
$node->safe_psql('postgres', q{
CREATE TABLE mem (id bigint PRIMARY KEY, v vector(128));
INSERT INTO mem SELECT i, vx_cvec(i, 128, 50)::vector FROM generate_series(1, 4000) i;
CREATE TABLE mem_queries AS SELECT i AS id, vx_cvec(i, 128, 50)::vector(128) AS v FROM generate_series(1000000001, 1000000050) i;
ALTER TABLE mem SET (parallel_workers = 2);});
($ret, $err) = build('CREATE INDEX mem_v_l2 ON mem USING hnsw (v vector_l2_ops);', q{SET maintenance_work_mem = '1MB';});
is($ret, 0, 'spilling parallel build with m = 16 succeeds');
like($err, $launched, 'm = 16 spilling: the build launched 2 parallel workers');
like($err, $notice, 'm = 16 spilling: the graph outgrew maintenance_work_mem');
for my $ef (100, 20)
{
	$r = $node->safe_psql('postgres', "SELECT vx_recall('mem', 'v', '<->', 'mem_queries', 10, $ef)");
	cmp_ok($r, '>=', $ef == 100 ? 0.95 : 0.85, "m = 16 spilling: recall\@10 at ef_search $ef is $r");
}
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('mem_v_l2')}), '', 'vx_hnsw_verify: m = 16 spilling build is healthy');

# --- the leader only waits: it flushes the graph from its wait loop
$node->safe_psql('postgres', 'DROP INDEX spill_v_l2');
($ret, $err) = build(index_sql('spill', $HNSW_INDEXES[0], 'm = 48, ef_construction = 96'),
	q{SET maintenance_work_mem = '1MB'; SET parallel_leader_participation = off;});
is($ret, 0, 'spilling parallel build without leader participation succeeds');
like($err, qr/DEBUG:  using 2 parallel workers\nDETAIL:  The leader only waits\./, 'the leader did not scan');
like($err, $notice, 'the graph outgrew maintenance_work_mem');
check_recall($node, 'spill', 'leader only waits', [ $HNSW_INDEXES[0] ]);
low_ef_recall('spill', 'leader only waits');
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('spill_v_l2')}),
	'', 'vx_hnsw_verify: the build without leader participation is healthy');
is($node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname = 'spill_v_l2'}),
	'3000', 'without leader participation: every row is indexed once');

# --- a serial build that spills vectors spanning pages (2500 floats, 10 kB:
# 1MB holds about 90 of the 300 rows)
$node->safe_psql('postgres', qq{
CREATE TABLE wide (id bigint PRIMARY KEY, v vector(2500));
INSERT INTO wide SELECT i, vx_cvec(i, 2500, 20)::vector FROM generate_series(1, 300) i;
CREATE TABLE wide_queries AS SELECT i AS id, vx_cvec(i, 2500, 20)::vector(2500) AS v FROM generate_series(1000000001, 1000000020) i;});
($ret, $err) = build('CREATE INDEX wide_v_l2 ON wide USING hnsw (v vector_l2_ops);', q{SET maintenance_work_mem = '1MB';});
is($ret, 0, 'spilling build of spanning vectors succeeds');
like($err, $notice, 'spanning vectors: the graph outgrew maintenance_work_mem');
$r = $node->safe_psql('postgres', q{SELECT vx_recall('wide', 'v', '<->', 'wide_queries', 10, 100)});
cmp_ok($r, '>=', 0.95, "spanning vectors, spilled: recall\@10 is $r (>= 0.95)");
is($node->safe_psql('postgres', q{SELECT * FROM vx_hnsw_verify('wide_v_l2')}),
	'', 'vx_hnsw_verify: the spilled build of spanning vectors is healthy');

# --- an error raised in a worker (only workers scan) reaches the client
$node->safe_psql('postgres', q{
CREATE TABLE bad (id int, s sparsevec(2000));
INSERT INTO bad SELECT i, CASE WHEN i % 100 = 0
	THEN (SELECT '{' || string_agg(j || ':1', ',') || '}/2000' FROM generate_series(1, 1001) j)::sparsevec
	ELSE ('{' || (i % 2000 + 1) || ':1}/2000')::sparsevec END
FROM generate_series(1, 2000) i;
ALTER TABLE bad SET (parallel_workers = 2);});
($ret, $err) = build('CREATE INDEX bad_s ON bad USING hnsw (s sparsevec_l2_ops);', 'SET parallel_leader_participation = off;');
isnt($ret, 0, 'a build whose workers fail fails');
like($err, qr/ERROR:  sparsevec cannot have more than 1000 non-zero elements for hnsw index/,
	'the worker\'s error reaches the client');
like($err, qr/CONTEXT:  parallel worker/, 'the error was raised in a parallel worker');
$node->safe_psql('postgres', 'DELETE FROM bad WHERE id % 100 = 0');
($ret, $err) = build('CREATE INDEX bad_s ON bad USING hnsw (s sparsevec_l2_ops);', 'SET parallel_leader_participation = off;');
is($ret, 0, 'after the failed build the server still builds in parallel');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_index WHERE indexrelid = 'bad_s'::regclass AND indisvalid}),
	'1', 'the new index is valid');

$node->stop;
done_testing();
