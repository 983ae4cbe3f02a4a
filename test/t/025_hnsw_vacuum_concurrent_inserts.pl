# 025_hnsw_vacuum_concurrent_inserts.pl -- VACUUM, again and again, while
# inserts run: no corruption, no error, the graph stays searchable.
#
# pgvector 0.8.x fixed bugs where VACUUM's repair raced with inserts (links
# to elements being freed, entry points replaced under an insert, freed
# space reused while an insert still linked to it). Here pgbench inserts with
# 3 clients (40 rows a second in all) while another session repeats, 8 times: delete a random third of
# some rows and of the rows just inserted, VACUUM (which marks, repairs,
# moves the entry point and frees ids that the inserts then reuse). Indexes:
# vector L2 at m = 4 (a sparse graph, many levels), vector cosine, bit
# Hamming and sparsevec at the defaults. Afterwards: pgbench had no failed
# transaction, every VACUUM succeeded, the server log shows no error or
# crash, vx_hnsw_verify finds no structural problem and (nothing running)
# recall@10 against brute force is high, and a full iterative scan returns
# nearly every row (95%: clustered sparsevec rows inserted at this rate
# leave a few percent without incoming links).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VxHnsw;

my ($d, $sd, $bd, $nc) = (32, 200, 128, 100);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\ndeadlock_timeout = 100ms\n");
$node->start;

$node->safe_psql('postgres',
	hnsw_setup_sql()
	  . items_sql('items', $d, $sd, $bd)
	  . fill_items_sql('items', 1, 3000, $d, $sd, $bd, $nc)
	  . queries_sql('queries', 50, $d, $sd, $bd, $nc)
	  . q{CREATE INDEX items_v_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX items_v_cos ON items USING hnsw (v vector_cosine_ops);
CREATE INDEX items_b_ham ON items USING hnsw (b bit_hamming_ops);
CREATE INDEX items_s_l2 ON items USING hnsw (s sparsevec_l2_ops);});
my @indexes = (['items_v_l2', 'v', '<->', 0.85], ['items_v_cos', 'v', '<=>', 0.95], ['items_b_ham', 'b', '<~>', 0.9],
	['items_s_l2', 's', '<->', 0.9]);

# the inserts: new ids from a sequence, each row of the clustered set
$node->safe_psql('postgres', 'CREATE SEQUENCE ids START 100000;');
my $dir = PostgreSQL::Test::Utils::tempdir;
my $file = "$dir/insert.sql";
open(my $fh, '>', $file) or die;
print $fh "INSERT INTO items SELECT i, vx_cvec(i, $d, $nc)::vector, vx_cvec(i, $d, $nc)::halfvec,"
  . " vx_csparse(i, $sd, $nc)::sparsevec, vx_cbits(i, $bd, $nc)::bit($bd) FROM (SELECT nextval('ids') AS i) s;\n";
close($fh);

my ($out, $err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '--client=3', '--jobs=2', '--rate=40', '--time=600', '-f', $file, $node->connstr('postgres') ],
	'>', \$out, '2>', \$err);

my $vacuums_ok = 0;
for my $round (1 .. 8)
{
	$node->poll_query_until('postgres', "SELECT count(*) >= 100 FROM items WHERE id >= 100000 + 150 * ($round - 1)")
	  or die 'inserts do not progress';
	my ($ret, $o, $e) = $node->psql('postgres', qq{
DELETE FROM items WHERE id < 100000 AND vx_u(id, $round, 99) < 0.1;
DELETE FROM items WHERE id >= 100000 AND vx_u(id, $round, 98) < 0.3;
VACUUM items;});
	$vacuums_ok++ if $ret == 0 && $e eq '';
	note("round $round: $e") if $e ne '';
}
is($vacuums_ok, 8, '8 rounds of DELETE and VACUUM during the inserts succeeded');

# stop the inserts: end their sessions, then wait for pgbench
# (pgbench's sessions carry the test's application_name: every other client backend is one of them)
my $others = q{FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()};
$node->safe_psql('postgres', "SELECT pg_terminate_backend(pid) $others");
$bench->finish;
like($out . $err, qr/processed: \d+/, 'pgbench ran');
unlike($err, qr/ERROR(?!:  terminating connection due to administrator command)/, 'no insert failed');
$node->poll_query_until('postgres', "SELECT count(*) = 0 $others");

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
my $new = $node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id >= 100000');
cmp_ok($new, '>', 200, "$new inserted rows survive ($rows rows in all)");

my $log = slurp_file($node->logfile);
my @errors = grep { !/terminating connection due to administrator command/ } ($log =~ /^.*(?:ERROR|PANIC|TRAP|FATAL|terminated by signal).*$/mg);
is(join("\n", @errors), '', 'the server log shows no error');

sub check_all
{
	my ($label) = @_;
	for my $ix (@indexes) {
		my ($name, $col, $op, $min) = @$ix;
		# structure (tolerance 1: every link resolves, versions match, entry point and metapage sane);
		# reachability is what the full scan below measures
		is($node->safe_psql('postgres', "SELECT string_agg(problem, '; ') FROM vx_hnsw_verify('$name', 1)"), '',
			"$label: $name: vx_hnsw_verify finds no structural problem");
		my $r = $node->safe_psql('postgres', "SELECT vx_recall('items', '$col', '$op', 'queries', 10, 100)");
		cmp_ok($r, '>=', $min, "$label: $name: recall\@10 at ef_search 100 is $r (>= $min)");
		# everything reachable comes back from a full iterative scan
		my $found = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 1000000; SET work_mem = '64MB';
SELECT count(*) FROM (SELECT id FROM items ORDER BY $col $op (SELECT $col FROM queries LIMIT 1)) s});
		cmp_ok($found, '>=', 0.95 * $rows, "$label: $name: a full scan returns $found of $rows rows (>= 95%)");
		cmp_ok($found, '<=', $rows, "$label: $name: and no row twice");
	}
}
check_all('after VACUUM with concurrent inserts');

# one more VACUUM with nothing running, and more inserts into the freed ids
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 5 = 0; VACUUM items;'
	  . fill_items_sql('items', 200001, 200500, $d, $sd, $bd, $nc));
$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
check_all('after a final VACUUM and inserts');

$node->stop;
done_testing();
