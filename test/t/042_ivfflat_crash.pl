# 042_ivfflat_crash.pl -- crash recovery of ivfflat indexes.
#
# 2000 rows of 32 dimensions in 10 clusters, ivfflat indexes on vector l2
# and halfvec cosine with 10 lists, wal_consistency_checking = 'generic'.
# Twice: pgbench inserts with 4 clients (new entry pages are linked while
# others append), then an immediate shutdown in the middle and a restart
# (crash recovery replays the GenericXLog records). After each recovery
# vx_ivfflat_verify finds nothing, every committed row is returned exactly
# once at probes = lists, and recall holds; inserts, deletes and VACUUM
# still work afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VxIvfflat;

my ($d, $nc, $lists) = (32, 10, 10);
my @indexes = @IVFFLAT_INDEXES[ 0, 5 ];

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\nwal_consistency_checking = 'generic'\n");
$node->start;
$node->safe_psql('postgres',
	ivfflat_setup_sql()
	  . ivf_items_sql('items', $d)
	  . ivf_fill_sql('items', 1, 2000, $d, $nc)
	  . ivf_queries_sql('queries', 30, $d, $nc));
$node->safe_psql('postgres', ivf_index_sql('items', $_, $lists)) for @indexes;

sub check_all
{
	my ($label) = @_;
	ivf_check_verify($node, 'items', $label);
	ivf_check_complete($node, 'items', $label, $lists, \@indexes);
	ivf_check_recall($node, 'items', $label, 3, indexes => \@indexes);
}

my $file = $node->basedir . '/042_insert.sql';
append_to_file($file, "\\set i random(10000000, 99999999)\n"
	  . "INSERT INTO items SELECT :i, a::vector, a::halfvec, binary_quantize(a::vector) FROM vx_cvec(:i, $d, $nc) a"
	  . " ON CONFLICT DO NOTHING;\n");
for my $round (1 .. 2)
{
	my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
	my ($out, $err) = ('', '');
	my $bench = IPC::Run::start(
		[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=120', '-f', $file, $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
	my $more = 300 * $round;
	ok($node->poll_query_until('postgres', "SELECT count(*) > $rows_before + $more FROM items"),
		"round $round: concurrent inserts are under way");
	my $log_offset = -s $node->logfile;
	$node->stop('immediate');
	$node->start;
	like(substr(slurp_file($node->logfile), $log_offset),
		qr/database system was not properly shut down; automatic recovery in progress/, "round $round: crash recovery ran");
	$bench->finish;
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
	cmp_ok($rows, '>', $rows_before + $more, "round $round: after recovery the table has $rows rows");
	check_all("round $round: after the crash during inserts");
}

$node->safe_psql('postgres', ivf_fill_sql('items', 20001, 20300, $d, $nc) . 'DELETE FROM items WHERE id % 7 = 0; VACUUM items;');
check_all('inserts, deletes and VACUUM after recovery');

done_testing();
