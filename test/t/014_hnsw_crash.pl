# 014_hnsw_crash.pl -- crash recovery of hnsw indexes.
#
# 1. Immediate shutdown (three times) while pgbench runs concurrent inserts and updates
#    into a table with four hnsw indexes (vector, halfvec, sparsevec, bit)
#    and inserts into the tables of vectors whose slots straddle pages
#    (@WIDE_TABLES: 256 to 16,000 dimensions): after restart and
#    recovery every index passes vx_hnsw_verify, reaches its recall@10
#    against brute force and returns rows nearest first by the distance
#    recomputed from the heap row; and it still takes inserts and VACUUM.
#    wal_consistency_checking = 'generic' makes recovery compare every
#    replayed generic record's page with the logged image.
# 2. Immediate shutdown in the middle of VACUUM's index pass (slowed down by
#    vacuum_cost_delay), after 40% of the rows were deleted: the same checks
#    after recovery, and again after a VACUUM that completes; then inserts
#    into the straddling tables reuse the ids VACUUM freed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);
my @indexes = @HNSW_INDEXES[ 0, 3, 4, 5 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
# wal_consistency_checking also checks every generic record replayed by crash recovery
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\nwal_consistency_checking = 'generic'\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 2000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));
$node->safe_psql('postgres', index_sql('items', $_)) for @indexes;
$node->safe_psql('postgres', wide_sql(@$_)) for @WIDE_TABLES;

# All checks of the items indexes and the straddling tables' indexes.
sub check_all
{
	my ($label) = @_;
	check_verify($node, 'items', $label);
	check_recall($node, 'items', $label, \@indexes);
	check_order($node, 'items', $label, \@indexes);
	for my $w (@WIDE_TABLES)
	{
		my ($t, $wd) = @$w;
		check_verify($node, $t, $label);
		my $r = $node->safe_psql('postgres', qq{SELECT vx_recall('$t', 'v', '<->', '${t}_queries', 10, 100)});
		cmp_ok($r, '>=', 0.9, "$label: recall\@10 of the $wd-dimension vectors is $r (>= 0.9)");
	}
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
my $row = "vx_cvec(:i, $d, $nc)::vector, vx_cvec(:i, $d, $nc)::halfvec, vx_csparse(:i, $sd, $nc)::sparsevec,"
  . " vx_cbits(:i, $bd, $nc)::bit($bd)";
my %scripts = (
	'insert' => "\\set i random(10000000, 99999999)\nINSERT INTO items SELECT :i, $row ON CONFLICT DO NOTHING;\n",
	'update' => "\\set i random(1, 2000)\nUPDATE items SET (v, h, s, b) = (SELECT $row) WHERE id = :i + 0;\n",
	map {
		my ($t, $wd) = @$_;
		("wide_$t" => "\\set i random(10000000, 99999999)\n"
			  . "INSERT INTO $t SELECT :i, vx_cvec(:i, $wd, 20)::vector ON CONFLICT DO NOTHING;\n")
	} @WIDE_TABLES
);
my @files;
for my $name (sort keys %scripts)
{
	my $file = $node->basedir . "/014_$name.sql";
	append_to_file($file, $scripts{$name});
	push @files, '-f', $file . ($name =~ /^wide/ ? '@1' : '@4');
}
# three rounds: a crash at a different moment each time
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
$node->safe_psql('postgres', fill_items_sql('items', 20001, 20300, $d, $sd, $bd, $nc) . 'VACUUM items;');
check_verify($node, 'items', 'inserts and VACUUM after recovery');
check_recall($node, 'items', 'inserts and VACUUM after recovery', \@indexes);

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
# let the pass mark some records
$node->poll_query_until('postgres', q{SELECT pg_sleep(0.3) IS NOT NULL AND phase = 'vacuuming indexes' FROM pg_stat_progress_vacuum})
  or note('VACUUM left the index phase early');
crash_restart('crash during VACUUM');
eval { $vacuum->quit; };
check_all('after the crash during VACUUM');
$node->safe_psql('postgres', 'VACUUM items');
check_all('after a complete VACUUM');

# the straddling tables: deletes, VACUUM, then inserts into the freed ids (no growth)
for my $w (@WIDE_TABLES)
{
	my ($t, $wd, $n) = @$w;
	$node->safe_psql('postgres', "DELETE FROM $t WHERE id % 3 = 0; VACUUM $t;");
	my $size = $node->safe_psql('postgres', "SELECT pg_relation_size('${t}_v_l2')");
	$node->safe_psql('postgres', fill_wide_sql($t, $wd, 200000001, 200000000 + int($n / 4)));
	is($node->safe_psql('postgres', "SELECT pg_relation_size('${t}_v_l2')"), $size,
		"$wd dimensions: inserts after VACUUM reuse freed ids, the index does not grow");
}
check_all('after deletes, VACUUM and inserts into freed ids');

$node->stop;
done_testing();
