# 032_diskann_concurrency.pl -- concurrent inserts, updates, deletes, queries
# and VACUUM on a table with diskann indexes; inserts take no index-wide lock
# held to the end of their transaction.
#
# 1. pgbench runs 4 clients for 25 seconds over a mix of scripts on 3000
#    clustered rows (64 dimensions, VxDiskann.pm) with diskann indexes on
#    vector l2 and halfvec cosine, and storage_layout plain ones on vector
#    cosine and halfvec l2 (re-ranks read vectors while inserts reuse freed
#    ids and overwrite theirs): inserts of new rows, updates that change a
#    row's vectors, deletes, nearest-neighbour queries through each index
#    (one with a WHERE filter) and an occasional VACUUM. pgbench must finish
#    without any failed transaction; afterwards every index passes
#    vx_diskann_verify, reaches its recall@10 against brute force and
#    returns rows nearest first by their recomputed distance; again after a
#    final VACUUM. Then vx_diskann_verify runs among inserts, deletes and
#    VACUUM (structure only: soft findings are expected while others write)
#    and must find no problem.
# 2. Session A inserts a row and keeps its transaction open; session B
#    inserts rows under a statement_timeout, which must not fire (no lock of
#    A's insert is held to its commit); then A commits and every row is
#    found through both indexes. The same into an empty index (whose first
#    insert takes the update lock only while it sets the entry point).
# 3. A build (30000 rows) completes although, while it builds its graph,
#    its backend is asked to log its memory contexts, or another database is
#    dropped (a ProcSignalBarrier).
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
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\ndeadlock_timeout = 100ms\n");
$node->start;

$node->safe_psql('postgres',
	diskann_setup_sql()
	  . da_items_sql('items', $d)
	  . da_fill_sql('items', 1, 3000, $d, $nc)
	  . da_queries_sql('queries', 50, $d, $nc));
$node->safe_psql('postgres', da_index_sql('items', $_)) for @mo_indexes;
$node->safe_psql('postgres', da_index_sql('items', $_, "storage_layout = 'plain'")) for @plain_indexes;

# 1. the mix
my $row = "SELECT a::vector, a::halfvec FROM vx_cvec(:j, $d, $nc) a";
my %scripts = (
	'032_insert@8' => "\\set j random(10000000, 99999999)\n"
	  . "INSERT INTO items SELECT :j, a::vector, a::halfvec FROM vx_cvec(:j, $d, $nc) a ON CONFLICT DO NOTHING;\n",
	'032_update@3' => "\\set i random(1, 3000)\n\\set j random(10000000, 99999999)\n"
	  . "UPDATE items SET (v, h) = ($row) WHERE id = :i;\n",
	'032_delete@2' => "\\set i random(1, 3000)\nDELETE FROM items WHERE id = :i;\n",
	'032_query@8' => "\\set q random(1000000001, 1000000050)\nSET enable_seqscan = off;\n"
	  . join('', map { my ($n, $c, $o, $op) = @$_;
		  "SELECT id FROM items ORDER BY $c $op (SELECT $c FROM queries WHERE id = :q) LIMIT 10;\n" } @indexes)
	  . "SELECT id FROM items WHERE id % 20 = 0 ORDER BY v <-> (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n",
	'032_vacuum@1' => "VACUUM items;\n",
);
$node->pgbench('--no-vacuum --client=4 --jobs=2 --time=25', 0,
	[ qr{processed: \d+}, qr{number of failed transactions: 0 } ],
	[qr{^$}], 'pgbench mix of inserts, updates, deletes, queries and VACUUM', \%scripts);

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', 3000, "the table grew to $rows rows");
da_check_verify($node, 'items', 'after the concurrent mix', 0);
da_check_index_scan($node, 'items', $_, 'after the concurrent mix') for @indexes;
da_check_recall($node, 'items', 'after the concurrent mix', \@indexes);
da_check_order($node, 'items', 'after the concurrent mix', [ $mo_indexes[0], $plain_indexes[0] ]);

$node->safe_psql('postgres', 'VACUUM items');
da_check_verify($node, 'items', 'after a final VACUUM', 0);
da_check_recall($node, 'items', 'after a final VACUUM', \@indexes);
da_check_order($node, 'items', 'after a final VACUUM', [ $mo_indexes[0], $plain_indexes[0] ]);

