# 019_hnsw_concurrent_build.pl -- CREATE INDEX CONCURRENTLY and REINDEX
# CONCURRENTLY of hnsw indexes while other sessions write.
#
# pgbench runs inserts, updates (which change the vectors, so never HOT) and
# deletes on a table of 3000 clustered rows while hnsw indexes of four types
# (vector, halfvec, sparsevec, bit) are created CONCURRENTLY one after the
# other, and then rebuilt with REINDEX INDEX CONCURRENTLY and REINDEX TABLE
# CONCURRENTLY. Rows written between the build's snapshot and the end reach
# the index through validate_index, which collects the index's heap TIDs with
# ambulkdelete: an element the callback is not shown would be inserted twice,
# a row missed would be absent. After the writers stop and a VACUUM, each
# index must count exactly the table's rows (pg_class.reltuples of the index,
# set from the live elements VACUUM counted), be valid and ready, leave no
# _ccnew/_ccold index behind, pass vx_hnsw_verify, be the plan's index scan,
# reach its recall@10 against brute force and return rows nearest first by the
# distance recomputed from the heap row.
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
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 3000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc));

# The writers: pgbench in the background until it is stopped.
my $row = "vx_cvec(:j, $d, $nc)::vector, vx_cvec(:j, $d, $nc)::halfvec, vx_csparse(:j, $sd, $nc)::sparsevec,"
  . " vx_cbits(:j, $bd, $nc)::bit($bd)";
my %scripts = (
	'insert@4' => "\\set j random(10000000, 99999999)\nINSERT INTO items SELECT :j, $row ON CONFLICT DO NOTHING;\n",
	'update@2' => "\\set i random(1, 3000)\n\\set j random(10000000, 99999999)\n"
	  . "UPDATE items SET (v, h, s, b) = (SELECT $row) WHERE id = :i;\n",
	'delete@1' => "\\set i random(1, 3000)\nDELETE FROM items WHERE id = :i;\n",
);
my @files;
for my $name (sort keys %scripts)
{
	my ($base, $weight) = split /@/, $name;
	my $file = $node->basedir . "/019_$base.sql";
	append_to_file($file, $scripts{$name});
	push @files, '-f', "$file\@$weight";
}
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '--client=2', '--jobs=2', '--time=900', @files, $node->connstr('postgres') ],
	'>', \$bench_out, '2>', \$bench_err);
ok($node->poll_query_until('postgres', 'SELECT count(*) > 3050 FROM items'), 'the writers are under way');

# Rows written (inserted or updated) by transactions that began after transaction $since.
sub writes_since
{
	my ($since) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM items WHERE xmin::text::bigint > $since");
}

# One index at a time, each while the writers run.
for my $ix (@indexes)
{
	my ($name) = @$ix;
	my $xid = $node->safe_psql('postgres', 'SELECT txid_current()');
	my $sql = index_sql('items', $ix);
	$sql =~ s/^CREATE INDEX/CREATE INDEX CONCURRENTLY/;
	$node->safe_psql('postgres', $sql);
	cmp_ok(writes_since($xid), '>', 0, "CREATE INDEX CONCURRENTLY $name: rows were written during the build");
}
# Rebuilt concurrently, one index and then the whole table.
{
	my $xid = $node->safe_psql('postgres', 'SELECT txid_current()');
	$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY items_v_l2');
	cmp_ok(writes_since($xid), '>', 0, 'REINDEX INDEX CONCURRENTLY items_v_l2: rows were written during the rebuild');
	$xid = $node->safe_psql('postgres', 'SELECT txid_current()');
	$node->safe_psql('postgres', 'REINDEX TABLE CONCURRENTLY items');
	cmp_ok(writes_since($xid), '>', 0, 'REINDEX TABLE CONCURRENTLY items: rows were written during the rebuild');
}

# Stop the writers (their open transactions abort) and clean up.
$bench->signal('TERM');
$bench->finish;
note("pgbench stderr: $bench_err") if $bench_err ne '';
$node->safe_psql('postgres', 'VACUUM items');

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', 3000, "the table has $rows rows");
is( $node->safe_psql('postgres', q{
SELECT string_agg(c.relname || ' valid ' || i.indisvalid || ' ready ' || i.indisready, ', ' ORDER BY c.relname)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'items'::regclass}),
	'items_b_ham valid true ready true, items_h_l2 valid true ready true, items_pkey valid true ready true, '
	  . 'items_s_l2 valid true ready true, items_v_l2 valid true ready true',
	'every index is valid and ready, with its own name (no _ccnew or _ccold left)');
for my $ix (@indexes)
{
	my ($name) = @$ix;
	is($node->safe_psql('postgres', "SELECT reltuples::bigint FROM pg_class WHERE relname = '$name'"),
		$rows, "$name holds exactly one element per row");
}
check_verify($node, 'items', 'after the concurrent builds');
check_index_scan($node, 'items', $_, 'after the concurrent builds') for @indexes;
check_recall($node, 'items', 'after the concurrent builds', \@indexes);
check_order($node, 'items', 'after the concurrent builds', \@indexes);

# The indexes go on taking writes.
$node->safe_psql('postgres', fill_items_sql('items', 100001, 100300, $d, $sd, $bd, $nc) . 'VACUUM items;');
check_verify($node, 'items', 'inserts after the concurrent builds');
for my $ix (@indexes)
{
	my ($name) = @$ix;
	is($node->safe_psql('postgres', "SELECT reltuples::bigint FROM pg_class WHERE relname = '$name'"),
		$rows + 300, "$name: 300 more elements after 300 more rows");
}

$node->stop;
done_testing();
