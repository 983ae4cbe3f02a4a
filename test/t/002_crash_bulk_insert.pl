# 002_crash_bulk_insert.pl -- crash recovery in the middle of a bulk insert.
#
# Committed rows (one batch before, one committed by another session while
# the bulk insert runs) must survive an immediate shutdown taken while a
# large INSERT ... SELECT of vector/halfvec/sparsevec rows is still running;
# the bulk insert's rows must be gone after recovery; and the table must
# still answer nearest-neighbour queries and accept new rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VxTest;

my ($d, $sd) = (32, 100);
my $bulk_from = 1_000_000;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;
$node->safe_psql('postgres', setup_sql() . table_sql('items', $d, $sd) . fill_sql('items', 1, 5000, $d, $sd));
my $size_before = $node->safe_psql('postgres', "SELECT pg_relation_size('items')");

# The bulk insert: far more rows than can be written before the crash.
my ($out, $err) = ('', '');
my $bulk = IPC::Run::start(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	  '-c', fill_sql('items', $bulk_from, $bulk_from + 20_000_000, $d, $sd) ],
	'>', \$out, '2>', \$err);

# Mid-insert: the statement is running and has written at least 4 MB.
ok( $node->poll_query_until('postgres', qq{
	SELECT pg_relation_size('items') > $size_before + 4 * 1024 * 1024
	   AND EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO items%')}),
	'bulk insert is under way');

# Another session commits a batch while the bulk insert runs.
$node->safe_psql('postgres', fill_sql('items', 6001, 7000, $d, $sd));
my $committed = $node->safe_psql('postgres', checksum_sql('items'));
like($committed, qr/^6000 [0-9a-f]{32}$/, 'the other session sees exactly the 6000 committed rows');

$node->stop('immediate');
$bulk->finish;
unlike($out, qr/INSERT 0/, 'bulk insert did not complete before the crash');
note("bulk psql stderr: $err");

$node->start;
like(slurp_file($node->logfile), qr/database system was not properly shut down; automatic recovery in progress/,
	'the restart ran crash recovery');

is($node->safe_psql('postgres', checksum_sql('items')), $committed,
	'committed rows are intact after recovery (count and checksum of all values)');
is($node->safe_psql('postgres', "SELECT count(*) FROM items WHERE id >= $bulk_from"),
	'0', 'no row of the interrupted bulk insert is visible');

# Still queryable: each row generated from 4242 is its own nearest neighbour.
is($node->safe_psql('postgres', "SELECT id FROM items ORDER BY embedding <-> vx_dense(4242, $d)::vector LIMIT 1"),
	'4242', 'vector nearest-neighbour query after recovery');
is($node->safe_psql('postgres', "SELECT id FROM items ORDER BY half <-> vx_dense(4242, $d)::halfvec LIMIT 1"),
	'4242', 'halfvec nearest-neighbour query after recovery');
is($node->safe_psql('postgres', "SELECT id FROM items ORDER BY sparse <-> vx_sparse(6500, $sd)::sparsevec, id LIMIT 1"),
	'6500', 'sparsevec nearest-neighbour query after recovery');

# New rows go in and read back; the dead bulk rows are vacuumed away.
$node->safe_psql('postgres', fill_sql('items', 99999999, 99999999, $d, $sd));
is($node->safe_psql('postgres', "SELECT id FROM items ORDER BY embedding <-> vx_dense(99999999, $d)::vector LIMIT 1"),
	'99999999', 'a new insert works after recovery');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '6001', 'row count after VACUUM');

$node->stop;
done_testing();