# vx_diskann_verify while others insert and VACUUM: structure only (tolerance
# 1); a problem aborts the client with an error that quotes it (its text is
# no integer). Links to ids allocated after it read the metapage and to nodes
# written between its two passes must not be reported.
{
	$node->pgbench('--no-vacuum --client=3 --jobs=2 --time=8', 0,
		[ qr{processed: \d+}, qr{number of failed transactions: 0 } ],
		[qr{^$}], 'pgbench: vx_diskann_verify finds no problem while others insert and VACUUM', {
			'032_verify_insert@6' => $scripts{'032_insert@8'},
			'032_verify_delete@2' => $scripts{'032_delete@2'},
			'032_verify_vacuum@1' => "VACUUM items;\n",
			'032_verify@2' => "SELECT coalesce(string_agg(i.indexrelid::regclass || ': ' || p, '; '), '0')::int"
			  . " FROM pg_index i CROSS JOIN LATERAL vx_diskann_verify(i.indexrelid, 1) p"
			  . " WHERE i.indrelid = 'items'::regclass AND i.indexrelid <> 'items_pkey'::regclass;\n",
		});
}
da_check_verify($node, 'items', 'after verify among writers', 0);

# 2. no index-wide lock held to the end of an insert's transaction
$node->safe_psql('postgres', da_items_sql('empty', $d));
$node->safe_psql('postgres', da_index_sql('empty', $_)) for @mo_indexes;
$node->safe_psql('postgres', da_index_sql('empty', $_, "storage_layout = 'plain'")) for @plain_indexes;

# Every row of $table with id in $ids is its own nearest neighbour through each index.
sub found_all
{
	my ($table, $ids, $label) = @_;
	for my $ix (@indexes)
	{
		my ($name, $col, $opclass, $op) = @$ix;
		is( $node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT string_agg(t.id::text, ',' ORDER BY t.id) FROM $table t
WHERE t.id IN ($ids) AND t.id = (SELECT id FROM $table ORDER BY $col $op t.$col LIMIT 1)}),
			$ids, "$label: $opclass finds every row as its own nearest neighbour");
	}
}

for my $table ('items', 'empty')
{
	my $label = $table eq 'empty' ? 'into an empty index' : 'into a built index';
	my $a = $node->background_psql('postgres');
	$a->query_safe(
		"BEGIN; INSERT INTO $table SELECT 900000001, a::vector, a::halfvec FROM vx_cvec(900000001, $d, $nc) a;");
	my ($ret, $out, $err) = $node->psql('postgres', qq{SET statement_timeout = '10s';
INSERT INTO $table SELECT i, a::vector, a::halfvec FROM generate_series(900000002, 900000006) i, LATERAL vx_cvec(i, $d, $nc) a;
SELECT count(*) FROM $table WHERE id > 900000000;});
	is($ret, 0, "$label: session B's inserts complete while session A's insert is not committed");
	is($out, '5', "$label: session B sees its 5 rows, not A's") or diag($err);
	$a->query_safe('COMMIT');
	$a->quit;
	found_all($table, join(',', 900000001 .. 900000006), "$label, after A committed");
	da_check_verify($node, $table, $label, 0);
}

# 3. a build is not cut short by another session's harmless signal to the
# building backend: pg_log_backend_memory_contexts (served by
# CHECK_FOR_INTERRUPTS without cancelling anything) and the ProcSignalBarrier
# of a DROP DATABASE (of another database) both raise InterruptPending
$node->safe_psql('postgres', "CREATE TABLE b AS SELECT i AS id, a::vector($d) AS v FROM generate_series(1, 30000) i,"
	  . " LATERAL vx_cvec(i, $d, $nc) a; CREATE DATABASE scratch;");
for my $case (
	[ 'its backend logs its memory contexts',
		q{SELECT pg_log_backend_memory_contexts(pid) FROM pg_stat_progress_create_index}, qr/logging memory contexts of PID/ ],
	[ 'another database is dropped', q{DROP DATABASE scratch}, undef ])
{
	my ($what, $sql, $log_re) = @$case;
	my $log_offset = -s $node->logfile;
	my $build = $node->background_psql('postgres', on_error_stop => 0);
	$build->query_until(qr/build started/, q{\echo build started
CREATE INDEX b_v_l2 ON b USING diskann (v vector_l2_ops);
});
	ok( $node->poll_query_until('postgres',
			q{SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE phase = 'building index: building graph'}),
		"build while $what: the build is building its graph");
	$node->safe_psql('postgres', $sql);
	my $built = $build->query(q{SELECT count(*) FROM pg_class WHERE relname = 'b_v_l2'});
	$build->quit;
	like(substr(slurp_file($node->logfile), $log_offset), $log_re, "build while $what: the signal was served")
	  if defined $log_re;
	{
		is($built, '1', "build while $what: CREATE INDEX completed");
		unlike(substr(slurp_file($node->logfile), $log_offset), qr/diskann index build was interrupted/,
			"build while $what: no \"diskann index build was interrupted\" error");
	}
	$node->safe_psql('postgres', 'DROP INDEX IF EXISTS b_v_l2');
}

$node->stop;
done_testing();
