# 001_replica.pl -- streaming replication of vector data.
#
# A primary (wal_consistency_checking = 'all', so the standby verifies every
# replayed page image) and a streaming standby. After each round of
# inserts, updates, deletes and VACUUM on the primary, the standby must
# replay to the primary's LSN and then return exactly the same rows for the
# same exact nearest-neighbour queries (every distance operator of vector,
# halfvec and sparsevec) and the same checksum over all values. The
# primary's vector <-> results are also checked against an L2 oracle
# computed in plain SQL, so a broken extension cannot pass by being
# consistently wrong on both nodes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxTest;

my ($d, $sd, $k) = (16, 40, 10);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'all'\njit = off\n");
$primary->start;
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', setup_sql() . table_sql('items', $d, $sd));
# Row 0 holds literal values whose text output is known exactly.
$primary->safe_psql('postgres', q{INSERT INTO items VALUES (0,
	'[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]', '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]', '{1:1.5,3:-2,40:4}/40')});
$primary->safe_psql('postgres', fill_sql('items', 1, 1000, $d, $sd));

# The same exact k-NN queries, as [label, sql].
my $q_far = $primary->safe_psql('postgres', "SELECT vx_dense(123456, $d)");
my $q_row = $primary->safe_psql('postgres', "SELECT vx_dense(500, $d)");
my $s_far = $primary->safe_psql('postgres', "SELECT vx_sparse(123456, $sd)");
my @queries;
for my $op ('<->', '<#>', '<=>', '<+>')
{
	push @queries, ["vector $op", knn_sql('items', 'embedding', 'vector', $op, $q_far, $k)];
	push @queries, ["halfvec $op", knn_sql('items', 'half', 'halfvec', $op, $q_far, $k)];
	push @queries, ["sparsevec $op", knn_sql('items', 'sparse', 'sparsevec', $op, $s_far, $k)];
}
push @queries, ['vector <=> filtered', knn_sql('items', 'embedding', 'vector', '<=>', $q_row, $k, 'id % 3 = 0')];

# Wait for replay, then compare every query and the checksum on both nodes.
sub compare_nodes
{
	my ($round) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $q (@queries)
	{
		my ($label, $sql) = @$q;
		my $p = $primary->safe_psql('postgres', $sql);
		my $s = $standby->safe_psql('postgres', $sql);
		my @rows = split /\n/, $p;
		is(scalar @rows, $k, "$round: $label returns $k rows on the primary");
		is($s, $p, "$round: $label identical on the standby");
	}
	my $sum = checksum_sql('items');
	is($standby->safe_psql('postgres', $sum), $primary->safe_psql('postgres', $sum),
		"$round: checksum of all values identical on the standby");

	# Oracle: the vector <-> ids match L2 recomputed in float8.
	my ($label, $sql) = @{ $queries[0] };
	my $ids = join ',', map { (split /\|/)[0] } split /\n/, $primary->safe_psql('postgres', $sql);
	is($ids, $primary->safe_psql('postgres', l2_oracle_sql('items', $q_far, $k)),
		"$round: vector <-> matches the SQL L2 oracle");
}

# Known values survive the round trip through WAL.
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is( $standby->safe_psql('postgres', 'SELECT embedding, half, sparse FROM items WHERE id = 0'),
	'[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]|[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]|{1:1.5,3:-2,40:4}/40',
	'literal row reads back exactly on the standby');
is( $standby->safe_psql('postgres',
		"SELECT id, embedding <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' FROM items ORDER BY 2 LIMIT 1"),
	'0|0', 'standby finds row 0 at distance 0');

for my $col ('embedding', 'half', 'sparse')
{
	for my $op ('<->', '<+>')
	{
		is( $standby->safe_psql('postgres',
				"SELECT id, $col $op (SELECT $col FROM items WHERE id = 500) FROM items ORDER BY 2 LIMIT 1"),
			'500|0', "standby: $col $op finds row 500 itself at distance 0");
	}
}

compare_nodes('after insert');

# Updates (new values), deletes, more inserts, VACUUM.
$primary->safe_psql('postgres', qq{
UPDATE items SET embedding = vx_dense(id + 5000, $d)::vector, half = vx_dense(id + 7000, $d)::halfvec,
	sparse = vx_sparse(id + 9000, $sd)::sparsevec WHERE id % 7 = 0 AND id > 0;
DELETE FROM items WHERE id % 11 = 0 AND id > 0;
} . fill_sql('items', 1001, 1500, $d, $sd));
$primary->safe_psql('postgres', 'VACUUM items');
compare_nodes('after update/delete/vacuum');

# A second cycle after VACUUM reuses the freed space.
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id BETWEEN 200 AND 400;' . fill_sql('items', 2001, 2300, $d, $sd));
$primary->safe_psql('postgres', 'VACUUM items');
compare_nodes('after space reuse');

# 1001 rows (0..1000) - 90 multiples of 11 + 500 - (201 - 18 already gone) + 300
is($standby->safe_psql('postgres', 'SELECT count(*) FROM items'),
	1528, 'standby row count');

$standby->stop;
$primary->stop;
done_testing();
