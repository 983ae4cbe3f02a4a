# 051_upgrade_pg_upgrade.pl -- pg_upgrade of a database that carries an
# older version's catalog, then ALTER EXTENSION vector UPDATE.
#
# pg_upgrade restores the old catalog in binary-upgrade mode: every function
# is recreated with the C symbol the old catalog names, so each one must
# exist in our vector.so (pgvector 0.5.0 and 0.7.4 as rebuilt by the
# test-only base scripts of TAP 050, and our own first 0.8.1). After the
# upgrade the tables read back, their hnsw and ivfflat indexes answer the same
# as an exact scan, and the update ends at a fresh install's catalog
# (test/upgrade/catalog.sql).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{VX_ROOT} or die "VX_ROOT not set\n";
my $catalog_sql = slurp_file("$root/test/upgrade/catalog.sql");
my %bases = (v050 => '0.5.0', v074 => '0.7.4', ours => 'ours-a');

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$old->start;
for my $db (sort keys %bases)
{
	$old->safe_psql('postgres', "CREATE DATABASE $db");
	$old->safe_psql($db, "CREATE EXTENSION vector VERSION '$bases{$db}'");
	$old->safe_psql($db, "UPDATE pg_extension SET extversion = '0.8.1' WHERE extname = 'vector'") if $db eq 'ours';
	$old->safe_psql($db, q{
		CREATE TABLE t (id int, v vector(3));
		INSERT INTO t SELECT i, ('[' || i % 17 || ',' || i % 5 || ',' || -(i % 11) || ']')::vector
		FROM generate_series(1, 300) i;
		CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
	});
	$old->safe_psql($db, 'CREATE INDEX t_ivf ON t USING ivfflat (v vector_l2_ops) WITH (lists = 3)')
	  unless $db eq 'ours';
	$old->safe_psql($db, q{
		CREATE TABLE h (id int, h halfvec(2), s sparsevec(4));
		INSERT INTO h VALUES (1, '[1,2]', '{1:1,4:2}/4'), (2, '[3,4]', '{2:5}/4');
	}) unless $db eq 'v050';
}
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");

my $bindir = $new->config_data('--bindir');
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-s', $new->host,
		'-p', $old->port, '-P', $new->port
	],
	'pg_upgrade of databases with pgvector 0.5.0, 0.7.4 and our first 0.8.1 catalogs');
$new->start;

$new->safe_psql('postgres', 'CREATE DATABASE fresh');
$new->safe_psql('fresh', 'CREATE EXTENSION vector');
my $fresh = $new->safe_psql('fresh', $catalog_sql);

# the distances of the 5 nearest rows (ties make ids ambiguous)
my $q = q{SELECT string_agg(d::text, ',' ORDER BY d) FROM (SELECT v <-> '[3,2,-4.5]' AS d FROM t ORDER BY v <-> '[3,2,-4.5]' LIMIT 5) s};
for my $db (sort keys %bases)
{
	my $exact = $new->safe_psql($db, "SET enable_indexscan = off; SET enable_bitmapscan = off; $q");
	is($new->safe_psql($db, 'SELECT count(*), sum(vector_dims(v)) FROM t'), '300|900', "$db: rows kept");

	$new->safe_psql($db, 'ALTER EXTENSION vector UPDATE');
	is($new->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'vector'"), '0.8.6', "$db: updated");
	is($new->safe_psql($db, $catalog_sql), $fresh, "$db: catalog equals a fresh install's");

	# each index in turn (the other one dropped inside a rolled-back transaction)
	for my $idx ('t_hnsw', 't_ivf')
	{
		next if $idx eq 't_ivf' && $db eq 'ours';
		my $other = $idx eq 't_hnsw' ? 't_ivf' : 't_hnsw';
		my $drop = $db eq 'ours' ? '' : "DROP INDEX $other;";
		my $out = $new->safe_psql($db, "BEGIN; $drop SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = 300;"
			  . " SET LOCAL ivfflat.probes = 3; EXPLAIN (COSTS OFF) $q; $q; ROLLBACK;");
		like($out, qr/Index Scan using $idx/, "$db: $idx used");
		like($out, qr/\n\Q$exact\E$/, "$db: $idx finds the exact nearest distances");
	}
	is($new->safe_psql($db, q{SELECT string_agg(h::text || ' ' || s::text, ';' ORDER BY id) FROM h}),
		'[1,2] {1:1,4:2}/4;[3,4] {2:5}/4', "$db: halfvec and sparsevec rows kept") unless $db eq 'v050';
	is($new->safe_psql($db, q{INSERT INTO t VALUES (301, '[100,100,100]'); SET enable_seqscan = off; SET ivfflat.probes = 3;
		SELECT id FROM t ORDER BY v <-> '[99,99,99]' LIMIT 1}), '301', "$db: a row inserted after the upgrade found through the index");
}

$new->stop;
done_testing();
